import type { StackSettings } from '../config/settings.js';
import { CliError, awsErrorName, errorMessage } from '../errors.js';
import { renderTable } from '../ui/output.js';
import { bucketStep } from './bucket.js';
import { functionStep } from './function.js';
import { layerStep } from './layer.js';
import { permissionStep } from './permission.js';
import { roleStep } from './role.js';
import { tableStep } from './table.js';
import { triggerStep } from './trigger.js';
import { noop, type Plan, type ProvisionContext, type Step, type StepResult } from './types.js';

/** Account and partition come from STS (the context read them); every ARN is built with the partition. */
export const identityStep: Step<{ account: string; partition: string }> = {
  id: 'identity',
  resource: 'Account',
  name: (context) => context.stack.account,
  observe: (context) => Promise.resolve({ account: context.stack.account, partition: context.stack.partition }),
  plan: (_context, observed) => noop(`partition ${observed.partition}, region ${_context.stack.region}`),
  apply: () => Promise.resolve(),
};

/** Every step, in dependency order: what the function needs exists before it, the trigger comes last. */
export function provisionSteps(settings: StackSettings): Step[] {
  const buckets = settings.sourceBucket === settings.destBucket ? [bucketStep('source')] : [bucketStep('source'), bucketStep('dest')];
  return [identityStep, ...buckets, tableStep, roleStep, layerStep, functionStep, permissionStep, triggerStep] as Step[];
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
]);

/**
 * The SDK already retries throttled requests with backoff; when AWS keeps throttling past those retries,
 * say so plainly. Nothing is half-done that a rerun would not finish, because every step converges.
 */
export function explainError(error: unknown, step: string): unknown {
  if (error instanceof CliError) return error;
  const name = awsErrorName(error);
  if (name !== undefined && THROTTLING.has(name)) {
    return new CliError('THROTTLED', `AWS kept throttling requests (${name}) at step "${step}".`, {
      suggestion: 'Wait a minute and run the command again; it continues where it stopped.',
      cause: error,
    });
  }
  return error;
}

export interface RunOptions {
  /** Plan only: observe and plan every step, change nothing. */
  dryRun: boolean;
  /** Report failures as results and continue (status) instead of stopping (init). */
  continueOnError?: boolean;
  /** Spinner lines per step (init); status prints its own table instead. */
  showTasks?: boolean;
}

export interface RunStepResult extends StepResult {
  /** The step's observation, for status to check links. */
  observed?: unknown;
}

/** Observes, plans and (unless a dry run) applies each step in order, one spinner per step. */
export async function runSteps(context: ProvisionContext, steps: readonly Step[], options: RunOptions): Promise<RunStepResult[]> {
  const results: RunStepResult[] = [];
  for (const step of steps) {
    const name = step.name(context);
    const label = `${step.resource} ${name}`;
    const task = options.showTasks ? context.output.task(`${label}: checking`) : undefined;
    const started = performance.now();
    let plan: Plan | undefined;
    let observed: unknown;
    try {
      observed = await step.observe(context);
      plan = step.plan(context, observed);
      const apply = !options.dryRun && plan.action !== 'no-op';
      if (apply) {
        task?.update(`${label}: ${plan.action === 'create' ? 'creating' : 'updating'}`);
        await step.apply(context, observed, plan, (text) => task?.update(`${label}: ${text}`));
      }
      step.settle?.(context, observed, plan, apply);
      const result: RunStepResult = {
        id: step.id,
        resource: step.resource,
        name,
        action: plan.action,
        reason: plan.reason,
        changes: plan.changes,
        status: plan.action === 'no-op' ? 'unchanged' : apply ? 'applied' : 'planned',
        durationMs: Math.round(performance.now() - started),
        observed,
      };
      results.push(result);
      const line = `${label}: ${describeOutcome(result)}`;
      if (result.status === 'applied') task?.succeed(line);
      else task?.skip(line);
    } catch (caught) {
      const error = explainError(caught, step.resource);
      task?.fail(`${label}: ${errorMessage(error)}`);
      if (!options.continueOnError) throw error;
      results.push({
        id: step.id,
        resource: step.resource,
        name,
        action: plan?.action ?? 'update',
        reason: errorMessage(error),
        changes: plan?.changes ?? [],
        status: 'failed',
        durationMs: Math.round(performance.now() - started),
        error: error instanceof CliError ? error.code : (awsErrorName(error) ?? 'ERROR'),
        observed,
      });
    }
  }
  return results;
}

export function describeOutcome(result: StepResult): string {
  const detail = result.action === 'no-op' ? result.reason : result.changes.length > 0 ? result.changes.join('; ') : result.reason;
  switch (result.status) {
    case 'applied':
      return `${result.action === 'create' ? 'created' : 'updated'} (${detail})`;
    case 'planned':
      return `will ${result.action} (${detail})`;
    case 'unchanged':
      return `up to date (${detail})`;
    case 'failed':
      return `failed: ${result.reason}`;
  }
}

/** The summary table at the end of a run. */
export function summaryTable(results: readonly StepResult[]): string {
  const verb = (r: StepResult): string => {
    if (r.status === 'failed') return 'failed';
    if (r.action === 'no-op') return 'up to date';
    if (r.status === 'planned') return `will ${r.action}`;
    return r.action === 'create' ? 'created' : 'updated';
  };
  const detail = (r: StepResult): string => (r.action === 'no-op' || r.status === 'failed' ? r.reason : r.changes.join('; ') || r.reason);
  return renderTable(
    ['Resource', 'Name', 'Action', 'Detail'],
    results.map((r) => [r.resource, r.name, verb(r), truncate(detail(r), 100)]),
  );
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Results without the raw observations, for --json. */
export function publicResults(results: readonly RunStepResult[]): StepResult[] {
  return results.map(({ observed: _observed, ...rest }) => rest);
}
