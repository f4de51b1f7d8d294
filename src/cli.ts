import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Help, Option } from 'commander';
import { CliError } from './errors.js';
import { packageRoot } from './paths.js';
import { parsePositiveInt } from './commands/shared.js';

/**
 * Every command of the contract: what `--help` lists, and where the command's module is. A command's module
 * (and everything it imports) loads only when that command runs or shows its own help, so `--help` and
 * `--version` read no AWS SDK, sharp, esbuild or prompt library (issue 21).
 */
export interface CommandEntry {
  name: string;
  /** The line `--help` prints; the module's own description must match it (a unit test checks). */
  description: string;
  /** How the command is written in the program's help (name, `[options]`, arguments). */
  term: string;
  load: () => Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    term: 'init [options]',
    description: 'create or converge every resource of the stack (safe to run again), then write the settings file',
    load: async () => (await import('./commands/init.js')).initCommand(),
  },
  {
    name: 'status',
    term: 'status',
    description: 'check every resource and the wiring between them; exit 3 on any drift, or when the stack is not deployed',
    load: async () => (await import('./commands/status.js')).statusCommand(),
  },
  {
    name: 'upload',
    term: 'upload [options] <path...>',
    description: 'upload images to the source bucket (files, directories and globs) and, with --wait, show what the function made of them',
    load: async () => (await import('./commands/upload.js')).uploadCommand(),
  },
  {
    name: 'metadata',
    term: 'metadata',
    description: 'read what the function recorded in the metadata table',
    load: async () => (await import('./commands/metadata.js')).metadataCommand(),
  },
  {
    name: 'backfill',
    term: 'backfill [options]',
    description: 'process the source objects that have no SUCCEEDED metadata item (e.g. uploaded before the trigger existed)',
    load: async () => (await import('./commands/backfill.js')).backfillCommand(),
  },
  {
    name: 'destroy',
    term: 'destroy [options]',
    description: 'remove what init created, trigger first (asks first on a terminal; --yes otherwise)',
    load: async () => (await import('./commands/destroy.js')).destroyCommand(),
  },
  {
    name: 'resize',
    term: 'resize [options] <path...>',
    description: "resize local files with the function's own image core, no AWS involved; outputs are named as the function names them",
    load: async () => (await import('./commands/resize.js')).resizeCommand(),
  },
  {
    name: 'build',
    term: 'build [options]',
    description: 'bundle the function and build the sharp layer: writes function.zip and sharp-layer-<arch>.zip, prints sizes and SHA-256',
    load: async () => (await import('./commands/build.js')).buildCommand(),
  },
  {
    name: 'local',
    term: 'local',
    description: 'manage the bundled local AWS stack (MiniStack): one per user and port, found from any directory',
    load: async () => (await import('./commands/local.js')).localCommand(),
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'the whole pipeline in one go: init, upload a few photographs, wait, resize one locally, show the metadata (try: demo --local)',
    load: async () => (await import('./commands/demo.js')).demoCommand(),
  },
  {
    name: 'export',
    term: 'export [options]',
    description: 'write the stack as a CloudFormation or SAM template, with the function and layer zips, to deploy with your own tooling',
    load: async () => (await import('./commands/export.js')).exportCommand(),
  },
  {
    name: 'events',
    term: 'events',
    description: "print the stack's notifications as they arrive (one line each; JSON lines with --json) until Ctrl-C",
    load: async () => (await import('./commands/events.js')).eventsCommand(),
  },
  {
    name: 'failures',
    term: 'failures',
    description: 'events the function failed on through every retry (the failed-events queue)',
    load: async () => (await import('./commands/failures.js')).failuresCommand(),
  },
  {
    name: 'api',
    term: 'api',
    description: 'the stack\'s HTTP API (init --api): its URL',
    load: async () => (await import('./commands/api.js')).apiCommand(),
  },
  {
    name: 'url',
    term: 'url [options] <source-key>',
    description: 'print the URL of an output: through the CDN when the stack has one, else presigned (expires)',
    load: async () => (await import('./commands/url.js')).urlCommand(),
  },
  {
    name: 'gallery',
    term: 'gallery [options]',
    description: 'write one self-contained HTML page of the latest images (thumbnails, sizes, failures with their error)',
    load: async () => (await import('./commands/gallery.js')).galleryCommand(),
  },
  {
    name: 'executions',
    term: 'executions [options]',
    description: "workflow mode: list the state machine's recent executions, newest first, with their errors",
    load: async () => (await import('./commands/executions.js')).executionsCommand(),
  },
  {
    name: 'tune',
    term: 'tune [options]',
    description: 'power-tune the deployed function: time it at several memory sizes with real images, then put its memory back (or --apply the best)',
    load: async () => (await import('./commands/tune.js')).tuneCommand(),
  },
];

