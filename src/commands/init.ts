import { Command, InvalidArgumentError, Option } from 'commander';
import { FIT_MODES, OUTPUT_FORMATS } from '../../lambda-src/core/settings.js';
import { ARCHITECTURES } from '../constants.js';
import type { AppContext } from '../context.js';
import type { InitOptions, InitResult } from '../operations/init.js';
import { commandAction, flag, optionalChoice, optionalFlag, optionalNumber, optionalString, parseChoice, parsePositiveInt, type CommandResult } from './shared.js';

/** The command line's options, checked into the operation's typed options. */
export function initOptionsFrom(raw: Readonly<Record<string, unknown>>): InitOptions {
  return {
    dryRun: flag(raw, 'dryRun'),
    stackName: optionalString(raw, 'stackName'),
    sourceBucket: optionalString(raw, 'sourceBucket'),
    destBucket: optionalString(raw, 'destBucket'),
    table: optionalString(raw, 'table'),
    functionName: optionalString(raw, 'functionName'),
    roleName: optionalString(raw, 'roleName'),
    layerName: optionalString(raw, 'layerName'),
    sizes: optionalString(raw, 'sizes'),
    format: optionalChoice(raw, 'format', OUTPUT_FORMATS),
    fit: optionalChoice(raw, 'fit', FIT_MODES),
    arch: optionalChoice(raw, 'arch', ARCHITECTURES),
    memory: optionalNumber(raw, 'memory'),
    timeout: optionalNumber(raw, 'timeout'),
    prefix: optionalString(raw, 'triggerPrefix'),
    suffix: optionalString(raw, 'triggerSuffix'),
    labels: optionalFlag(raw, 'labels'),
    labelsMinConfidence: optionalNumber(raw, 'labelsMinConfidence'),
    labelsMax: optionalNumber(raw, 'labelsMax'),
    moderation: optionalFlag(raw, 'moderation'),
    moderationMinConfidence: optionalNumber(raw, 'moderationMinConfidence'),
    ...apiOptionsFrom(raw),
  };
}

/** The HTTP API's flags (issue 14); `--preset` repeats, and the function reads the presets comma-separated. */
function apiOptionsFrom(raw: Readonly<Record<string, unknown>>): InitOptions {
  const presets = Array.isArray(raw.preset) ? raw.preset.filter((p): p is string => typeof p === 'string') : [];
  return {
    api: raw.api === true ? true : undefined,
    apiPresets: presets.length > 0 ? presets.join(',') : undefined,
    apiJwtIssuer: optionalString(raw, 'apiJwtIssuer'),
    apiJwtAudience: optionalString(raw, 'apiJwtAudience'),
    apiPublicReads: raw.apiPublicReads === true ? true : undefined,
    apiCorsOrigin: optionalString(raw, 'apiCorsOrigin'),
    apiThrottleRate: optionalNumber(raw, 'apiThrottleRate'),
    apiThrottleBurst: optionalNumber(raw, 'apiThrottleBurst'),
  };
}

/** Runs init with spinners for the build and each step, then prints the summary (or the --json document). */
export async function executeInit(context: AppContext, options: InitOptions = {}): Promise<InitResult> {
  const [{ runInit }, { renderInit, renderPlan, stepReporter }, { buildArtifacts }] = await Promise.all([
    import('../operations/init.js'),
    import('../ui/provision.js'),
    import('../artifact/build.js'),
  ]);
  const { output } = context;
  // A person at a terminal sees the plan and may stop before anything changes (default yes); --yes, a pipe or
  // CI skips the question, as `destroy` does.
  const confirmPlan = context.canPrompt && !options.dryRun
    ? async (steps: Parameters<typeof renderPlan>[1]): Promise<boolean> => {
      renderPlan(output, steps);
      const { inquirerPrompter } = await import('../config/prompter.js');
      return inquirerPrompter.confirm('Apply this plan?', true);
    }
    : undefined;
  const result = await runInit(context, {
    confirmPlan,
    build: async (arch) => {
      const { functionZip, layerZip } = await buildArtifacts({ arch, output });
      return { functionZip, layerZip };
    },
    onEvent: stepReporter(output),
    ...options,
  });
  renderInit(output, result);
  return result;
}

/** A confidence from 0 to 100, as Rekognition's MinConfidence takes it. */
function parseConfidence(flagName: string): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) throw new InvalidArgumentError(`${flagName}: "${raw}" is not a confidence from 0 to 100.`);
    return value;
  };
}

