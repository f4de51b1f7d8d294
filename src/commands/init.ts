import { Command, InvalidArgumentError, Option } from 'commander';
import { FIT_MODES, OUTPUT_FORMATS } from '../../lambda-src/core/settings.js';
import { addFilter, notifyProtocol, type NotifyTarget } from '../config/notify-targets.js';
import { ARCHITECTURES, ORCHESTRATIONS, STATE_MACHINE_KINDS } from '../constants.js';
import { defaultRuntime, LAMBDA_RUNTIMES } from '../runtimes.js';
import { CDN_PRICE_CLASSES } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { errorMessage } from '../errors.js';
import type { InitOptions, InitResult } from '../operations/init.js';
import {
  commandAction,
  flag,
  handleInterrupt,
  optionalChoice,
  optionalFlag,
  optionalNumber,
  optionalString,
  parseChoice,
  type CommandResult,
} from './shared.js';
import { parseSettingFlag } from './setting-flag.js';

/** `--notify` values as the parser below collected them (with their filters), or undefined when none was given. */
function notifyTargets(raw: Readonly<Record<string, unknown>>): NotifyTarget[] | undefined {
  const value = raw.notify;
  return Array.isArray(value) && value.length > 0 ? (value as NotifyTarget[]) : undefined;
}

/**
 * `--notify TARGET` (repeatable) and `--notify-filter key=value`, which applies to the --notify before it:
 * the two parsers share the list, so the order on the command line pairs them.
 */
function notifyOptions(): [Option, Option] {
  const targets: NotifyTarget[] = [];
  const notify = new Option('--notify <target>', 'also deliver outcomes to an SQS queue ARN, Lambda ARN, https:// URL or e-mail address (repeatable)').argParser(
    (value: string) => {
      try {
        notifyProtocol(value);
      } catch (error) {
        throw new InvalidArgumentError(errorMessage(error));
      }
      targets.push({ endpoint: value });
      return targets;
    },
  );
  const filter = new Option('--notify-filter <key=value>', 'only messages whose attribute matches (type, status, errorCode, format, sourcePrefix), for the --notify before it').argParser(
    (value: string) => {
      const last = targets.at(-1);
      if (!last) throw new InvalidArgumentError('--notify-filter applies to the --notify before it; give --notify TARGET first.');
      try {
        targets[targets.length - 1] = addFilter(last, value);
      } catch (error) {
        throw new InvalidArgumentError(errorMessage(error));
      }
      return value;
    },
  );
  return [notify, filter];
}

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
    notifications: optionalFlag(raw, 'notifications'),
    logRetentionDays: optionalNumber(raw, 'logRetention'),
    pointInTimeRecovery: optionalFlag(raw, 'pitr'),
    retryAttempts: optionalNumber(raw, 'retryAttempts'),
    maxEventAgeSeconds: optionalNumber(raw, 'maxEventAge'),
    keepOnDelete: optionalFlag(raw, 'keepOnDelete'),
    notify: notifyTargets(raw),
    allowLockPublicBucket: raw.allowLockPublicBucket === true ? true : undefined,
    labels: optionalFlag(raw, 'labels'),
    labelsMinConfidence: optionalNumber(raw, 'labelsMinConfidence'),
    labelsMax: optionalNumber(raw, 'labelsMax'),
    moderation: optionalFlag(raw, 'moderation'),
    moderationMinConfidence: optionalNumber(raw, 'moderationMinConfidence'),
    cdn: raw.cdn === true ? true : raw.cdn === false ? false : undefined,
    cdnPriceClass: optionalChoice(raw, 'cdnPriceClass', CDN_PRICE_CLASSES),
    cdnAliases: optionalString(raw, 'cdnAlias'),
    cdnCertificateArn: optionalString(raw, 'cdnCertificateArn'),
    cacheControl: optionalString(raw, 'cacheControl'),
    quality: optionalNumber(raw, 'quality'),
    allowUpscale: optionalFlag(raw, 'allowUpscale'),
    maxPixels: optionalNumber(raw, 'maxPixels'),
    maxBytes: optionalNumber(raw, 'maxBytes'),
    background: optionalString(raw, 'background'),
    backfillQueue: optionalFlag(raw, 'backfillQueue'),
    queueMaxConcurrency: optionalNumber(raw, 'queueMaxConcurrency'),
    waitCdn: flag(raw, 'waitCdn'),
    runtime: optionalChoice(raw, 'runtime', LAMBDA_RUNTIMES),
    orchestration: optionalChoice(raw, 'orchestration', ORCHESTRATIONS),
    stateMachineType: optionalChoice(raw, 'stateMachineType', STATE_MACHINE_KINDS),
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
  const report = stepReporter(output);
  // Ctrl-C: the step under way finishes, no further step is applied, and the summary says what is left.
  const interrupt = new AbortController();
  const release = handleInterrupt(() => {
    interrupt.abort();
    report({ type: 'interrupted' });
  });
  let result: InitResult;
  try {
    result = await runInit(context, {
      confirmPlan,
      build: async (arch, runtime) => {
        const { functionZip, layerZip } = await buildArtifacts({ arch, runtime, output });
        return { functionZip, layerZip };
      },
      onEvent: report,
      signal: interrupt.signal,
      ...options,
    });
  } finally {
    release();
  }
  renderInit(output, result);
  // The table shortens long details: what the owner of a --notify target must allow is printed whole.
  if (!output.json) {
    for (const line of result.steps.find((s) => s.id === 'subscriptions')?.changes ?? []) if (line.startsWith('then ')) output.warn(line.slice('then '.length));
  }
  return result;
}


