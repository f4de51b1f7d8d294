import { CliError, awsErrorName, errorMessage } from '../errors.js';
import { describeOp } from '../ui/provision.js';
import type { ProvisionOp } from './steps.js';
import type { Applied, Plan, PlanAction, ProvisionContext, StackOutputs, Step, StepResult } from './types.js';

/** A step whose observation type is sealed in: the runner sees plans of any op, nothing else. */
export interface RunnableStep {
  id: string;
  resource: string;
  name(context: ProvisionContext): string;
  prepare(context: ProvisionContext, inputs: Readonly<StackOutputs>): Promise<PreparedStep>;
}

/** A step observed and planned, ready to apply. */
export interface PreparedStep {
  observed: unknown;
  plan: Plan<ProvisionOp>;
  apply(progress: (text: string) => void): Promise<Applied | undefined>;
  /** What later steps learn when apply does not run. */
  outputs(): StackOutputs;
}

export function defineStep<Observed, Op extends ProvisionOp>(step: Step<Observed, Op>): RunnableStep {
  return {
    id: step.id,
    resource: step.resource,
    name: (context) => step.name(context),
    async prepare(context, inputs) {
      const observed = await step.observe(context, inputs);
      const plan = step.plan(context, observed, inputs);
      return {
        observed,
        plan,
        apply: (progress) => {
          if (plan.action === 'no-op' || plan.action === 'blocked') return Promise.resolve(undefined);
          return step.apply(context, observed, plan, inputs, progress);
        },
        outputs: () => step.outputs?.(context, observed, plan, inputs) ?? {},
      };
    },
  };
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

/** What a run tells its caller as it goes (the command wires it to spinners; operations print nothing). */
export type RunEvent =
  | { type: 'started'; id: string; label: string }
  | { type: 'applying'; id: string; label: string; action: PlanAction }
  | { type: 'progress'; id: string; label: string; text: string }
  | { type: 'finished'; id: string; label: string; result: StepResult }
  | { type: 'failed'; id: string; label: string; error: unknown }
  /** Ctrl-C came while this step was observed: it is left as it was. */
  | { type: 'not-applied'; id: string; label: string };

export interface RunOptions {
  /** Plan only: observe and plan every step, change nothing. */
  dryRun: boolean;
  /** Report failures as results and continue (status) instead of stopping (init, destroy). */
  continueOnError?: boolean;
  onEvent?: ((event: RunEvent) => void) | undefined;
  /** The error to throw when a run stops at `failed` (the failed step first in `remaining`); default the error itself. */
  explainStop?: ((error: unknown, remaining: readonly { resource: string; name: string }[]) => unknown) | undefined;
  /**
   * Ctrl-C: the step under way finishes (its request is not cut off, and every step converges on a rerun), no
   * later step starts, and the results so far are returned; the caller compares their count with the steps'.
   */
  signal?: AbortSignal | undefined;
}

export interface RunStepResult extends StepResult<ProvisionOp> {
  /** The step's observation, for status to check links. */
  observed?: unknown;
}

function blockedError(plan: Extract<Plan<ProvisionOp>, { action: 'blocked' }>): CliError {
  return new CliError(plan.blocker.code, plan.reason, { suggestion: plan.blocker.suggestion });
}

/**
 * Observes, plans and (unless a dry run) applies each step in order. Each step gets the outputs of the steps
 * before it; a blocked plan fails a real run with its typed error and is reported by a dry run and status.
 */
export async function runSteps(context: ProvisionContext, steps: readonly RunnableStep[], options: RunOptions): Promise<RunStepResult[]> {
  const results: RunStepResult[] = [];
  let inputs: Readonly<StackOutputs> = {};
  const emit = options.onEvent ?? (() => undefined);
  for (const [index, step] of steps.entries()) {
    if (options.signal?.aborted) break;
    const name = step.name(context);
    const label = `${step.resource} ${name}`;
    emit({ type: 'started', id: step.id, label });
    const started = performance.now();
    let prepared: PreparedStep | undefined;
    try {
      prepared = await step.prepare(context, inputs);
      const { plan } = prepared;
      if (plan.action === 'blocked' && !options.dryRun && !options.continueOnError) throw blockedError(plan);
      // Interrupted while this step observed: nothing of it is changed, so it counts as not run.
      if (options.signal?.aborted && plan.action !== 'no-op') {
        emit({ type: 'not-applied', id: step.id, label });
        break;
      }
      const apply = !options.dryRun && plan.action !== 'no-op' && plan.action !== 'blocked';
      let applied: Applied | undefined;
      if (apply) {
        emit({ type: 'applying', id: step.id, label, action: plan.action });
        applied = await prepared.apply((text) => { emit({ type: 'progress', id: step.id, label, text }); });
      }
      inputs = { ...inputs, ...(applied?.outputs ?? prepared.outputs()) };
      const result = stepResult(step, name, plan, started, {
        status: plan.action === 'blocked' ? 'blocked' : plan.action === 'no-op' ? 'unchanged' : apply ? 'applied' : 'planned',
        observed: prepared.observed,
        ...(applied?.detail === undefined ? {} : { detail: applied.detail }),
      });
      results.push(result);
      emit({ type: 'finished', id: step.id, label, result });
    } catch (caught) {
      const error = explainError(caught, step.resource);
      emit({ type: 'failed', id: step.id, label, error });
      if (!options.continueOnError) {
        const remaining = steps.slice(index).map((s) => ({ resource: s.resource, name: s.name(context) }));
        throw options.explainStop ? options.explainStop(error, remaining) : error;
      }
      const plan = prepared?.plan;
      results.push({
        ...stepResult(step, name, plan ?? { action: 'update', reason: '', ops: [] }, started, { status: 'failed', observed: prepared?.observed }),
        reason: errorMessage(error),
        error: error instanceof CliError ? error.code : (awsErrorName(error) ?? 'ERROR'),
      });
    }
  }
  return results;
}

function stepResult(
  step: RunnableStep,
  name: string,
  plan: Plan<ProvisionOp>,
  started: number,
  extra: { status: StepResult['status']; observed: unknown; detail?: string },
): RunStepResult {
  const changes = plan.ops.flatMap(describeOp);
  return {
    id: step.id,
    resource: step.resource,
    name,
    action: plan.action,
    // An update without its own reason is explained by its changes.
    reason: plan.reason === '' ? changes.join('; ') : plan.reason,
    ops: plan.ops,
    changes,
    status: extra.status,
    durationMs: Math.round(performance.now() - started),
    ...(extra.detail === undefined ? {} : { detail: extra.detail }),
    ...(plan.action === 'no-op' && plan.kept ? { kept: true as const } : {}),
    ...(plan.action === 'blocked' ? { error: plan.blocker.code } : {}),
    observed: extra.observed,
  };
}

/** Results without the raw observations, for --json and callers. */
export function publicResults(results: readonly RunStepResult[]): StepResult<ProvisionOp>[] {
  return results.map(({ observed: _observed, ...rest }) => rest);
}