export function initCommand(): Command {
  return new Command('init')
    .description('create or converge every resource of the stack (safe to run again), then write the settings file')
    .option('--stack-name <name>', 'names every resource unless given one by one (default img-resizer)')
    .option('--source-bucket <bucket>', 'bucket uploads go to (default <stack>-source-<account>-<region>)')
    .option('--dest-bucket <bucket>', 'bucket resized images go to (default <stack>-dest-<account>-<region>)')
    .option('--table <table>', 'DynamoDB metadata table (default <stack>-metadata)')
    .option('--function-name <name>', 'Lambda function (default <stack>-resize)')
    .option('--role-name <name>', 'the function\'s IAM role (default <stack>-function-role-<region>)')
    .option('--layer-name <name>', 'the sharp layer (default <stack>-sharp)')
    .option('--sizes <spec>', 'comma-separated name=WxH (default thumbnail=200x200)')
    .addOption(new Option('--format <format>', 'output format (default png)').argParser(parseChoice('--format', OUTPUT_FORMATS)))
    .addOption(new Option('--fit <fit>', 'how images fit each size (default cover)').argParser(parseChoice('--fit', FIT_MODES)))
    .addOption(new Option('--arch <arch>', 'function architecture (default x86_64)').argParser(parseChoice('--arch', ARCHITECTURES)))
    .addOption(new Option('--memory <MB>', 'function memory (default 1024)').argParser(parsePositiveInt('--memory', 10_240)))
    .addOption(new Option('--timeout <seconds>', 'function timeout (default 60)').argParser(parsePositiveInt('--timeout', 900)))
    .option('--trigger-prefix <prefix>', 'only keys under this prefix start the function (needed when source and destination are one bucket)')
    .option('--trigger-suffix <suffix>', 'only keys ending so start the function, e.g. .jpg')
    .option('--labels', 'label each image with Rekognition DetectLabels (stored as Labels; the role gains rekognition:DetectLabels)')
    .addOption(new Option('--labels-min-confidence <percent>', 'drop labels Rekognition is less sure of (default 70)').argParser(parseConfidence('--labels-min-confidence')))
    .addOption(new Option('--labels-max <n>', 'at most N labels per image (default 10)').argParser(parsePositiveInt('--labels-max', 1000)))
    .option('--no-labels', 'switch labels off again')
    .option('--moderation', 'reject images Rekognition DetectModerationLabels flags (FAILED, MODERATED; no outputs kept)')
    .addOption(
      new Option('--moderation-min-confidence <percent>', 'a moderation label this sure rejects the image (default 80)').argParser(parseConfidence('--moderation-min-confidence')),
    )
    .option('--no-moderation', 'switch moderation off again')
    .option('--api', 'also stand up the HTTP API (POST /uploads, GET /images/{key}); see the README "HTTP API"')
    .option('--preset <name=WxH[:format]>', 'an API preset besides the sizes (repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--api-jwt-issuer <url>', 'JWT auth on the API instead of IAM: the token issuer (with --api-jwt-audience)')
    .option('--api-jwt-audience <audience>', 'JWT auth: the audience tokens must name')
    .option('--api-public-reads', 'GET /images/... without auth (uploads stay authorised)')
    .option('--api-cors-origin <origin>', 'allow this browser origin (CORS is off by default)')
    .addOption(new Option('--api-throttle-rate <rps>', 'API stage steady rate (default 50)').argParser(parsePositiveInt('--api-throttle-rate', 10_000)))
    .addOption(new Option('--api-throttle-burst <requests>', 'API stage burst (default 100)').argParser(parsePositiveInt('--api-throttle-burst', 5_000)))
    .option('--dry-run', 'print the plan and change nothing')
    .addHelpText(
      'after',
      '\nEach setting also reads an environment variable (IMG_RESIZER_STACK_NAME, IMG_RESIZER_SOURCE_BUCKET, IMG_RESIZER_DEST_BUCKET,\n' +
        'IMG_RESIZER_TABLE, IMG_RESIZER_FUNCTION_NAME, IMG_RESIZER_ROLE_NAME, IMG_RESIZER_LAYER_NAME, IMG_RESIZER_SIZES, IMG_RESIZER_FORMAT,\n' +
        'IMG_RESIZER_FIT, IMG_RESIZER_ARCH, IMG_RESIZER_MEMORY, IMG_RESIZER_TIMEOUT, IMG_RESIZER_TRIGGER_PREFIX, IMG_RESIZER_TRIGGER_SUFFIX,\n' +
        'IMG_RESIZER_LABELS, IMG_RESIZER_LABELS_MIN_CONFIDENCE, IMG_RESIZER_LABELS_MAX, IMG_RESIZER_MODERATION, IMG_RESIZER_MODERATION_MIN_CONFIDENCE).\n' +
        'Precedence: flags, environment, settings file, prompts (on a terminal without --yes), defaults.',
    )
    .action(commandAction((context, { options }): Promise<CommandResult> => executeInit(context, initOptionsFrom(options))));
}
