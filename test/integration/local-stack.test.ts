import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { freePort } from '../../src/local/ministack.js';
import { localTestContext } from '../helpers/context.js';

const run = promisify(execFile);
const bin = path.resolve('bin/img-resizer.js');

describe('local stack', () => {
  it('answers S3 through the client factory, and the recorder counts the request', async () => {
    const { context, recorder, stderr } = await localTestContext();
    const clients = await context.clients();
    const buckets = await clients.s3.send(new ListBucketsCommand({}));
    expect(buckets.Buckets ?? []).toEqual([]);
    expect(recorder.operations()).toEqual(['sts:GetCallerIdentity', 's3:ListBuckets']);
    expect(stderr()).toMatch(/Target: local stack http:\/\/127\.0\.0\.1:\d+ · region us-east-1 · account \d{12}/);
    context.close();
  });

  describe('local start/status/stop through the CLI', () => {
    let cwd: string;
    let port: string;
    // The stack is one per user: this test's own data directory keeps it apart from the user's.
    let env: NodeJS.ProcessEnv;
    afterAll(async () => {
      await run('node', [bin, 'local', 'stop', '--port', port], { cwd, env }).catch(() => undefined);
      await rm(cwd, { recursive: true, force: true });
    });

    it('starts one server however often start runs, reports it, and stops exactly it', async () => {
      cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-cli-'));
      env = { ...process.env, IMG_RESIZER_DATA_DIR: path.join(cwd, 'data') };
      port = String(await freePort());
      await run('node', [bin, 'local', 'start', '--port', port], { cwd, env });
      // From another directory: the same stack (state under the user's data directory, keyed by port).
      const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-cli-other-'));
      const second = await run('node', [bin, 'local', 'start', '--port', port], { cwd: elsewhere, env });
      expect(second.stdout).toContain('already running');
      const status = JSON.parse((await run('node', [bin, 'local', 'status', '--port', port, '--json'], { cwd: elsewhere, env })).stdout) as {
        running: boolean; endpoint: string; port: number; pid: number; stateDir: string; rekognitionEndpoint: string;
      };
      // moto, for Rekognition only, on loopback beside MiniStack (src/local/moto.ts).
      expect(status.rekognitionEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${status.rekognitionEndpoint}/moto-api/data.json`)).ok).toBe(true);
      expect(status).toMatchObject({ running: true, endpoint: `http://127.0.0.1:${port}`, port: Number(port), stateDir: path.join(cwd, 'data', 'local', port) });
      expect(status.pid).toBeGreaterThan(0);
      const listeners = (await run('ss', ['-Htlnp', `sport = :${port}`])).stdout.trim().split('\n').filter(Boolean);
      expect(listeners).toHaveLength(1);
      expect(listeners[0]).toContain('127.0.0.1:');
      await run('node', [bin, 'local', 'stop', '--port', port], { cwd, env });
      expect(() => process.kill(status.pid, 0)).toThrow();
      await expect(fetch(`${status.rekognitionEndpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
      const after = JSON.parse((await run('node', [bin, 'local', 'status', '--port', port, '--json'], { cwd, env })).stdout) as { running: boolean };
      expect(after.running).toBe(false);
      // Its temp folder goes with it.
      expect(existsSync(path.join(status.stateDir, 'tmp'))).toBe(false);
    });

    it('after the stack is killed, start says what was lost and what to run, and empties the old temp folder', async () => {
      await run('node', [bin, 'local', 'start', '--port', port], { cwd, env });
      const status = JSON.parse((await run('node', [bin, 'local', 'status', '--port', port, '--json'], { cwd, env })).stdout) as { pid: number; stateDir: string };
      await writeFile(path.join(status.stateDir, 'tmp', 'left-by-a-worker'), 'x');
      process.kill(-status.pid, 'SIGKILL');
      const restarted = await run('node', [bin, 'local', 'start', '--port', port], { cwd, env });
      expect(restarted.stderr).toContain(`The local stack on port ${port} (pid ${status.pid}`);
      expect(restarted.stderr).toContain('Run `img-resizer init` to restore the stack, then `img-resizer backfill`');
      expect(existsSync(path.join(status.stateDir, 'tmp', 'left-by-a-worker'))).toBe(false);
    });
  });
});
