import { Command, Option } from 'commander';
import { buildArtifacts } from '../artifact/build.js';
import type { PropagationRetry } from '../aws/lambda.js';
import {
  ARCHITECTURES,
  FIT_MODES,
  OUTPUT_FORMATS,
  inquirerPrompter,
  readSettingsFile,
  resolveInitSettings,
  writeSettingsFile,
  type Prompter,
  type SettingsFlags,
  type SettingsSources,
  type StackSettings,
} from '../config/settings.js';
import type { AppContext, Identity } from '../context.js';
import { ExitCode, UsageError } from '../errors.js';
import { provisionSteps, publicResults, runSteps, summaryTable } from '../provision/runner.js';
import { environmentProblem, stackModel } from '../provision/stack.js';
import type { DeployArtifacts, ProvisionContext, StepResult } from '../provision/types.js';
import { action, parseChoice, parsePositiveInt } from './shared.js';

export interface InitOptions extends SettingsFlags {
  dryRun?: boolean | undefined;
  /** Environment to read IMG_RESIZER_* settings from (default process.env). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Asks for missing values; default inquirer when the context may prompt. */
  prompter?: Prompter | undefined;
  /** Already-built packages (tests build once); default: build them now. */
  artifacts?: DeployArtifacts | undefined;
  /** IAM propagation retry timing (tests shorten it). */
  propagationRetry?: PropagationRetry | undefined;
}

export interface InitResult {
  exitCode: ExitCode;
  dryRun: boolean;
  /** True when nothing needed to change. */
  upToDate: boolean;
  settings: StackSettings;
  settingsFile: string;
  sources: SettingsSources;
  steps: StepResult[];
}

/** The region the clients talk to; the settings file records it and later commands must match it. */
export async function targetRegion(context: AppContext): Promise<string> {
  const clients = await context.clients();
  return clients.s3.config.region();
}

export function checkRegion(settings: Partial<StackSettings>, region: string, file: string): void {
  if (settings.region !== undefined && settings.region !== region) {
    throw new UsageError(
      `The stack in ${file} lives in ${settings.region}, but this command targets ${region}.`,
      `Add --region ${settings.region} (or set AWS_REGION), or use another --config for a stack in ${region}.`,
    );
  }
}

/**
 * Resolves the settings, writes them (so an interrupted run can still be destroyed), builds the packages
 * and converges every resource. A dry run observes and plans only: no request that changes anything.
 */
export async function runInit(context: AppContext, options: InitOptions = {}): Promise<InitResult> {
  const { output } = context;
  const dryRun = Boolean(options.dryRun);
  const file = await readSettingsFile(context.settingsFile);
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

  const flags: SettingsFlags = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !['dryRun', 'env', 'prompter', 'artifacts', 'propagationRetry'].includes(key)) {
      (flags as Record<string, unknown>)[key] = value;
    }
  }
  const { settings, sources } = await resolveInitSettings({
    flags,
    env: options.env,
    file,
    locate: async () => {
      const { identity, region } = await locate();
      return { account: identity.account, region };
    },
    prompter: options.prompter ?? (context.canPrompt ? inquirerPrompter : undefined),
  });
  const { identity, region } = await locate();
  const clients = await context.clients();
  const stack = stackModel(settings, identity, region);
  const environment = environmentProblem(stack.environment);
  if (environment) throw new UsageError(`Settings rejected: ${environment}.`, 'Use fewer or shorter --sizes, or shorter bucket and table names.');

  if (!dryRun && JSON.stringify(file) !== JSON.stringify(settings)) {
    await writeSettingsFile(context.settingsFile, settings);
    output.note(`Settings written to ${context.settingsFile}`);
  }

  const artifacts = options.artifacts ?? (await buildArtifacts({ arch: settings.arch, output }));
  const provision: ProvisionContext = {
    clients,
    stack,
    output,
    dryRun,
    artifacts,
    outputs: {},
    propagationRetry: options.propagationRetry,
  };
  const results = await runSteps(provision, provisionSteps(settings), { dryRun, showTasks: true });
  const upToDate = results.every((r) => r.action === 'no-op');

  if (output.json) {
    output.result({ dryRun, upToDate, settingsFile: context.settingsFile, settings, steps: publicResults(results) });
  } else {
    output.info('');
    output.info(summaryTable(results));
    output.info('');
    if (upToDate) output.success('Everything is up to date; nothing changed.');
    else if (dryRun) output.info('Dry run: nothing was changed. Run without --dry-run to apply this plan.');
    else {
      const where = settings.prefix ? `s3://${settings.sourceBucket}/${settings.prefix}` : `s3://${settings.sourceBucket}/`;
      output.success(`Stack "${settings.stackName}" is ready: images uploaded to ${where} are resized into s3://${settings.destBucket}/.`);
      output.info('Try it: img-resizer upload <image> --wait');
    }
  }
  return { exitCode: ExitCode.Ok, dryRun, upToDate, settings, settingsFile: context.settingsFile, sources, steps: publicResults(results) };
}

