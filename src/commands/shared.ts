import { Command, InvalidArgumentError } from 'commander';
import type { AppContext, GlobalOptions } from '../context.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { validateEndpoint } from '../aws/target.js';

/**
 * What every command's action hands back: main() alone turns it into the process's exit code.
 * Operations return richer results; they all carry this.
 */
export interface CommandResult {
  exitCode: ExitCode;
}

/** A command's positional arguments and its own options, as commander parsed them (not yet trusted). */
export interface Invocation {
  args: readonly unknown[];
  options: Readonly<Record<string, unknown>>;
}

let lastResult: CommandResult | undefined;

/**
 * Wraps a command's action: checks the global options, builds the context (loaded on demand, so a command's
 * declaration costs nothing), runs the handler and keeps its result for main(). The handler validates
 * `invocation` into its own typed options before doing anything.
 */
export function commandAction(
  handler: (context: AppContext, invocation: Invocation) => Promise<CommandResult>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1);
    if (!(command instanceof Command)) throw new CliError('INTERNAL', 'A command action was called without its command.');
    const globals = globalOptions(command.optsWithGlobals());
    const { AppContext } = await import('../context.js');
    const context = new AppContext(globals);
    try {
      lastResult = await handler(context, { args: command.processedArgs, options: command.opts() });
    } finally {
      context.close();
    }
  };
}

let interruptHandler: (() => void) | undefined;

/**
 * Lets a command own the first Ctrl-C: main() calls `handler` instead of printing its own "finishing the current
 * request" line, so the command can say it where its spinner is (one message, no line cutting into a spinner).
 * A second Ctrl-C still quits at once (main). Returns the release, for the command's `finally`.
 */
export function handleInterrupt(handler: () => void): () => void {
  interruptHandler = handler;
  return () => {
    if (interruptHandler === handler) interruptHandler = undefined;
  };
}

/** main()'s first Ctrl-C: true when a command took it (see handleInterrupt). */
export function dispatchInterrupt(): boolean {
  if (!interruptHandler) return false;
  interruptHandler();
  return true;
}

/** The exit code the last action's result asks for (Ok when no action ran: help, version). */
export function takeExitCode(): ExitCode {
  const code = lastResult?.exitCode ?? ExitCode.Ok;
  lastResult = undefined;
  return code;
}

/** Global options are checked at the edge, before any command does I/O. */
export function globalOptions(values: Readonly<Record<string, unknown>>): GlobalOptions {
  const globals: GlobalOptions = {
    profile: optionalString(values, 'profile'),
    region: optionalString(values, 'region'),
    endpointUrl: optionalString(values, 'endpointUrl'),
    local: flag(values, 'local'),
    localPort: optionalNumber(values, 'localPort'),
    config: optionalString(values, 'config'),
    json: flag(values, 'json'),
    yes: flag(values, 'yes'),
    debug: flag(values, 'debug'),
    wide: flag(values, 'wide'),
  };
  if (globals.endpointUrl !== undefined) validateEndpoint(globals.endpointUrl);
  if ((globals.local || globals.localPort !== undefined) && globals.endpointUrl !== undefined) {
    throw new UsageError('--local and --endpoint-url are mutually exclusive.', 'Use --local for the bundled stack, or --endpoint-url for another endpoint.');
  }
  return globals;
}

// Readers of commander's parsed values: each checks the type it returns, so no command casts its flags.

function invalid(name: string, expected: string): CliError {
  return new CliError('INTERNAL', `Option ${name} was parsed as something other than ${expected}.`);
}

export function optionalString(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = values[name];
  if (value === undefined || typeof value === 'string') return value;
  throw invalid(name, 'a string');
}

export function requiredString(values: Readonly<Record<string, unknown>>, name: string): string {
  const value = optionalString(values, name);
  if (value === undefined) throw invalid(name, 'a string');
  return value;
}

export function optionalNumber(values: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const value = values[name];
  if (value === undefined || typeof value === 'number') return value;
  throw invalid(name, 'a number');
}

export function requiredNumber(values: Readonly<Record<string, unknown>>, name: string): number {
  const value = optionalNumber(values, name);
  if (value === undefined) throw invalid(name, 'a number');
  return value;
}

/** A boolean flag; absent means false. */
export function flag(values: Readonly<Record<string, unknown>>, name: string): boolean {
  const value = values[name];
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  throw invalid(name, 'true or false');
}

/** A flag with a --no- form: undefined when neither was given. */
export function optionalFlag(values: Readonly<Record<string, unknown>>, name: string): boolean | undefined {
  const value = values[name];
  if (value === undefined || typeof value === 'boolean') return value;
  throw invalid(name, 'true or false');
}

export function optionalChoice<T extends string>(values: Readonly<Record<string, unknown>>, name: string, choices: readonly T[]): T | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const match = choices.find((choice) => choice === value);
  if (match === undefined) throw invalid(name, `one of ${choices.join(', ')}`);
  return match;
}

export function stringArgument(args: readonly unknown[], index: number, name: string): string {
  const value = args[index];
  if (typeof value === 'string') return value;
  throw invalid(name, 'a string');
}

export function stringListArgument(args: readonly unknown[], index: number, name: string): string[] {
  const value = args[index];
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) return value;
  throw invalid(name, 'a list of strings');
}

export function parsePositiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const range = max === Number.MAX_SAFE_INTEGER ? 'a whole number of 1 or more' : `a whole number from 1 to ${max}`;
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be ${range}.`);
    const n = Number(value);
    if (n < 1 || n > max) throw new InvalidArgumentError(`${name} must be ${range}.`);
    return n;
  };
}


/** One of a fixed set, matched regardless of case (`--status failed`, `--format PNG`), returned as spelled in the set. */
export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    const wanted = value.trim().toLowerCase();
    const match = choices.find((choice) => choice.toLowerCase() === wanted);
    if (match === undefined) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}.`);
    return match;
  };
}

/**
 * For commands on a deployed stack: checks the settings file, then makes the command's first request (who the
 * caller is, which also prints where the command acts), before the command loads its operation and the SDK
 * clients that operation imports. The command then talks to AWS within node's start-up plus a few modules, and
 * loading the rest overlaps nothing the operator waits on twice (issue 21). Errors come in the same order as
 * from the operation itself: settings first, then the target.
 */
export async function connectToStack(context: AppContext): Promise<void> {
  const { loadStackSettings } = await import('../config/settings.js');
  await loadStackSettings(context.settingsFile);
  await context.identity();
}
