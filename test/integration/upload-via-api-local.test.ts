/**
 * Issue 14, `upload --via-api` on the local stack with IAM auth (the default): the CLI asks the API for a
 * presigned POST, posts the photo straight to S3, and reads the item back through the API. The SDK's request
 * recorder shows the CLI made no S3 write of its own; the requests the API client sent (Node's fetch, recorded
 * as they pass through) show the route was used and signed. MiniStack refuses an AWS_IAM route without an
 * Authorization header (it does not verify the signature itself; README "HTTP API").
 * JWT mode is tested in api-infra-local.test.ts, which runs the MiniStack that can verify tokens.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCorpus } from '../../bench/lib/corpus.js';
import { runUploadViaApi } from '../../src/commands/upload.js';
import { runApiUrl } from '../../src/operations/api.js';
import { CliError, ExitCode, UsageError } from '../../src/errors.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';

const MB = 1024 * 1024;

interface SentRequest {
  method: string;
  url: string;
  authorization: string | null;
}

/** Node's fetch, recording each request it forwards (method, URL, Authorization) and changing nothing. */
function recordingFetch(): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const recorded: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    sent.push({ method: init?.method ?? 'GET', url, authorization: new Headers(init?.headers).get('authorization') });
    return fetch(input, init);
  };
  return { fetch: recorded, sent };
}

