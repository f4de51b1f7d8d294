import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const bin = path.resolve('bin/img-resizer.js');

/** Runs the built CLI (npm test builds first) and returns its exit code and output. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [bin, ...args], { env: { ...process.env, CI: 'true', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the command line', () => {
  it('lists every command of the contract in --help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    for (const command of ['init', 'status', 'upload', 'metadata', 'backfill', 'destroy', 'resize', 'build', 'local']) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    for (const option of ['--profile', '--region', '--endpoint-url', '--local', '--config', '--json', '--yes', '--debug']) {
      expect(stdout).toContain(option);
    }
  });

  it('prints the package version', async () => {
    const { code, stdout } = await cli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on an unknown option or command', async () => {
    expect((await cli(['--no-such-option'])).code).toBe(2);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  });

  it('exits 2 with a clear message on a malformed --endpoint-url, before any network call', async () => {
    const { code, stderr } = await cli(['status', '--endpoint-url', 'localhost:4566']);
    expect(code).toBe(2);
    expect(stderr).toContain('--endpoint-url');
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
  });
});
