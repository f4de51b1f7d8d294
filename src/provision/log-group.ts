import type { LogGroup } from '@aws-sdk/client-cloudwatch-logs';
import { createLogGroup, deleteLogGroup, describeLogGroup, putRetentionPolicy } from '../aws/logs.js';
import { operationalSettings } from '../config/settings.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';

export type LogGroupOp =
  | { kind: 'create-log-group'; retentionDays: number }
  | { kind: 'set-log-retention'; from: number | undefined; to: number };

export interface LogGroupRemovalOp { kind: 'delete-log-group' }

/** `reasonWhenNone`: what the no-op says (the group exists with the wanted retention). */
export function planLogGroup(retentionDays: number, observed: LogGroup | undefined, reasonWhenNone = `keeps logs ${retentionDays} days`): Plan<LogGroupOp> {
  if (!observed) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-log-group', retentionDays }] };
  // Without a retention CloudWatch keeps logs (and bills for them) forever.
  const ops: LogGroupOp[] = observed.retentionInDays === retentionDays ? [] : [{ kind: 'set-log-retention', from: observed.retentionInDays, to: retentionDays }];
  return opsPlan(ops, reasonWhenNone);
}

/** One of the stack's log groups (the function's, the API's access logs, the workflow's executions). */
export interface LogGroupStepSpec {
  id: string;
  resource: string;
  logGroupName(context: ProvisionContext): string;
  retentionDays(context: ProvisionContext): number;
  /** The no-op plan's reason, given the retention. */
  reasonWhenNone(retentionDays: number): string;
  /** A group only some stacks have (workflow mode): neither observed nor changed otherwise, the no-op saying why. */
  only?: { when(context: ProvisionContext): boolean; otherwise: string };
  /** What later steps learn from it (the API stage's access-log destination). */
  outputs?(context: ProvisionContext): StackOutputs;
}

function applies(spec: Pick<LogGroupStepSpec, 'only'>, context: ProvisionContext): boolean {
  return spec.only === undefined || spec.only.when(context);
}

export function logGroupStepFor(spec: LogGroupStepSpec): Step<LogGroup | undefined, LogGroupOp> {
  return {
    id: spec.id,
    resource: spec.resource,
    name: (context) => spec.logGroupName(context),
    observe: (context) => (applies(spec, context) ? describeLogGroup(context.clients.logs, spec.logGroupName(context)) : Promise.resolve(undefined)),
    plan(context, observed) {
      if (spec.only !== undefined && !spec.only.when(context)) return noop(spec.only.otherwise);
      const retentionDays = spec.retentionDays(context);
      return planLogGroup(retentionDays, observed, spec.reasonWhenNone(retentionDays));
    },
    async apply(context, _observed, plan, _inputs, progress) {
      const { logs } = context.clients;
      const name = spec.logGroupName(context);
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
      return spec.outputs ? { outputs: spec.outputs(context) } : undefined;
    },
    outputs: (context) => spec.outputs?.(context) ?? {},
  };
}

/**
 * Its removal: destroy's, or init's cleanup (`idSuffix`) of a group the settings no longer want, observed only
 * when `when` holds.
 */
export function logGroupRemovalStepFor(
  spec: Pick<LogGroupStepSpec, 'id' | 'resource' | 'logGroupName'>,
  when: (context: ProvisionContext) => boolean = () => true,
  idSuffix = '',
): Step<LogGroup | undefined, LogGroupRemovalOp> {
  return {
    id: `${spec.id}${idSuffix}`,
    resource: spec.resource,
    name: (context) => spec.logGroupName(context),
    observe: (context) => (when(context) ? describeLogGroup(context.clients.logs, spec.logGroupName(context)) : Promise.resolve(undefined)),
    plan: (_context, observed): Plan<LogGroupRemovalOp> =>
      observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-log-group' }] } : noop('already gone'),
    async apply(context) {
      await deleteLogGroup(context.clients.logs, spec.logGroupName(context));
      return undefined;
    },
  };
}

const functionLogGroup: LogGroupStepSpec = {
  id: 'log-group',
  resource: 'Function log group',
  logGroupName: (context) => context.stack.logGroupName,
  retentionDays: (context) => operationalSettings(context.stack.settings).logRetentionDays,
  reasonWhenNone: (days) => `keeps logs ${days} days`,
};

/** The function's log group, made before the function so its logs never land in a group without retention. */
export const logGroupStep = logGroupStepFor(functionLogGroup);
export const logGroupRemovalStep = logGroupRemovalStepFor(functionLogGroup);
