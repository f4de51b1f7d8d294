import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { localCommand } from './commands/local.js';
import { initCommand } from './commands/init.js';
import { statusCommand } from './commands/status.js';
import { uploadCommand } from './commands/upload.js';
import { metadataCommand } from './commands/metadata.js';
import { backfillCommand } from './commands/backfill.js';
import { destroyCommand } from './commands/destroy.js';
import { resizeCommand } from './commands/resize.js';
import { buildCommand } from './commands/build.js';
import { demoCommand } from './commands/demo.js';
import { executionsCommand } from './commands/executions.js';

const require = createRequire(import.meta.url);
const { version } = require('../../package.json') as { version: string };

/** Wires every command of the contract and the global options onto one program. */
export function createProgram(): Command {
  const program = new Command('img-resizer')
    .description('Stand up and run a serverless image-resizing pipeline on AWS: S3 upload -> Lambda (sharp) -> S3 + DynamoDB.')
    .version(version, '-V, --version')
    .option('--profile <name>', 'AWS profile, as in the AWS CLI')
    .option('--region <region>', 'AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile\'s)')
    .option('--endpoint-url <url>', 'AWS-compatible endpoint for every service (S3 then uses path-style addressing)')
    .option('--local', 'use the bundled local AWS stack (MiniStack), started on demand')
    .option('--config <file>', 'project settings file', 'img-resizer.config.json')
    .option('--json', 'print one JSON document on stdout; human text goes to stderr')
    .option('-y, --yes', 'never prompt; a missing required value is a usage error')
    .addOption(new Option('--debug', 'print stack traces and SDK details'))
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false });

  for (const command of [
    initCommand(),
    statusCommand(),
    uploadCommand(),
    metadataCommand(),
    backfillCommand(),
    destroyCommand(),
    resizeCommand(),
    buildCommand(),
    localCommand(),
    demoCommand(),
    executionsCommand(),
  ]) {
    program.addCommand(command);
  }
  // addCommand() does not pass settings down (only .command() does): give every subcommand the suggestions
  // and, in its --help, the global options it accepts.
  for (const command of descendants(program)) {
    command.showSuggestionAfterError().configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  }
  return program;
}

/** Every command below the program, depth first. */
export function descendants(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...descendants(child)]);
}
