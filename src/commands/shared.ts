import { InvalidArgumentError, type Command } from 'commander';
import { AppContext, type GlobalOptions } from '../context.js';
import { ExitCode, UsageError, type ExitCode as ExitCodeType } from '../errors.js';
import { validateEndpoint } from '../aws/target.js';

/**
 * Wraps a command's action: builds the context from the global options and passes the exit code
 * back to main(), which alone sets it.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- lets each command type its own arguments
export function action<A extends unknown[]>(
  handler: (context: AppContext, ...args: A) => Promise<ExitCodeType | undefined>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    validateGlobals(globals);
    const context = new AppContext(globals);
    try {
      const code = await handler(context, ...(args.slice(0, -1) as A));
      lastExitCode = code ?? ExitCode.Ok;
    } finally {
      context.close();
    }
  };
}

/** Global options are checked at the edge, before any command does I/O. */
function validateGlobals(globals: GlobalOptions): void {
  if (globals.endpointUrl !== undefined) validateEndpoint(globals.endpointUrl);
  if (globals.local && globals.endpointUrl !== undefined) {
    throw new UsageError('--local and --endpoint-url are mutually exclusive.', 'Use --local for the bundled stack, or --endpoint-url for another endpoint.');
  }
}

let lastExitCode: ExitCodeType = ExitCode.Ok;

/** The exit code the last action asked for. */
export function takeExitCode(): ExitCodeType {
  const code = lastExitCode;
  lastExitCode = ExitCode.Ok;
  return code;
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
