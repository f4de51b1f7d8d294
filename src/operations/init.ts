import { buildArtifacts } from '../artifact/build.js';
import type { WaitOptions } from '../aws/cloudfront.js';
import type { PropagationRetry } from '../aws/lambda.js';
import {
  inquirerPrompter,
  resolveInitSettings,
  resolveRuntime,
  stackRuntime,
  writeSettingsFile,
  type Architecture,
  type Prompter,
  type SettingsFlags,
  type SettingsSources,
  type StackSettings,
} from '../config/settings.js';
import type { AppContext, Identity } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { publicResults, runSteps, type RunEvent } from '../provision/runner.js';
import { environmentProblem, stackModel } from '../provision/stack.js';
import { provisionSteps, type ProvisionOp } from '../provision/steps.js';
import type { DeployArtifacts, ProvisionContext, StepResult } from '../provision/types.js';
import { memoryFitWarning, type InitWarning } from './memory-fit.js';
import { checkRegion, targetRegion } from './provision-target.js';
import type { LambdaRuntime } from '../runtimes.js';
import { workflowModeFor } from '../config/stack-settings.js';

/** What init reports as it goes: the settings file written, then each step. */
/** `interrupted` comes from the command (it owns Ctrl-C), so the same reporter says it where the spinners are. */
export type InitEvent = RunEvent | { type: 'settings-written'; file: string } | { type: 'interrupted' };

export interface InitOptions extends SettingsFlags {
  dryRun?: boolean | undefined;
  /**
   * Shown the plan before anything changes (interactive init); false cancels, and nothing is written. Not asked
   * when there is nothing to change or the plan is blocked (the run stops there anyway).
   */
  confirmPlan?: ((steps: readonly StepResult<ProvisionOp>[]) => Promise<boolean>) | undefined;
  /** Environment to read IMG_RESIZER_* settings from (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Asks for missing values; default inquirer when the context may prompt. */
  prompter?: Prompter | undefined;
  /** Already-built packages (tests build once); default: build them now with `build`. */
  artifacts?: DeployArtifacts | undefined;
  /** Builds the packages for the stack's architecture and runtime (the command passes one that shows progress); default silent. */
  build?: ((arch: Architecture, runtime: LambdaRuntime) => Promise<DeployArtifacts>) | undefined;
  /** IAM propagation retry timing (tests shorten it). */
  propagationRetry?: PropagationRetry | undefined;
  onEvent?: ((event: InitEvent) => void) | undefined;
  /** --wait-cdn: wait until CloudFront has deployed the distribution (minutes on AWS). */
  waitCdn?: boolean | undefined;
  /** Poll timing of that wait (tests shorten it). */
  cdnWait?: WaitOptions | undefined;
  /** Ctrl-C: the step under way finishes, no later step is applied, and the result lists what was not. */
  signal?: AbortSignal | undefined;
}

export interface InitResult {
  exitCode: ExitCode;
  /**
   * up-to-date: nothing to change; planned: a dry run's plan; applied: changes made; blocked: a dry run found a
   * conflict (a real run fails with the conflict's error instead); interrupted: Ctrl-C stopped it between steps.
   */
  outcome: 'up-to-date' | 'planned' | 'applied' | 'blocked' | 'cancelled' | 'interrupted';
  dryRun: boolean;
  /** True when nothing needed to change. */
  upToDate: boolean;
  settings: StackSettings;
  settingsFile: string;
  settingsWritten: boolean;
  sources: SettingsSources;
  /** How to run the CLI again on this stack (for the printed next step). */
  commandLine: string;
  steps: StepResult<ProvisionOp>[];
  /** The steps an interrupted run did not get to (empty otherwise): running init again applies them. */
  notApplied?: { resource: string; name: string }[];
  /** Settings applied anyway that the operator should hear about (a pixel limit the memory does not hold). */
  warnings?: InitWarning[] | undefined;
}

const NOT_SETTINGS = new Set(['confirmPlan', 'dryRun', 'env', 'prompter', 'artifacts', 'build', 'propagationRetry', 'onEvent', 'waitCdn', 'cdnWait', 'signal']);

function settingsFlags(options: InitOptions): SettingsFlags {
  const flags: SettingsFlags = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !NOT_SETTINGS.has(key)) (flags as Record<string, unknown>)[key] = value;
  }
  return flags;
}

/**
 * Resolves the settings, writes them (so an interrupted run can still be destroyed), builds the packages
 * and converges every resource. A dry run observes and plans only: no request that changes anything.
 */
