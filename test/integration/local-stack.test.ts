import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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
    afterAll(async () => {
      await run('node', [bin, 'local', 'stop'], { cwd }).catch(() => undefined);
      await rm(cwd, { recursive: true, force: true });
    });

    it('starts one server however often start runs, reports it, and stops exactly it', async () => {
      cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-cli-'));
      const port = String(await freePort());
      await run('node', [bin, 'local', 'start', '--port', port], { cwd });
      const second = await run('node', [bin, 'local', 'start', '--port', port], { cwd });
      expect(second.stdout).toContain('already running');
      const status = JSON.parse((await run('node', [bin, 'local', 'status', '--json'], { cwd })).stdout) as {
        running: boolean; endpoint: string; port: number; pid: number; rekognitionEndpoint: string;
      };
      // moto, for Rekognition only, on loopback beside MiniStack (src/local/moto.ts).
      expect(status.rekognitionEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${status.rekognitionEndpoint}/moto-api/data.json`)).ok).toBe(true);
      expect(status).toMatchObject({ running: true, endpoint: `http://127.0.0.1:${port}`, port: Number(port) });
      expect(status.pid).toBeGreaterThan(0);
      const listeners = (await run('ss', ['-Htlnp', `sport = :${port}`])).stdout.trim().split('\n').filter(Boolean);
      expect(listeners).toHaveLength(1);
      expect(listeners[0]).toContain('127.0.0.1:');
      await run('node', [bin, 'local', 'stop'], { cwd });
      expect(() => process.kill(status.pid, 0)).toThrow();
      await expect(fetch(`${status.rekognitionEndpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
      const after = JSON.parse((await run('node', [bin, 'local', 'status', '--json'], { cwd })).stdout) as { running: boolean };
      expect(after.running).toBe(false);
    });
  });
});
