import type { TableDescription } from '@aws-sdk/client-dynamodb';
import { createTable, deleteTable, describeTable, useOnDemandBilling, waitForTableActive } from '../aws/dynamodb.js';
import { CliError } from '../errors.js';
import { TABLE_HASH_KEY } from './stack.js';
import { blocked, noop, opsPlan, type Plan, type Step } from './types.js';

export interface DesiredTable {
  name: string;
  hashKey: string;
}

export type TableOp =
  | { kind: 'create-table'; hashKey: string }
  | { kind: 'wait-until-active'; status: string }
  | { kind: 'switch-to-on-demand'; from: string };

export interface TableRemovalOp { kind: 'delete-table' }

/** Why the table cannot be used as it is, or undefined. */
function tableConflict(desired: DesiredTable, observed: TableDescription): { reason: string; blocker: { code: string; suggestion: string } } | undefined {
  const keys = observed.KeySchema ?? [];
  const hash = keys.find((k) => k.KeyType === 'HASH');
  const hashType = observed.AttributeDefinitions?.find((a) => a.AttributeName === hash?.AttributeName)?.AttributeType;
  if (keys.length !== 1 || hash?.AttributeName !== desired.hashKey || hashType !== 'S') {
    const actual = keys.map((k) => `${k.AttributeName ?? '?'} (${k.KeyType ?? '?'})`).join(', ');
    return {
      reason: `The table "${desired.name}" exists with key ${actual}${hashType ? ` of type ${hashType}` : ''}, not the hash key ${desired.hashKey} (S) the pipeline writes.`,
      blocker: { code: 'TABLE_KEY_SCHEMA_CONFLICT', suggestion: 'Choose another table name with --table, or delete that table if it is unused.' },
    };
  }
  if (observed.TableStatus === 'DELETING') {
    return {
      reason: `The table "${desired.name}" is being deleted.`,
      blocker: { code: 'TABLE_BEING_DELETED', suggestion: 'Wait until it is gone, then run `img-resizer init` again.' },
    };
  }
  return undefined;
}

export function planTable(desired: DesiredTable, observed: TableDescription | undefined): Plan<TableOp> {
  if (!observed) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-table', hashKey: desired.hashKey }] };
  const conflict = tableConflict(desired, observed);
  if (conflict) return blocked(conflict.reason, conflict.blocker);
  const ops: TableOp[] = [];
  if (observed.TableStatus !== undefined && observed.TableStatus !== 'ACTIVE') ops.push({ kind: 'wait-until-active', status: observed.TableStatus });
  const billing = observed.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
  if (billing !== 'PAY_PER_REQUEST') ops.push({ kind: 'switch-to-on-demand', from: billing });
  return opsPlan(ops, `on-demand, hash key ${desired.hashKey}, ACTIVE`);
}

export const tableStep: Step<TableDescription | undefined, TableOp> = {
  id: 'table',
  resource: 'Metadata table',
  name: (context) => context.stack.settings.table,
  observe: (context) => describeTable(context.clients.dynamodb, context.stack.settings.table),
  plan: (context, observed) => planTable({ name: context.stack.settings.table, hashKey: TABLE_HASH_KEY }, observed),
  async apply(context, _observed, plan, _inputs, progress) {
    const { dynamodb } = context.clients;
    const { table } = context.stack.settings;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-table': {
          progress('creating');
          const created = await createTable(dynamodb, table, op.hashKey, context.stack.tags);
          // Another run created it meanwhile: make sure it is the table we would have made.
          const current = created ? undefined : await describeTable(dynamodb, table);
          const conflict = current && tableConflict({ name: table, hashKey: op.hashKey }, current);
          if (conflict) throw new CliError(conflict.blocker.code, conflict.reason, { suggestion: conflict.blocker.suggestion });
          break;
        }
        case 'wait-until-active':
          break;
        case 'switch-to-on-demand':
          progress('waiting until ACTIVE');
          await waitForTableActive(dynamodb, table);
          await useOnDemandBilling(dynamodb, table);
          break;
      }
    }
    progress('waiting until ACTIVE');
    await waitForTableActive(dynamodb, table);
    return undefined;
  },
};

export function planTableRemoval(observed: TableDescription | undefined): Plan<TableRemovalOp> {
  return observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-table' }] } : noop('already gone');
}

export const tableRemovalStep: Step<TableDescription | undefined, TableRemovalOp> = {
  id: 'table',
  resource: 'Metadata table',
  name: (context) => context.stack.settings.table,
  observe: (context) => describeTable(context.clients.dynamodb, context.stack.settings.table),
  plan: (_context, observed) => planTableRemoval(observed),
  async apply(context, _observed, _plan, _inputs, progress) {
    progress('deleting and waiting until gone');
    await deleteTable(context.clients.dynamodb, context.stack.settings.table);
    return undefined;
  },
};
