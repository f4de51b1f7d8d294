import { pointInTimeRecoveryEnabled, setPointInTimeRecovery } from '../aws/dynamodb.js';
import { operationalSettings } from '../config/settings.js';
import { noop, type Plan, type Step } from './types.js';

export interface TableRecoveryOp { kind: 'set-point-in-time-recovery'; enabled: boolean }

/** `observed` undefined: the table does not exist yet (a dry run before it is created). */
export function planTableRecovery(wanted: boolean, observed: boolean | undefined): Plan<TableRecoveryOp> {
  if (observed === wanted) return noop(wanted ? 'point-in-time recovery on' : 'point-in-time recovery off (--no-pitr)');
  if (observed === undefined) {
    return wanted ? { action: 'create', reason: 'with the table', ops: [{ kind: 'set-point-in-time-recovery', enabled: true }] } : noop('point-in-time recovery off (--no-pitr)');
  }
  return { action: 'update', reason: '', ops: [{ kind: 'set-point-in-time-recovery', enabled: wanted }] };
}

/** Point-in-time recovery on the metadata table (35 days of restorable history); goes with the table on destroy. */
export const tableRecoveryStep: Step<boolean | undefined, TableRecoveryOp> = {
  id: 'table-recovery',
  resource: 'Table recovery',
  name: (context) => context.stack.settings.table,
  observe: (context) => pointInTimeRecoveryEnabled(context.clients.dynamodb, context.stack.settings.table),
  plan: (context, observed) => planTableRecovery(operationalSettings(context.stack.settings).pointInTimeRecovery, observed),
  async apply(context, _observed, plan) {
    for (const op of plan.ops) await setPointInTimeRecovery(context.clients.dynamodb, context.stack.settings.table, op.enabled);
    return undefined;
  },
};
