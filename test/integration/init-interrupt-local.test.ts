import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetBucketTaggingCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS_FILE } from '../../src/config/stack-settings.js';
import { freePort } from '../../src/local/ministack.js';
import { uniqueStackName } from '../helpers/deploy.js';

const run = promisify(execFile);
const bin = path.resolve('bin/img-resizer.js');

interface InitDocument {
  outcome: string;
  steps: { id: string; status: string; ops: { kind: string }[] }[];
  notApplied?: { resource: string; name: string }[];
}

/**
 * `init` as an operator runs it, on a local stack of this file's own (its own data directory and port, state
 * persisted as `local start` persists it), so the stack can be killed uncleanly.
 */
describe('init on the local stack: Ctrl-C, and ownership after an unclean stop', () => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  let port: string;
  let endpoint: string;
  const stackName = uniqueStackName('intr');
  const cli = (...args: string[]) => run('node', [bin, ...args, '--local-port', port], { cwd, env, maxBuffer: 16 * 1024 * 1024 });
  const clientConfig = () => ({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const functionExists = async (): Promise<boolean> => {
    const lambda = new LambdaClient(clientConfig());
    try {
      await lambda.send(new GetFunctionCommand({ FunctionName: `${stackName}-resize` }));
      return true;
    } catch {
      return false;
    } finally {
      lambda.destroy();
    }
  };

  beforeAll(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-intr-'));
    env = { ...process.env, IMG_RESIZER_DATA_DIR: path.join(cwd, 'data'), AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    delete env.AWS_PROFILE;
    port = String(await freePort());
    endpoint = `http://127.0.0.1:${port}`;
    await run('node', [bin, 'local', 'start', '--port', port], { cwd, env });
  }, 180_000);

  afterAll(async () => {
    await run('node', [bin, 'local', 'stop', '--port', port], { cwd, env }).catch(() => undefined);
    await rm(cwd, { recursive: true, force: true });
  });

  it('one Ctrl-C stops after the current step, says what was not applied, exits 130; init again finishes', async () => {
    const child = spawn('node', [bin, 'init', '--yes', '--stack-name', stackName, '--local-port', port], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // The source bucket is done, so the next step has started: interrupt it there.
      if (!sent && /Source bucket \S+: created/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => { resolve(exitCode); }));
    expect(sent, stderr).toBe(true);
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('Interrupted: stopping after the current step');
    // The step under way finished; no later one was applied.
    expect(stdout).toContain('Not applied:');
    expect(stdout).toMatch(/Function\s+\S+-resize/);
    expect(stderr).toMatch(/Interrupted: \d+ steps? applied, \d+ not\. The stack is incomplete; run `.*init` again to finish it/);
    expect(stderr).not.toContain('is ready');
    expect(await functionExists()).toBe(false);

    const again = await cli('init', '--yes', '--json');
    const document = JSON.parse(again.stdout) as InitDocument;
    expect(document.outcome).toBe('applied');
    expect(document.steps.find((s) => s.id === 'source-bucket')?.status).toBe('unchanged');
    expect(await functionExists()).toBe(true);
  }, 600_000);

  it('after the stack is killed, init again finds its own buckets (not adopted) and destroy removes them', async () => {
    const s3 = new S3Client(clientConfig());
    const settings = JSON.parse(await readFile(path.join(cwd, DEFAULT_SETTINGS_FILE), 'utf8')) as { sourceBucket: string; destBucket: string };
    const source = settings.sourceBucket;
    const dest = settings.destBucket;
    // Objects in both buckets: an untagged bucket holding objects is what init adopts as the operator's.
    await s3.send(new PutObjectCommand({ Bucket: source, Key: 'photo.jpg', Body: 'x' }));
    await s3.send(new PutObjectCommand({ Bucket: dest, Key: 'thumbnail/photo.png', Body: 'x' }));

    const record = JSON.parse(await readFile(path.join(cwd, 'data', 'local', port, 'server.json'), 'utf8')) as { pid: number; moto?: { pid: number } };
    process.kill(-record.pid, 'SIGKILL');
    if (record.moto) process.kill(record.moto.pid, 'SIGKILL');
    const restarted = await run('node', [bin, 'local', 'start', '--port', port], { cwd, env });
    expect(restarted.stderr).toContain('was not stopped cleanly');
    // What the unclean stop cost: the tags are gone while the objects stayed (why the record exists).
    await expect(s3.send(new GetBucketTaggingCommand({ Bucket: source }))).rejects.toThrow();

    const recovered = JSON.parse((await cli('init', '--yes', '--json')).stdout) as InitDocument;
    for (const id of ['source-bucket', 'dest-bucket']) {
      const step = recovered.steps.find((s) => s.id === id);
      expect(step?.ops.map((op) => op.kind)).not.toContain('adopt-bucket');
    }
    const { TagSet = [] } = await s3.send(new GetBucketTaggingCommand({ Bucket: source }));
    expect(TagSet).toContainEqual({ Key: 'img-resizer:stack', Value: stackName });
    expect(TagSet.map((t) => t.Key)).not.toContain('img-resizer:adopted');

    const destroyed = await cli('destroy', '--yes');
    expect(destroyed.stderr + destroyed.stdout).not.toMatch(/adopted/);
    for (const bucket of [source, dest]) {
      await expect(s3.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    }
    s3.destroy();
  }, 600_000);
});
