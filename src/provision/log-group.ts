import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { createLogGroup, deleteLogGroup, describeLogGroup, putRetentionPolicy } from '../aws/logs.js';
import { operationalSettings } from '../config/settings.js';
import { noop, opsPlan, type Plan, type Step } from './types.js';

export type LogGroupOp =
  | { kind: 'create-log-group'; retentionDays: number }
  | { kind: 'set-log-retention'; from: number | undefined; to: number };

export interface LogGroupRemovalOp { kind: 'delete-log-group' }

export function planLogGroup(retentionDays: number, observed: LogGroup | undefined): Plan<LogGroupOp> {
  if (!observed) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-log-group', retentionDays }] };
  // Without a retention CloudWatch keeps logs (and bills for them) forever.
  const ops: LogGroupOp[] = observed.retentionInDays === retentionDays ? [] : [{ kind: 'set-log-retention', from: observed.retentionInDays, to: retentionDays }];
  return opsPlan(ops, `keeps logs ${retentionDays} days`);
}

/** The function's log group, made before the function so its logs never land in a group without retention. */
export const logGroupStep: Step<LogGroup | undefined, LogGroupOp> = {
  id: 'log-group',
  resource: 'Function log group',
  name: (context) => context.stack.logGroupName,
  observe: (context) => describeLogGroup(context.clients.logs, context.stack.logGroupName),
  plan: (context, observed) => planLogGroup(operationalSettings(context.stack.settings).logRetentionDays, observed),
  async apply(context, _observed, plan, _inputs, progress) {
    const { logs } = context.clients;
    const name = context.stack.logGroupName;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-log-group':
          progress('creating');
          await createLogGroup(logs, name, context.stack.tags);
          await putRetentionPolicy(logs, name, op.retentionDays);
          break;
        case 'set-log-retention':
          await putRetentionPolicy(logs, name, op.to);
          break;
      }
    }
    return undefined;
  },
};

export const logGroupRemovalStep: Step<LogGroup | undefined, LogGroupRemovalOp> = {
  id: 'log-group',
  resource: 'Function log group',
  name: (context) => context.stack.logGroupName,
  observe: (context) => describeLogGroup(context.clients.logs, context.stack.logGroupName),
  plan: (_context, observed): Plan<LogGroupRemovalOp> =>
    observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-log-group' }] } : noop('already gone'),
  async apply(context) {
    await deleteLogGroup(context.clients.logs, context.stack.logGroupName);
    return undefined;
  },
};
