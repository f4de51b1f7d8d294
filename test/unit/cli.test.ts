import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { selectedCommand } from '../../src/cli.js';
import { parseChoice, parsePositiveInt } from '../../src/commands/shared.js';
import { isInteractiveTerminal } from '../../src/ui/output.js';
import { runCli } from '../helpers/cli.js';

/** Runs the CLI from source and returns its exit code and output. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, { env, ...(cwd === undefined ? {} : { cwd }) });
}

describe('the command line', () => {
  it('finds the command after global options that take a value, --local-port included', () => {
    const argv = (...words: string[]): string[] => ['node', 'img-resizer', ...words];
    expect(selectedCommand(argv('--local-port', '4567', 'metadata', 'get', 'a.jpg'))?.name).toBe('metadata');
    expect(selectedCommand(argv('--region', 'eu-west-1', '--endpoint-url', 'http://127.0.0.1:9', 'status'))?.name).toBe('status');
    expect(selectedCommand(argv('help', 'tune'))?.name).toBe('tune');
  });

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

  it('exits 2, with one line and no stack trace, on a usage error inside any subcommand', async () => {
    const cases: [string[], string][] = [
      [['upload', 'a.jpg', '--timeout', 'abc'], '--timeout must be a whole number from 1 to 3600.'],
      [['upload', 'a.jpg', '--concurrency', '0'], '--concurrency must be a whole number from 1 to 64.'],
      [['backfill', '--concurrency', '-1'], '--concurrency must be a whole number from 1 to 1000.'],
      [['metadata', 'list', '--status', 'BOGUS'], '--status must be one of SUCCEEDED, FAILED.'],
      [['metadata', 'list', '--limit', '0'], '--limit must be a whole number of 1 or more.'],
      [['resize', 'a.jpg', '--format', 'gif'], '--format must be one of png, jpeg, webp, avif, original.'],
      [['resize', 'a.jpg'], "required option '--out <dir>' not specified"],
      [['build', '--arch', 'arm'], '--arch must be one of x86_64, arm64.'],
      [['status', '--bogus'], "unknown option '--bogus'"],
      [['local', 'bogus'], "unknown command 'bogus'"],
      [['metadata', 'get'], "missing required argument 'source-key'"],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i]!;
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('under --json, reports a failure before any result as one JSON document on stdout', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-cli-'));
    try {
      const missing = await cli(['--json', 'status'], {}, cwd);
      expect(missing.code).toBe(2);
      expect(JSON.parse(missing.stdout)).toEqual({
        error: {
          code: 'NOT_INITIALISED',
          message: `No settings file at ${path.join(cwd, 'img-resizer.config.json')}.`,
          suggestion: expect.stringContaining('img-resizer init') as unknown,
          exitCode: 2,
        },
      });
      expect(missing.stderr).toContain('No settings file');
      const usage = await cli(['metadata', 'list', '--json', '--limit', 'x'], {}, cwd);
      expect(usage.code).toBe(2);
      expect(JSON.parse(usage.stdout)).toMatchObject({ error: { code: 'USAGE', exitCode: 2 } });
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('shows the global options in every subcommand\'s help', async () => {
    for (const args of [['status', '--help'], ['metadata', 'list', '--help'], ['local', 'status', '--help']]) {
      const { code, stdout } = await cli(args);
      expect(code).toBe(0);
      expect(stdout).toContain('Global Options:');
      for (const option of ['--local', '--json', '--yes', '--config', '--endpoint-url']) expect(stdout).toContain(option);
    }
  });
});

describe('option parsers', () => {
  it('match a choice regardless of case and return it as the set spells it', () => {
    const status = parseChoice('--status', ['SUCCEEDED', 'FAILED'] as const);
    expect(status('failed')).toBe('FAILED');
    expect(parseChoice('--format', ['png', 'jpeg'] as const)('PNG')).toBe('png');
    expect(() => status('done')).toThrow(InvalidArgumentError);
  });

  it('say the allowed range of a whole number', () => {
    expect(parsePositiveInt('--limit')('25')).toBe(25);
    expect(() => parsePositiveInt('--limit')('0')).toThrow('--limit must be a whole number of 1 or more.');
    expect(() => parsePositiveInt('--port', 65535)('70000')).toThrow('--port must be a whole number from 1 to 65535.');
    expect(() => parsePositiveInt('--timeout', 3600)('1.5')).toThrow('--timeout must be a whole number from 1 to 3600.');
  });
});

describe('isInteractiveTerminal', () => {
  it('does not take a terminal that reports zero columns for one a spinner can draw on', () => {
    const saved = { CI: process.env.CI, NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM };
    delete process.env.CI;
    delete process.env.NO_COLOR;
    process.env.TERM = 'xterm-256color';
    try {
      const tty = (columns: number | undefined) => ({ ...process.stderr, isTTY: true, columns }) as unknown as NodeJS.WritableStream;
      expect(isInteractiveTerminal(tty(120))).toBe(true);
      expect(isInteractiveTerminal(tty(0))).toBe(false);
      expect(isInteractiveTerminal({ ...process.stderr, isTTY: false, columns: 120 } as unknown as NodeJS.WritableStream)).toBe(false);
    } finally {
      if (saved.CI !== undefined) process.env.CI = saved.CI;
      if (saved.NO_COLOR !== undefined) process.env.NO_COLOR = saved.NO_COLOR;
      if (saved.TERM === undefined) delete process.env.TERM;
      else process.env.TERM = saved.TERM;
    }
  });
});