/** Global options that take a value: the word after them is not a command name. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--profile', '--region', '--endpoint-url', '--config', '--local-port']);

/**
 * Which command `argv` runs (or asks help for: `help upload`), found without loading any command.
 * Unknown words return undefined; commander then reports them as it always does.
 */
export function selectedCommand(argv: readonly string[]): CommandEntry | undefined {
  const words: string[] = [];
  for (let i = 2; i < argv.length && words.length < 2; i += 1) {
    const word = argv[i] ?? '';
    if (word === '--') break;
    if (word.startsWith('-')) {
      if (GLOBAL_OPTIONS_WITH_VALUE.has(word)) i += 1;
      continue;
    }
    words.push(word);
    if (word !== 'help') break;
  }
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((entry) => entry.name === name);
}

function packageVersion(): string {
  const manifest: unknown = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
  if (typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string') return manifest.version;
  throw new CliError('INTERNAL', 'package.json has no version.');
}

/**
 * The program with every command of the contract and the global options. Only the command `argv` selects
 * is loaded for real; the others stand in with their name and description, which is all `--help` shows.
 */
export async function createProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('img-resizer')
    .description('Stand up and run a serverless image-resizing pipeline on AWS: S3 upload -> Lambda (sharp) -> S3 + DynamoDB.')
    .version(packageVersion(), '-V, --version')
    .option('--profile <name>', 'AWS profile, as in the AWS CLI')
    .option('--region <region>', 'AWS region (else AWS_REGION, AWS_DEFAULT_REGION, the profile\'s)')
    .option('--endpoint-url <url>', 'AWS-compatible endpoint for every service (S3 then uses path-style addressing)')
    .option('--local', 'use the bundled local AWS stack (MiniStack), started on demand')
    .addOption(new Option('--local-port <port>', 'port of the local stack (implies --local; default 4566, or the one init recorded)').argParser(parsePositiveInt('--local-port', 65535)))
    .option('--config <file>', 'project settings file', 'img-resizer.config.json')
    .option('--json', 'print one JSON document on stdout; human text goes to stderr')
    .option('-y, --yes', 'never prompt; a missing required value is a usage error')
    .option('--wide', 'tables show every column whole instead of fitting the terminal width')
    .addOption(new Option('--debug', 'print stack traces and SDK details'))
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false, subcommandTerm: (command) => termOf(command) });

  const selected = selectedCommand(argv);
  for (const entry of COMMANDS) {
    program.addCommand(entry === selected ? await entry.load() : standIn(entry));
  }
  // addCommand() does not pass settings down (only .command() does): give every subcommand the suggestions
  // and, in its --help, the global options it accepts.
  for (const command of descendants(program)) {
    command.showSuggestionAfterError().configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  }
  return program;
}

function termOf(command: Command): string {
  return COMMANDS.find((entry) => entry.name === command.name())?.term ?? new Help().subcommandTerm(command);
}

/** A command not selected by argv: it never runs (selectedCommand picks the command that does). */
function standIn(entry: CommandEntry): Command {
  return new Command(entry.name).description(entry.description).action(() => {
    throw new CliError('INTERNAL', `The ${entry.name} command was not loaded.`);
  });
}

/** Every command below the program, depth first. */
export function descendants(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...descendants(child)]);
}
