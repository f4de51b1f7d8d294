import { inquirerPrompter, loadStackSettings, type Prompter, type StackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode, UsageError, errorMessage } from '../errors.js';
import type { WaitOptions } from '../aws/cloudfront.js';
import type { RemovalRetry } from '../provision/bucket.js';
import { publicResults, runSteps, type RunEvent } from '../provision/runner.js';
import { stackModel } from '../provision/stack.js';
import { removalSteps, type ProvisionOp } from '../provision/steps.js';
import type { StepResult } from '../provision/types.js';
import { checkRegion, targetRegion } from './provision-target.js';

export interface DestroyOptions {
  keepBuckets?: boolean | undefined;
  /** Observe and plan only: say what would be removed, change nothing, ask nothing. */
  dryRun?: boolean | undefined;
  /** Asks for confirmation; default inquirer when the context may prompt. */
  prompter?: Prompter | undefined;
  /** How a bucket that keeps filling is emptied again (tests shorten the waits). */
  bucketRetry?: RemovalRetry | undefined;
  /** --no-wait: disable the CDN distribution and leave it (CloudFront takes minutes); a later destroy deletes it. */
  noWait?: boolean | undefined;
  cdnWait?: WaitOptions | undefined;
  onEvent?: ((event: RunEvent) => void) | undefined;
}

export interface DestroyedResource {
  resource: string;
  name: string;
  /** deleted: removed now; gone: was already absent; kept: left in place (and why, in detail); planned: dry run. */
  outcome: 'deleted' | 'gone' | 'kept' | 'planned';
  detail: string;
}

interface DestroyBase {
  exitCode: ExitCode;
  settings: StackSettings;
  keepBuckets: boolean;
}

export type DestroyResult =
  | (DestroyBase & { cancelled: true; dryRun: false; steps: []; resources: []; left: [] })
  | (DestroyBase & {
      cancelled: false;
      dryRun: boolean;
      /** Per step, as init reports them. */
      steps: StepResult<ProvisionOp>[];
      resources: DestroyedResource[];
      /** What destroy deliberately does not delete (the function's log group), one line each. */
      left: string[];
    });

function destroyedResource(step: StepResult<ProvisionOp>): DestroyedResource {
  const base = { resource: step.resource, name: step.name };
  if (step.action === 'no-op') return step.kept ? { ...base, outcome: 'kept', detail: step.reason } : { ...base, outcome: 'gone', detail: '' };
  if (step.status === 'planned') return { ...base, outcome: 'planned', detail: step.changes.join('; ') };
  // An adopted bucket: kept, with what init changed put back.
  if (step.action === 'update') return { ...base, outcome: 'kept', detail: step.detail ?? step.reason };
  return { ...base, outcome: 'deleted', detail: step.detail ?? '' };
}

/** Destroy stopped part-way: what failed, what is still there, and that running it again finishes. */
function incomplete(error: unknown, remaining: readonly { resource: string; name: string }[]): CliError {
  const still = remaining.map((r) => `${r.resource} ${r.name}`).join(', ');
  return new CliError(
    'DESTROY_INCOMPLETE',
    `destroy stopped: ${errorMessage(error)} Not removed yet: ${still}. Running \`img-resizer destroy\` again finishes: it skips what is already gone.`,
    {
      suggestion: error instanceof CliError && error.suggestion ? error.suggestion : 'Fix the cause above, then run `img-resizer destroy` again.',
      cause: error,
    },
  );
}

/**
 * Removes what `init` created with the same runner: each step observes, plans (reasons: "already gone",
 * "adopted bucket, kept", "--keep-buckets") and applies, trigger first. A dry run changes nothing and asks nothing.
 */
export async function runDestroy(context: AppContext, options: DestroyOptions = {}): Promise<DestroyResult> {
  const settings = await loadStackSettings(context.settingsFile);
  const keepBuckets = Boolean(options.keepBuckets);
  const dryRun = Boolean(options.dryRun);
  const clients = await context.clients();
  const identity = await context.identity();
  const region = await targetRegion(context);
  checkRegion(settings, region, context.settingsFile);
  const stack = stackModel(settings, identity, region);
  const buckets = [...new Set([settings.sourceBucket, settings.destBucket])];

  if (!dryRun && !context.yes) {
    const prompter = options.prompter ?? (context.canPrompt ? inquirerPrompter : undefined);
    if (!prompter) {
      throw new UsageError('destroy deletes resources and needs confirmation.', 'Run it at a terminal, or add --yes (or see what it would remove with --dry-run).');
    }
    const what = keepBuckets
      ? `the function, layer, role, table and trigger of stack "${settings.stackName}" (buckets kept)`
      : `stack "${settings.stackName}", including buckets ${buckets.join(' and ')} with every object in them`;
    if (!(await prompter.confirm(`Delete ${what}?`, false))) {
      return { exitCode: ExitCode.Ok, cancelled: true, dryRun: false, settings, keepBuckets, steps: [], resources: [], left: [] };
    }
  }

  const steps = publicResults(
    await runSteps({ clients, stack, artifacts: undefined, ownership: await context.ownershipRecord() }, removalSteps(settings, { keepBuckets, bucketRetry: options.bucketRetry, noWait: options.noWait, cdnWait: options.cdnWait }), {
      dryRun,
      onEvent: options.onEvent,
      explainStop: incomplete,
    }),
  );
  // The function's log group is init's now (made with a retention), so destroy removes it like the rest;
  // `left` stays for anything destroy deliberately leaves.
  const left: string[] = [];
  return { exitCode: ExitCode.Ok, cancelled: false, dryRun, settings, keepBuckets, steps, resources: steps.map(destroyedResource), left };
}