export function initCommand(): Command {
  const [notify, notifyFilter] = notifyOptions();
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
    .addOption(
      new Option('--runtime <runtime>', `Lambda Node.js runtime of the functions and layer (default ${defaultRuntime()}, the newest the pipeline supports)`).argParser(
        parseChoice('--runtime', LAMBDA_RUNTIMES),
      ),
    )
    .addOption(new Option('--memory <MB>', 'function memory, 128-10240 (default 1024)').argParser(parseSettingFlag('memory')))
    .addOption(new Option('--timeout <seconds>', 'function timeout, 1-900 (default 60)').argParser(parseSettingFlag('timeout')))
    .option('--trigger-prefix <prefix>', 'only keys under this prefix start the function (needed when source and destination are one bucket)')
    .option('--trigger-suffix <suffix>', 'only keys ending so start the function, e.g. .jpg')
    // Each --no-X has a hidden --X, so that commander leaves the value unset (not true) when neither is given
    // and the environment or settings file can decide.
    .option('--no-notifications', 'leave out the SNS topic of outcomes (removes it if an earlier init made it)')
    .addOption(new Option('--notifications').hideHelp())
    .addOption(new Option('--log-retention <days>', 'days the function\'s log group keeps logs (default 30)').argParser(parseSettingFlag('logRetentionDays')))
    .option('--no-pitr', 'turn off point-in-time recovery on the metadata table')
    .addOption(new Option('--pitr').hideHelp())
    .addOption(new Option('--retry-attempts <n>', 'Lambda retries of a failed event before it goes to the failed-events queue, 0-2 (default 2)').argParser(parseSettingFlag('retryAttempts')))
    .addOption(new Option('--max-event-age <seconds>', 'oldest age an event is retried at, 60-21600 (default 21600)').argParser(parseSettingFlag('maxEventAgeSeconds')))
    .addOption(notify)
    .addOption(notifyFilter)
    .option('--allow-lock-public-bucket', 'turn on Block Public Access on an existing bucket even though its policy lets anyone read it')
    .option('--keep-on-delete', 'leave the outputs and item of a removed upload (the trigger then ignores removals)')
    .addOption(new Option('--no-keep-on-delete').hideHelp())
    .option('--labels', 'label each image with Rekognition DetectLabels (stored as Labels; the role gains rekognition:DetectLabels)')
    .addOption(new Option('--labels-min-confidence <percent>', 'drop labels Rekognition is less sure of (default 70)').argParser(parseSettingFlag('labelsMinConfidence')))
    .addOption(new Option('--labels-max <n>', 'at most N labels per image (default 10)').argParser(parseSettingFlag('labelsMax')))
    .option('--no-labels', 'switch labels off again')
    .option('--moderation', 'reject images Rekognition DetectModerationLabels flags (FAILED, MODERATED; no outputs kept)')
    .addOption(
      new Option('--moderation-min-confidence <percent>', 'a moderation label this sure rejects the image (default 80)').argParser(parseSettingFlag('moderationMinConfidence')),
    )
    .option('--no-moderation', 'switch moderation off again')
    .option('--api', 'also stand up the HTTP API (POST /uploads, GET /images/{key}); see the README "HTTP API"')
    .option('--preset <name=WxH[:format]>', 'an API preset besides the sizes (repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--api-jwt-issuer <url>', 'JWT auth on the API instead of IAM: the token issuer (with --api-jwt-audience)')
    .option('--api-jwt-audience <audience>', 'JWT auth: the audience tokens must name')
    .option('--api-public-reads', 'GET /images/... without auth (uploads stay authorised)')
    .option('--api-cors-origin <origin>', 'allow this browser origin (CORS is off by default)')
    .addOption(new Option('--api-throttle-rate <rps>', 'API stage steady rate (default 50)').argParser(parseSettingFlag('apiThrottleRate')))
    .addOption(new Option('--api-throttle-burst <requests>', 'API stage burst (default 100)').argParser(parseSettingFlag('apiThrottleBurst')))
    .option('--cdn', 'serve the resized images through a CloudFront distribution (private bucket, Origin Access Control)')
    .option('--no-cdn', 'no CDN (an existing distribution stays until destroy)')
    .addOption(new Option('--cdn-price-class <class>', 'edge locations the CDN uses (default PriceClass_100)').argParser(parseChoice('--cdn-price-class', CDN_PRICE_CLASSES)))
    .option('--cdn-alias <domains>', 'custom domain names for the CDN, comma-separated (needs --cdn-certificate-arn)')
    .option('--cdn-certificate-arn <arn>', 'ACM certificate in us-east-1 covering the aliases')
    .addOption(new Option('--cache-control <value>', 'Cache-Control written on every output (default "public, max-age=86400")').argParser(parseSettingFlag('cacheControl')))
    .addOption(new Option('--quality <n>', 'encoder quality of jpeg, webp and avif outputs, 1-100 (default: the encoder\'s)').argParser(parseSettingFlag('quality')))
    .option('--allow-upscale', 'enlarge images smaller than their box (never, by default)')
    .option('--no-allow-upscale', 'never enlarge (the default; undoes --allow-upscale)')
    .addOption(new Option('--max-pixels <n>', 'largest width x height the function accepts (default: what its memory holds)').argParser(parseSettingFlag('maxPixels')))
    .addOption(new Option('--max-bytes <size>', 'largest source object the function reads, bytes or a size such as 20MB (default 64MB)').argParser(parseSettingFlag('maxBytes')))
    .addOption(new Option('--background <colour>', 'what transparent pixels become in JPEG outputs: a CSS name or #rrggbb (default white)').argParser(parseSettingFlag('background')))
    .option('--backfill-queue', 'add the backfill queue the function consumes (`backfill --via queue`; see the README "Backfill")')
    .option('--no-backfill-queue', 'remove the backfill queue and its mapping again')
    .addOption(
      new Option('--queue-max-concurrency <n>', 'invocations the backfill queue starts at once, 2-1000 (default 10)').argParser(parseSettingFlag('queueMaxConcurrency')),
    )
    .option('--wait-cdn', 'wait until CloudFront has deployed the distribution (minutes on AWS)')
    .addOption(
      new Option('--orchestration <mode>', 'direct: S3 triggers the function (default); stepfunctions: EventBridge starts a state machine').argParser(
        parseChoice('--orchestration', ORCHESTRATIONS),
      ),
    )
    .addOption(
      new Option('--state-machine-type <type>', 'workflow mode: express (default, per request) or standard (full history)').argParser(
        parseChoice('--state-machine-type', STATE_MACHINE_KINDS),
      ),
    )
    .option('--dry-run', 'print the plan and change nothing')
    .addHelpText(
      'after',
      '\nEach setting also reads an environment variable (IMG_RESIZER_STACK_NAME, IMG_RESIZER_SOURCE_BUCKET, IMG_RESIZER_DEST_BUCKET,\n' +
        'IMG_RESIZER_TABLE, IMG_RESIZER_FUNCTION_NAME, IMG_RESIZER_ROLE_NAME, IMG_RESIZER_LAYER_NAME, IMG_RESIZER_SIZES, IMG_RESIZER_FORMAT,\n' +
        'IMG_RESIZER_FIT, IMG_RESIZER_ARCH, IMG_RESIZER_MEMORY, IMG_RESIZER_TIMEOUT, IMG_RESIZER_TRIGGER_PREFIX, IMG_RESIZER_TRIGGER_SUFFIX,\n' +
        'IMG_RESIZER_NOTIFICATIONS, IMG_RESIZER_LOG_RETENTION, IMG_RESIZER_PITR, IMG_RESIZER_RETRY_ATTEMPTS, IMG_RESIZER_MAX_EVENT_AGE, IMG_RESIZER_KEEP_ON_DELETE,\n' +
        'IMG_RESIZER_ALLOW_LOCK_PUBLIC_BUCKET, IMG_RESIZER_NOTIFY (targets separated by spaces, each TARGET or TARGET|key=value|key=value),\n' +
        'IMG_RESIZER_LABELS, IMG_RESIZER_LABELS_MIN_CONFIDENCE, IMG_RESIZER_LABELS_MAX, IMG_RESIZER_MODERATION, IMG_RESIZER_MODERATION_MIN_CONFIDENCE,\n' +
        'IMG_RESIZER_CDN, IMG_RESIZER_CDN_PRICE_CLASS, IMG_RESIZER_CDN_ALIASES, IMG_RESIZER_CDN_CERTIFICATE_ARN, IMG_RESIZER_CACHE_CONTROL,\n' +
        'IMG_RESIZER_QUALITY, IMG_RESIZER_ALLOW_UPSCALE, IMG_RESIZER_MAX_PIXELS, IMG_RESIZER_MAX_BYTES, IMG_RESIZER_BACKGROUND,\n' +
        'IMG_RESIZER_ORCHESTRATION, IMG_RESIZER_STATE_MACHINE_TYPE, IMG_RESIZER_RUNTIME,\n' +
        'IMG_RESIZER_BACKFILL_QUEUE, IMG_RESIZER_QUEUE_MAX_CONCURRENCY).\n' +
        'Precedence: flags, environment, settings file, prompts (on a terminal without --yes), defaults.',
    )
    .action(commandAction((context, { options }): Promise<CommandResult> => executeInit(context, initOptionsFrom(options))));
}
