import { Command, Option } from 'commander';
import { FIT_MODES, OUTPUT_FORMATS } from '../../lambda-src/core/settings.js';
import { ARCHITECTURES, ORCHESTRATIONS, STATE_MACHINE_KINDS } from '../constants.js';
import type { AppContext } from '../context.js';
import type { InitOptions, InitResult } from '../operations/init.js';
import { commandAction, flag, optionalChoice, optionalNumber, optionalString, parseChoice, parsePositiveInt, type CommandResult } from './shared.js';

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
    orchestration: optionalChoice(raw, 'orchestration', ORCHESTRATIONS),
    stateMachineType: optionalChoice(raw, 'stateMachineType', STATE_MACHINE_KINDS),
  };
}

/** Runs init with spinners for the build and each step, then prints the summary (or the --json document). */
export async function executeInit(context: AppContext, options: InitOptions = {}): Promise<InitResult> {
  const [{ runInit }, { renderInit, stepReporter }, { buildArtifacts }] = await Promise.all([
    import('../operations/init.js'),
    import('../ui/provision.js'),
    import('../artifact/build.js'),
  ]);
  const { output } = context;
  const result = await runInit(context, {
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
        'IMG_RESIZER_ORCHESTRATION, IMG_RESIZER_STATE_MACHINE_TYPE).\n' +
        'Precedence: flags, environment, settings file, prompts (on a terminal without --yes), defaults.',
    )
    .action(commandAction((context, { options }): Promise<CommandResult> => executeInit(context, initOptionsFrom(options))));
}
