import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const entry = path.resolve('test/helpers/run-cli.ts');
// tsx's loader by path, so the CLI can run in any working directory.
const tsx = pathToFileURL(path.resolve('node_modules/tsx/dist/loader.mjs')).href;

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI from source in a fresh node (through tsx, so no build is needed and no old dist/ is tested),
 * with `nodeArgs` before the entry point (e.g. an --import hook), and returns its exit code and output.
 */
export async function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {}): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run('node', ['--import', tsx, ...(options.nodeArgs ?? []), entry, ...args], {
      env: { ...process.env, CI: 'true', ...options.env },
      cwd: options.cwd ?? process.cwd(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