interface InitFlags extends SettingsFlags {
  dryRun?: boolean;
  triggerPrefix?: string;
  triggerSuffix?: string;
}

export function initCommand(): Command {
  return new Command('init')
    .description('create or converge every resource of the stack (safe to run again), then write the settings file')
    .option('--stack-name <name>', 'names every resource unless given one by one (default img-resizer)')
    .option('--source-bucket <bucket>', 'bucket uploads go to (default <stack>-source-<account>-<region>)')
    .option('--dest-bucket <bucket>', 'bucket resized images go to (default <stack>-dest-<account>-<region>)')
    .option('--table <table>', 'DynamoDB metadata table (default <stack>-metadata)')
    .option('--function-name <name>', 'Lambda function (default <stack>-resize)')
    .option('--role-name <name>', 'the function\'s IAM role (default <stack>-function-role)')
    .option('--layer-name <name>', 'the sharp layer (default <stack>-sharp)')
    .option('--sizes <spec>', 'comma-separated name=WxH (default thumbnail=200x200)')
    .addOption(new Option('--format <format>', 'output format (default png)').argParser(parseChoice('--format', OUTPUT_FORMATS)))
    .addOption(new Option('--fit <fit>', 'how images fit each size (default cover)').argParser(parseChoice('--fit', FIT_MODES)))
    .addOption(new Option('--arch <arch>', 'function architecture (default x86_64)').argParser(parseChoice('--arch', ARCHITECTURES)))
    .addOption(new Option('--memory <MB>', 'function memory (default 1024)').argParser(parsePositiveInt('--memory', 10_240)))
    .addOption(new Option('--timeout <seconds>', 'function timeout (default 60)').argParser(parsePositiveInt('--timeout', 900)))
    .option('--trigger-prefix <prefix>', 'only keys under this prefix start the function (needed when source and destination are one bucket)')
    .option('--trigger-suffix <suffix>', 'only keys ending so start the function, e.g. .jpg')
    .option('--dry-run', 'print the plan and change nothing')
    .addHelpText(
      'after',
      '\nEach setting also reads an environment variable (IMG_RESIZER_STACK_NAME, IMG_RESIZER_SOURCE_BUCKET, IMG_RESIZER_DEST_BUCKET,\n' +
        'IMG_RESIZER_TABLE, IMG_RESIZER_FUNCTION_NAME, IMG_RESIZER_ROLE_NAME, IMG_RESIZER_LAYER_NAME, IMG_RESIZER_SIZES, IMG_RESIZER_FORMAT,\n' +
        'IMG_RESIZER_FIT, IMG_RESIZER_ARCH, IMG_RESIZER_MEMORY, IMG_RESIZER_TIMEOUT, IMG_RESIZER_TRIGGER_PREFIX, IMG_RESIZER_TRIGGER_SUFFIX).\n' +
        'Precedence: flags, environment, settings file, prompts (on a terminal without --yes), defaults.',
    )
    .action(
      action(async (context: AppContext, flags: InitFlags) => {
        const { triggerPrefix, triggerSuffix, ...rest } = flags;
        const result = await runInit(context, { ...rest, prefix: triggerPrefix, suffix: triggerSuffix });
        return result.exitCode;
      }),
    );
}