describe('upload --via-api on the local stack (IAM auth)', () => {
  let stack: DeployedTestStack;
  let photoPath: string;
  let apiUrl: string;

  beforeAll(async () => {
    stack = await deployTestStack({ sizes: 'thumb=200x200,medium=800x600', api: true });
    apiUrl = (await runApiUrl(stack.context)).url;
    const corpus = await ensureCorpus(undefined, () => undefined);
    const photo = corpus.files.filter((f) => f.extension === '.jpg' && f.bytes < 4 * MB).sort((a, b) => b.bytes - a.bytes)[0];
    if (!photo) throw new Error('the corpus has no JPEG under 4 MB');
    photoPath = photo.path;
  }, 600_000);

  it('uploads a real photo through the API, waits through the API, and reports it SUCCEEDED with its outputs', async () => {
    const { context, recorder, stdout } = stack;
    const recording = recordingFetch();
    recorder.clear();
    const { exitCode, report } = await runUploadViaApi(context, { paths: [photoPath], wait: true, timeoutSeconds: 120, fetch: recording.fetch });
    const sdkRequests = [...recorder.requests];

    expect(exitCode).toBe(ExitCode.Ok);
    expect(report).toMatchObject({ via: 'api', auth: 'AWS_IAM', apiUrl, waited: true, failed: [], interrupted: false, bucket: stack.settings.sourceBucket });
    const uploaded = report.files[0]!;
    expect(uploaded.outcome).toBe('SUCCEEDED');
    expect(uploaded.key).toMatch(/^uploads\/.+-[0-9a-f-]{36}\.jpg$/);
    const item = uploaded.item!;
    expect(item.Status).toBe('SUCCEEDED');
    expect(item.ImageID).toBe(uploaded.imageId);
    expect(item.Outputs.map((o) => o.Size).sort()).toEqual(['medium', 'thumb']);
    const clients = await context.clients();
    for (const output of item.Outputs) {
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: stack.settings.destBucket, Key: output.Key }));
      const meta = await sharp(await object.Body!.transformToByteArray()).metadata();
      expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(output.Size === 'thumb' ? 200 : 800);
      expect({ width: meta.width, height: meta.height }).toEqual({ width: output.Width, height: output.Height });
    }
    expect(stdout()).toContain(`${uploaded.key}  SUCCEEDED`);

    // The CLI's own SDK traffic: finding the API, no S3 write (the bytes went up with the presigned POST).
    expect(sdkRequests.map((r) => `${r.service}:${r.operation}`)).toContain('apigateway:GetApis');
    expect(sdkRequests.filter((r) => r.service === 's3')).toEqual([]);
    expect(sdkRequests.filter((r) => r.service === 'dynamodb')).toEqual([]);
    // Its HTTP traffic: the route, then the form to the source bucket, then status reads through the API.
    const routes = recording.sent.map((r) => `${r.method} ${r.url.startsWith(apiUrl) ? `API${r.url.slice(apiUrl.length)}` : 'S3'}`);
    expect(routes[0]).toBe('POST API/uploads');
    expect(routes[1]).toBe('POST S3');
    expect(routes.slice(2).every((r) => r === `GET API/images/${uploaded.key}`)).toBe(true);
    expect(routes.length).toBeGreaterThan(2);
    for (const request of recording.sent.filter((r) => r.url.startsWith(apiUrl))) {
      expect(request.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/);
    }
    // The form went to the source bucket unsigned by us: the policy in its fields is the authorisation.
    expect(recording.sent[1]!.authorization).toBeNull();
    expect(recording.sent[1]!.url).toContain(stack.settings.sourceBucket);
  }, 180_000);

  it('the upload route refuses an unsigned request and accepts a signed one', async () => {
    const body = JSON.stringify({ filename: 'cat.jpg', contentType: 'image/jpeg', bytes: 1000 });
    const unsigned = await fetch(`${apiUrl}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(403);
    const { HttpApiClient, executeApiSigner } = await import('../../src/aws/http-api-client.js');
    const client = new HttpApiClient({ baseUrl: apiUrl, auth: { kind: 'iam', signer: executeApiSigner((await stack.context.clients()).apigateway) } });
    const signed = await client.createUpload({ filename: 'cat.jpg', contentType: 'image/jpeg', bytes: 1000 });
    expect(signed.key).toMatch(/^uploads\/cat-.+\.jpg$/);
    expect(signed.upload.fields).toHaveProperty('Policy');
  });

  it('refuses a file that is not an image before asking the API, with a next step', async () => {
    const notes = path.join(stack.cwd, 'notes.txt');
    await writeFile(notes, 'not a picture\n');
    const recording = recordingFetch();
    const error = await runUploadViaApi(stack.context, { paths: [notes], wait: false, fetch: recording.fetch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).suggestion).toContain('without --via-api');
    expect(recording.sent).toEqual([]);
  });

  it('skips a stray non-image in a batch (exit 1) and uploads the rest; --strict refuses the batch', async () => {
    const notes = path.join(stack.cwd, 'stray.txt');
    await writeFile(notes, 'not a picture either\n');
    const { exitCode, report } = await runUploadViaApi(stack.context, { paths: [photoPath, notes], wait: false });
    expect(exitCode).toBe(ExitCode.Failed);
    expect(report.files.map((f) => f.outcome).sort()).toEqual(['SKIPPED', 'UPLOADED']);
    expect(report.skipped).toEqual(['stray.txt']);
    const strict = await runUploadViaApi(stack.context, { paths: [photoPath, notes], wait: false, strict: true }).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(UsageError);
  });

  it('marks a file the API refuses as UPLOAD_FAILED with the API\'s reason and next step, and exits 1', async () => {
    const recording = recordingFetch();
    const { exitCode, report } = await runUploadViaApi(stack.context, { paths: [photoPath], prefix: 'elsewhere', wait: true, fetch: recording.fetch });
    expect(exitCode).toBe(ExitCode.Failed);
    expect(report.files[0]).toMatchObject({ outcome: 'UPLOAD_FAILED', reason: expect.stringContaining('INVALID_PREFIX') as string });
    expect(report.files[0]!.reason).toContain('Leave out --prefix');
    // Refused before any byte went to S3.
    expect(recording.sent.map((r) => r.method + (r.url.startsWith(apiUrl) ? ' API' : ' S3'))).toEqual(['POST API']);
  });

  it('Ctrl-C before the uploads start: nothing is sent, every file is NOT_STARTED, exit 130', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    const recording = recordingFetch();
    const { exitCode, report } = await runUploadViaApi(stack.context, { paths: [photoPath], wait: true, signal: interrupt.signal, fetch: recording.fetch });
    expect(exitCode).toBe(ExitCode.Interrupted);
    expect(report).toMatchObject({ interrupted: true, files: [{ outcome: 'NOT_STARTED' }] });
    expect(recording.sent).toEqual([]);
  });

  it('says so when the stack has no API', async () => {
    const plain = await deployTestStack({ sizes: 'thumb=100x100' });
    const error = await runUploadViaApi(plain.context, { paths: [photoPath], wait: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'API_NOT_ENABLED', suggestion: expect.stringContaining('init --api') as string });
    plain.context.close();
  }, 180_000);
});
