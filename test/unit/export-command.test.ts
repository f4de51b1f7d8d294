import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { exportOptions } from '../../src/commands/export.js';
import { artifactKey } from '../../src/operations/export.js';

const execFileAsync = promisify(execFile);
const BIN = path.resolve('bin/img-resizer.js');

async function run(args: string[], cwd: string): Promise<{ code: number; stderr: string }> {
  try {
    await execFileAsync(process.execPath, [BIN, ...args], { cwd });
    return { code: 0, stderr: '' };
  } catch (error) {
    const failure = error as { code?: number; stderr?: string };
    return { code: failure.code ?? -1, stderr: failure.stderr ?? '' };
  }
}

describe('export options', () => {
  it('resolves --out against the working directory and keeps a valid artifact bucket', () => {
    expect(exportOptions({ format: 'sam', out: 'infra' }, '/work/p')).toEqual({ format: 'sam', outDir: '/work/p/infra' });
    expect(exportOptions({ format: 'cloudformation', out: '/abs', artifactBucket: 'my-artifacts' }, '/x')).toEqual({
      format: 'cloudformation',
      outDir: '/abs',
      artifactBucket: 'my-artifacts',
    });
  });

  it('refuses an invalid artifact bucket name before anything is built', () => {
    expect(() => exportOptions({ format: 'sam', out: 'x', artifactBucket: 'My_Bucket' }, '/x')).toThrow(/Artifact bucket "My_Bucket"/);
  });

  it('names S3 keys by content, so unchanged zips keep their key', () => {
    expect(artifactKey('photos', { name: 'sharp-layer-arm64.zip', sha256: 'ab12' })).toBe('img-resizer/photos/sharp-layer-arm64-ab12.zip');
  });
});

describe('img-resizer export', () => {
  it('exits 2 on an unknown --format, a missing --out, or no settings file', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-export-cli-'));
    const badFormat = await run(['export', '--format', 'terraform', '--out', 'x'], cwd);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toMatch(/--format must be one of cloudformation, sam/);
    expect((await run(['export', '--format', 'sam'], cwd)).code).toBe(2);
    const uninitialised = await run(['export', '--format', 'sam', '--out', 'x'], cwd);
    expect(uninitialised.code).toBe(2);
    expect(uninitialised.stderr).toMatch(/No settings file/);
  });
});