export async function runInit(context: AppContext, options: InitOptions = {}): Promise<InitResult> {
  const dryRun = Boolean(options.dryRun);
  const file = await context.readSettings();
  const flags = settingsFlags(options);
  // Before the first AWS call: a local stack started now runs the functions on this runtime's Node.
  context.useFunctionRuntime(resolveRuntime(flags.runtime, options.env ?? process.env, file).runtime);
  // The first AWS call (STS) comes after every given value has been validated.
  let located: Promise<{ identity: Identity; region: string }> | undefined;
  const locate = () => {
    located ??= (async () => {
      const identity = await context.identity();
      const region = await targetRegion(context);
      if (file) checkRegion(file, region, context.settingsFile);
      return { identity, region };
    })();
    return located;
  };

  const { settings, sources } = await resolveInitSettings({
    flags,
    ...(options.env === undefined ? {} : { env: options.env }),
    file,
    locate: async () => {
      const { identity, region } = await locate();
      return { account: identity.account, region };
    },
    prompter: options.prompter ?? (context.canPrompt ? inquirerPrompter : undefined),
  });
  const { identity, region } = await locate();
  const warnings = [memoryFitWarning(settings)].filter((w) => w !== undefined);
  // Recorded so later commands reach this stack without repeating --local / --endpoint-url / --profile.
  settings.location = await context.location();
  const clients = await context.clients();
  const stack = stackModel(settings, identity, region);
  const environment = environmentProblem(stack.environment);
  if (environment) throw new UsageError(`Settings rejected: ${environment}.`, 'Use fewer or shorter --sizes, or shorter bucket and table names.');

  const artifacts = options.artifacts ?? (await (options.build ?? defaultBuild)(settings.arch, stackRuntime(settings)));
  const provision: ProvisionContext = { clients, stack, artifacts, propagationRetry: options.propagationRetry, ownership: await context.ownershipRecord() };
  // A stack leaving workflow mode still has its state machine, rule and roles to take down.
  const stepOptions = { waitCdn: options.waitCdn, cdnWait: options.cdnWait, workflowLeftovers: file !== undefined && workflowModeFor(file) };
  if (!dryRun && options.confirmPlan !== undefined) {
    const plan = publicResults(await runSteps(provision, provisionSteps(settings, stepOptions), { dryRun: true }));
    const changes = plan.some((r) => r.action !== 'no-op');
    const blocked = plan.some((r) => r.status === 'blocked');
    if (changes && !blocked && !(await options.confirmPlan(plan))) {
      return {
        exitCode: ExitCode.Ok, outcome: 'cancelled', dryRun, upToDate: false, settings, settingsFile: context.settingsFile, settingsWritten: false, sources, steps: plan,
        commandLine: context.commandLine(), notApplied: [], warnings,
      };
    }
  }

  const settingsWritten = !dryRun && JSON.stringify(file) !== JSON.stringify(settings);
  if (settingsWritten) {
    await writeSettingsFile(context.settingsFile, settings);
    options.onEvent?.({ type: 'settings-written', file: context.settingsFile });
  }

  const steps = provisionSteps(settings, stepOptions);
  const results = publicResults(await runSteps(provision, steps, { dryRun, onEvent: options.onEvent, signal: options.signal }));
  const notApplied = steps.slice(results.length).map((step) => ({ resource: step.resource, name: step.name(provision) }));
  const interrupted = notApplied.length > 0;
  const upToDate = !interrupted && results.every((r) => r.action === 'no-op');
  const isBlocked = results.some((r) => r.status === 'blocked');
  const outcome = interrupted ? 'interrupted' : upToDate ? 'up-to-date' : isBlocked ? 'blocked' : dryRun ? 'planned' : 'applied';
  return {
    exitCode: outcome === 'interrupted' ? ExitCode.Interrupted : outcome === 'blocked' ? ExitCode.Failed : ExitCode.Ok,
    outcome,
    dryRun,
    upToDate,
    settings,
    settingsFile: context.settingsFile,
    settingsWritten,
    sources,
    commandLine: context.commandLine(),
    steps: results,
    notApplied,
    warnings,
  };
}

async function defaultBuild(arch: Architecture, runtime: LambdaRuntime): Promise<DeployArtifacts> {
  const { functionZip, layerZip } = await buildArtifacts({ arch, runtime });
  return { functionZip, layerZip };
}
