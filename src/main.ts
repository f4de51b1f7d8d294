import { CommanderError } from 'commander';
import { createProgram, descendants } from './cli.js';
import { CliError, ExitCode } from './errors.js';
import { dispatchInterrupt, takeExitCode } from './commands/shared.js';
import { Output, stdoutWasWritten } from './ui/output.js';
import { enableCompileCache } from './compile-cache.js';

/**
 * The entry point: runs the program and alone decides the exit code. Typed errors print their
 * message and suggestion; stack traces only with --debug.
 */
export async function main(argv: string[] = process.argv): Promise<void> {
  enableCompileCache();
  // The lockfile pins the SDK we test with; its notice about future Node versions is noise for operators.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const debug = argv.includes('--debug');
  const json = argv.includes('--json');
  const output = new Output({ json, debug });
  const signal = { interrupted: false };
  const onSigint = (): void => {
    if (signal.interrupted) process.exit(ExitCode.Interrupted);
    signal.interrupted = true;
    process.exitCode = ExitCode.Interrupted;
    if (!dispatchInterrupt()) output.warn('Interrupted; finishing the current request (Ctrl-C again to quit now).');
  };
  process.on('SIGINT', onSigint);
  // A reader that stops early (`metadata list --json | head`) closes the pipe: stop quietly, as Unix tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.Ok);
    throw error;
  });
  try {
    const program = await createProgram(argv);
    // Subcommands added with addCommand() inherit nothing: each one must throw rather than exit, so that a usage
    // error in `upload --timeout abc` exits 2 like one in the program itself.
    for (const command of [program, ...descendants(program)]) {
      command.exitOverride();
      command.configureOutput({
        writeErr: (text) => process.stderr.write(text),
        outputError: (text, write) => { write(output.color.red(text)); },
      });
    }
    await program.parseAsync(argv);
    process.exitCode = signal.interrupted ? ExitCode.Interrupted : takeExitCode();
  } catch (error) {
    const exitCode = reportError(error, output, debug);
    process.exitCode = exitCode;
    // --json promises one document on stdout: a failure before any result is reported as one too.
    if (json && !stdoutWasWritten() && !isHelpOrVersion(error)) output.result({ error: errorDocument(error, exitCode) });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function isHelpOrVersion(error: unknown): boolean {
  return error instanceof CommanderError && error.exitCode === 0;
}

/** The --json form of a failure: a stable code, the message and what to do about it. */
export function errorDocument(error: unknown, exitCode: number): { code: string; message: string; suggestion?: string; exitCode: number } {
  if (error instanceof CommanderError) {
    return { code: 'USAGE', message: error.message.replace(/^error: /, ''), exitCode };
  }
  if (error instanceof CliError) {
    return { code: error.code, message: error.message, ...(error.suggestion ? { suggestion: error.suggestion } : {}), exitCode };
  }
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  const hint = awsHint(name);
  return { code: name, message: error instanceof Error ? error.message : String(error), ...(hint ? { suggestion: hint } : {}), exitCode };
}

function reportError(error: unknown, output: Output, debug: boolean): number {
  if (error instanceof CommanderError) {
    // Help and --version exit 0; commander already printed its usage message otherwise.
    if (error.exitCode === 0) return ExitCode.Ok;
    return ExitCode.Usage;
  }
  if (error instanceof CliError) {
    output.error(error.message, error.suggestion);
    if (debug && error.stack) output.debug(error.stack);
    return error.exitCode;
  }
  const name = (error as { name?: string }).name ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const hint = awsHint(name);
  output.error(`${name}: ${message}`, hint ?? (debug ? undefined : 'Run again with --debug for details.'));
  if (debug && error instanceof Error && error.stack) output.debug(error.stack);
  return ExitCode.Failed;
}

function awsHint(name: string): string | undefined {
  switch (name) {
    case 'CredentialsProviderError':
      return 'No AWS credentials found. Set AWS_PROFILE or --profile, or use --local for the local stack.';
    case 'ExpiredToken':
    case 'ExpiredTokenException':
      return 'Your AWS session has expired; sign in again (e.g. aws sso login).';
    case 'AccessDenied':
    case 'AccessDeniedException':
      return 'The credentials in use lack a permission; the README lists what the operator needs.';
    case 'ResourceNotFoundException':
    case 'NoSuchBucket':
      return 'A resource the settings file names does not exist (was the stack destroyed?). `img-resizer status` shows what is missing; `img-resizer init` recreates it.';
    default:
      return undefined;
  }
}
