import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { createTable, describeTable, useOnDemandBilling, waitForTableActive } from '../aws/dynamodb.js';
import { CliError } from '../errors.js';
import { TABLE_HASH_KEY } from './stack.js';
import { changesPlan, type Plan, type Step } from './types.js';

export interface DesiredTable {
  name: string;
  hashKey: string;
}

export function planTable(desired: DesiredTable, observed: TableDescription | undefined): Plan {
  if (!observed) {
    return { action: 'create', reason: 'does not exist', changes: [`on-demand, hash key ${desired.hashKey} (S)`] };
  }
  const keys = observed.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === 'HASH');
  const hashType = observed.AttributeDefinitions?.find((a) => a.AttributeName === hash?.AttributeName)?.AttributeType;
  if (keys.length !== 1 || hash?.AttributeName !== desired.hashKey || hashType !== 'S') {
    const actual = keys.map((k) => `${k.AttributeName ?? '?'} (${k.KeyType ?? '?'})`).join(', ');
    throw new CliError(
      'TABLE_KEY_SCHEMA_CONFLICT',
      `The table "${desired.name}" exists with key ${actual}${hashType ? ` of type ${hashType}` : ''}, not the hash key ${desired.hashKey} (S) the pipeline writes.`,
      { suggestion: 'Choose another table name with --table, or delete that table if it is unused.' },
    );
  }
  if (observed.TableStatus === 'DELETING') {
    throw new CliError('TABLE_BEING_DELETED', `The table "${desired.name}" is being deleted.`, {
      suggestion: 'Wait until it is gone, then run `img-resizer init` again.',
    });
  }
  const changes: string[] = [];
  if (observed.TableStatus !== undefined && observed.TableStatus !== 'ACTIVE') changes.push(`status ${observed.TableStatus}: wait until ACTIVE`);
  const billing = observed.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
  if (billing !== 'PAY_PER_REQUEST') changes.push(`billing ${billing} → on-demand`);
  return changesPlan(changes, `on-demand, hash key ${desired.hashKey}, ACTIVE`);
}

export const tableStep: Step<TableDescription | undefined> = {
  id: 'table',
  resource: 'Metadata table',
  name: (context) => context.stack.settings.table,
  observe: (context) => describeTable(context.clients.dynamodb, context.stack.settings.table),
  plan: (context, observed) => planTable({ name: context.stack.settings.table, hashKey: TABLE_HASH_KEY }, observed),
  async apply(context, _observed, plan, progress) {
    const { dynamodb } = context.clients;
    const { table } = context.stack.settings;
    if (plan.action === 'create') {
      progress('creating');
      const created = await createTable(dynamodb, table, TABLE_HASH_KEY, context.stack.tags);
      // Another run created it meanwhile: make sure it is the table we would have made.
      if (!created) planTable({ name: table, hashKey: TABLE_HASH_KEY }, await describeTable(dynamodb, table));
    }
    progress('waiting until ACTIVE');
    await waitForTableActive(dynamodb, table);
    if (plan.changes.some((c) => c.startsWith('billing'))) {
      await useOnDemandBilling(dynamodb, table);
      await waitForTableActive(dynamodb, table);
    }
  },
};
