import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsApiPorts } from '../../lambda-src/api-aws-ports.js';
import { awsRecordPorts } from '../../lambda-src/aws-ports.js';
import type { ApiPorts } from '../../lambda-src/core/api/ports.js';
import { routeApiRequest, type ApiResponse, type RouterDependencies } from '../../lambda-src/core/api/router.js';
import { loadApiSettings, type ApiSettings } from '../../lambda-src/core/api/settings.js';
import { processImage, type ProcessOptions } from '../../lambda-src/core/image.js';
import { processRecord } from '../../lambda-src/core/process-record.js';
import type { S3ObjectRecord } from '../../lambda-src/core/event.js';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import { createTable } from '../../src/aws/dynamodb.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { ensureCorpus } from '../../bench/lib/corpus.js';
import { localTestContext, type TestContext } from '../helpers/context.js';
import { uniqueStackName } from '../helpers/deploy.js';

const execFileAsync = promisify(execFile);
const MB = 1024 * 1024;

interface UploadAnswer {
  key: string;
  imageId: string;
  statusUrl: string;
  upload: { url: string; fields: Record<string, string> };
}

/** Sends the presigned form with curl, a client nobody here wrote; returns S3's status code and body. */
async function curlPost(upload: UploadAnswer['upload'], file: string): Promise<{ status: number; body: string }> {
  const form = Object.entries(upload.fields).flatMap(([name, value]) => ['--form-string', `${name}=${value}`]);
  const { stdout } = await execFileAsync('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...form, '-F', `file=@${file}`, upload.url], { maxBuffer: 8 * MB });
  const lines = stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

describe('the HTTP API over the local stack S3 and DynamoDB, in process', () => {
  let test: TestContext;
  let clients: AwsClients;
  let ports: ApiPorts;
  let settings: ApiSettings;
  let dir: string;
  let photoPath: string;
  const stack = uniqueStackName('api');
  const env = {
    SOURCE_BUCKET: `${stack}-uploads`,
    DEST_BUCKET: `${stack}-resized`,
    TABLE_NAME: `${stack}-metadata`,
    SIZES: 'thumb=200x200,medium=800x800',
    PRESETS: 'card=600x400:webp',
    MAX_BYTES: String(MB),
  };
  const call = (method: string, rawPath: string, body?: unknown, deps: Partial<RouterDependencies> = {}): Promise<ApiResponse> =>
    routeApiRequest({ method, rawPath, body: body === undefined ? undefined : JSON.stringify(body), baseUrl: 'http://api.local' }, settings, { ports, ...deps });

  beforeAll(async () => {
    test = await localTestContext();
    clients = await test.context.clients();
    ports = awsApiPorts({ s3: clients.s3, documents: clients.documents }, env.TABLE_NAME);
    settings = loadApiSettings(env);
    await clients.s3.send(new CreateBucketCommand({ Bucket: env.SOURCE_BUCKET }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: env.DEST_BUCKET }));
    await createTable(clients.dynamodb, env.TABLE_NAME, 'ImageID', {});
    dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-api-'));
    // A real photograph from the corpus, under the 1 MB limit.
    const corpus = await ensureCorpus(undefined, () => undefined);
    const photo = corpus.files.filter((f) => f.extension === '.jpg' && f.bytes < MB).sort((a, b) => b.bytes - a.bytes)[0];
    if (!photo) throw new Error('the corpus has no JPEG under 1 MB');
    photoPath = photo.path;
  });

  afterAll(async () => {
    test.context.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The record of a POST upload's event, as S3 would send it to the function. */
  const uploadRecord = (key: string): S3ObjectRecord => ({
    bucket: env.SOURCE_BUCKET,
    rawKey: encodeS3EventKey(key),
    key,
    eventName: 'ObjectCreated:Post',
    size: undefined,
    eTag: undefined,
    sequencer: undefined,
  });

  async function uploadWithCurl(file: string, bytes: number): Promise<{ answer: UploadAnswer; result: { status: number; body: string } }> {
    const response = await call('POST', '/uploads', { filename: path.basename(file), contentType: 'image/jpeg', bytes });
    expect(response.statusCode).toBe(201);
    const answer = JSON.parse(response.body) as UploadAnswer;
    return { answer, result: await curlPost(answer.upload, file) };
  }

  it('curl uploads a photo with the presigned POST, and it lands under uploads/ with its type; status goes PENDING then SUCCEEDED', async () => {
    const bytes = (await readFile(photoPath)).length;
    const { answer, result } = await uploadWithCurl(photoPath, bytes);
    expect(result.status, result.body).toBeLessThan(300);
    expect(answer.key).toMatch(/^uploads\/.+\.jpg$/);
    const head = await clients.s3.send(new HeadObjectCommand({ Bucket: env.SOURCE_BUCKET, Key: answer.key }));
    expect([head.ContentLength, head.ContentType]).toEqual([bytes, 'image/jpeg']);
    expect(answer.statusUrl).toBe(`http://api.local/images/${answer.key}`);

    const pending = await call('GET', `/images/${answer.key}`);
    expect([pending.statusCode, (JSON.parse(pending.body) as { Status: string }).Status]).toEqual([200, 'PENDING']);

    // What the deployed pipeline does on the upload's event: the function's core, over the same stack.
    const processed = await processRecord(uploadRecord(answer.key), settings.function, awsRecordPorts(clients, env.TABLE_NAME));
    expect(processed.status).toBe('SUCCEEDED');
    const status = await call('GET', `/images/${answer.key}`);
    const item = JSON.parse(status.body) as { Status: string; Outputs: { Size: string; Url: string }[] };
    expect(item.Status).toBe('SUCCEEDED');
    expect(item.Outputs.map((o) => o.Size)).toEqual(['thumb', 'medium']);
    // The presigned GET URL in the JSON serves the output to curl.
    const thumb = path.join(dir, 'thumb.jpg');
    await execFileAsync('curl', ['-sSf', '-o', thumb, item.Outputs[0]?.Url ?? '']);
    expect((await sharp(thumb).metadata()).width).toBeLessThanOrEqual(200);
  });

  it('twenty simultaneous requests for one missing preset render it once and leave one output and a consistent item', async () => {
    const bytes = (await readFile(photoPath)).length;
    const { answer } = await uploadWithCurl(photoPath, bytes);
    await processRecord(uploadRecord(answer.key), settings.function, awsRecordPorts(clients, env.TABLE_NAME));
    let renders = 0;
    const render = (input: Buffer, options: ProcessOptions) => {
      renders += 1;
      return processImage(input, options);
    };
    const responses = await Promise.all(Array.from({ length: 20 }, () => call('GET', `/images/${answer.key}/card`, undefined, { render })));
    expect(responses.map((r) => r.statusCode)).toEqual(Array.from({ length: 20 }, () => 302));
    expect(renders).toBe(1);
    const outputKey = `resized/card/${answer.key.replace(/\.jpg$/, '.webp')}`;
    expect(new Set(responses.map((r) => new URL(r.headers.location ?? '').pathname))).toEqual(new Set([`/${env.DEST_BUCKET}/${outputKey}`]));
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: env.DEST_BUCKET, Prefix: 'resized/card/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual([outputKey]);
    const stored = await clients.s3.send(new GetObjectCommand({ Bucket: env.DEST_BUCKET, Key: outputKey }));
    const meta = await sharp(Buffer.from(await stored.Body!.transformToByteArray())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 600, 400]);
    const { Item } = await clients.documents.send(new GetCommand({ TableName: env.TABLE_NAME, Key: { ImageID: answer.imageId }, ConsistentRead: true }));
    expect((Item?.Outputs as { Size: string }[]).map((o) => o.Size)).toEqual(['thumb', 'medium', 'card']);
    expect(Object.keys(Item ?? {}).filter((name) => name.startsWith('RenderLock'))).toEqual([]);

    // And once recorded, a request redirects without rendering.
    expect((await call('GET', `/images/${answer.key}/card`, undefined, { render })).statusCode).toBe(302);
    expect(renders).toBe(1);
    expect((await call('GET', `/images/${answer.key}/poster`)).statusCode).toBe(404);
    expect((await call('GET', '/images/uploads/missing.jpg')).statusCode).toBe(404);
  });

  it('S3 refuses a 10 MB POST against a 1 MB policy, and a form whose Content-Type was changed', async () => {
    const big = path.join(dir, 'big.jpg');
    await writeFile(big, Buffer.alloc(10 * MB, 7));
    const { answer, result } = await uploadWithCurl(big, MB);
    expect(result.status).toBe(400);
    expect(result.body).toContain('EntityTooLarge');
    const landed = (key: string) => clients.s3.send(new HeadObjectCommand({ Bucket: env.SOURCE_BUCKET, Key: key })).then(() => true, () => false);
    expect(await landed(answer.key)).toBe(false);

    const response = await call('POST', '/uploads', { filename: 'page.jpg', contentType: 'image/jpeg', bytes: 100 });
    const tampered = JSON.parse(response.body) as UploadAnswer;
    const html = path.join(dir, 'page.jpg');
    await writeFile(html, '<script>alert(1)</script>');
    const refused = await curlPost({ ...tampered.upload, fields: { ...tampered.upload.fields, 'Content-Type': 'text/html' } }, html);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('Policy Condition failed');
    expect(await landed(tampered.key)).toBe(false);
  });
});
