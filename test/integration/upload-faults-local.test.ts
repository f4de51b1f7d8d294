import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { runUpload } from '../../src/commands/upload.js';
import { ExitCode, UsageError } from '../../src/errors.js';
import type { UploadReport } from '../../src/operations/upload.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';

const bin = path.resolve('bin/img-resizer.js');

describe('upload when things go wrong, on the local stack with the real function', () => {
  let stack: DeployedTestStack;
  let photos: string;

  beforeAll(async () => {
    stack = await deployTestStack();
    photos = path.join(stack.cwd, 'photos');
    await mkdir(photos, { recursive: true });
  });

  it('skips a non-image with a warning naming the core\'s verdict, uploads the rest, and exits 1; --strict refuses the batch', async () => {
    const good = path.join(photos, 'fine.jpg');
    await writeFile(good, await photo(64, 64));
    const text = path.join(photos, 'notes.jpg');
    await writeFile(text, 'shopping list: milk, eggs');

    const strict = runUpload(stack.context, { paths: [good, text], prefix: 'strict', wait: false, strict: true });
    await expect(strict).rejects.toBeInstanceOf(UsageError);
    await expect(strict).rejects.toThrow(/Not an image.*notes\.jpg \(UNSUPPORTED_FORMAT/);
    const clients = await stack.context.clients();
    const none = await clients.s3.send(new ListObjectsV2Command({ Bucket: stack.settings.sourceBucket, Prefix: 'strict/' }));
    expect(none.KeyCount ?? 0).toBe(0);

    const json = await localTestContext({ json: true }, stack.cwd);
    const { exitCode, report } = await runUpload(json.context, { paths: [good, text], prefix: 'batch', wait: false });
    expect(exitCode).toBe(ExitCode.Failed);
    expect(report.skipped).toEqual(['batch/notes.jpg']);
    expect(report.files.map((f) => [f.key, f.outcome])).toEqual([['batch/fine.jpg', 'UPLOADED'], ['batch/notes.jpg', 'SKIPPED']]);
    expect(report.files[1]?.reason).toMatch(/^not an image: UNSUPPORTED_FORMAT/);
    expect(json.stderr()).toMatch(/Skipping 1 file that is not an image: photos\/notes\.jpg/);
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: stack.settings.sourceBucket, Prefix: 'batch/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['batch/fine.jpg']);
    json.context.close();
  });

  it('Ctrl-C during --wait: one message, says what is up and how to check it, exit 130', async () => {
    // Large enough that the function is still at it when Ctrl-C comes (seconds to decode and resize here).
    await writeFile(path.join(photos, 'wait.jpg'), await photo(6000, 4000));
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    const child = spawn('node', [bin, 'upload', 'photos/wait.jpg', '--prefix', 'ctrlc', '--wait', '--endpoint-url', inject('ministackEndpoint')], {
      cwd: stack.cwd, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Uploaded: the wait is starting, so interrupt it.
      if (!sent && stderr.includes('Uploading 1/1')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => { resolve(exitCode); }));
    expect(code, stderr).toBe(130);
    expect(stderr.match(/Interrupted/g), stderr).toHaveLength(1);
    expect(stderr).toContain('Interrupted: 1 file uploaded; the function processes it anyway; check with `');
    expect(stderr).toContain('metadata get ctrlc/wait.jpg`');
    expect(stderr).not.toContain('Upload again');
    expect(stderr).not.toContain('finishing the current request');
  });

  it('keeps the per-file report when the table disappears mid-wait, and --json prints it with the error', async () => {
    await writeFile(path.join(photos, 'a.jpg'), await photo(300, 200));
    await writeFile(path.join(photos, 'b.jpg'), await photo(200, 300));
    const json = await localTestContext({ json: true }, stack.cwd);
    const clients = await json.context.clients();
    let deleted = false;
    // After the first read of the wait (nothing is processed yet: the function is cold), the table goes.
    const clock = {
      now: () => Date.now(),
      sleep: async (ms: number) => {
        if (!deleted) {
          deleted = true;
          await clients.dynamodb.send(new DeleteTableCommand({ TableName: stack.settings.table }));
        }
        await sleep(ms);
      },
    };
    const { exitCode, report } = await runUpload(json.context, { paths: [path.join(photos, 'a.jpg'), path.join(photos, 'b.jpg')], prefix: 'gone', wait: true, timeoutSeconds: 60, clock });
    expect(deleted).toBe(true);
    expect(exitCode).toBe(ExitCode.Failed);
    const printed = JSON.parse(json.stdout()) as UploadReport;
    expect(printed.error?.code).toBe('TABLE_NOT_FOUND');
    expect(printed.files.map((f) => [f.key, f.outcome])).toEqual([['gone/a.jpg', 'UNKNOWN'], ['gone/b.jpg', 'UNKNOWN']]);
    expect(printed.files[0]?.reason).toMatch(/^uploaded; whether it was processed is unknown: /);
    expect(report.files).toHaveLength(2);
    expect(json.stderr()).toMatch(/2 uploaded files have no known outcome: gone\/a\.jpg, gone\/b\.jpg/);
    json.context.close();
  });
});
