import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { awsRecordPorts } from '../../lambda-src/aws-ports.js';
import type { S3ObjectRecord } from '../../lambda-src/core/event.js';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import { processRecord } from '../../lambda-src/core/process-record.js';
import { loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { buildArtifacts } from '../../src/artifact/build.js';
import { lambdaLikeEnv, unpackForLambda } from '../../src/artifact/lambda-layout.js';
import { createTable } from '../../src/aws/dynamodb.js';
import { localTestContext, type TestContext } from '../helpers/context.js';
import { uniqueStackName } from '../helpers/deploy.js';

const execFileAsync = promisify(execFile);

// Runs in a fresh node process in task/, as Lambda's runtime loads index.mjs, and calls the API handler.
const INVOKE = `
const { pathToFileURL } = await import('node:url');
const mod = await import(pathToFileURL(process.cwd() + '/index.mjs').href);
const answer = await mod.apiHandler(JSON.parse(process.env.TEST_EVENT));
process.stdout.write('\\n' + JSON.stringify(answer));
`;

/** A payload format 2.0 event as API Gateway sends it for the $default stage. */
function httpEvent(method: string, rawPath: string, body?: unknown): unknown {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: { http: { method, path: rawPath }, domainName: 'api.example.com', stage: '$default', requestId: 'api-artifact-test' },
    ...(body === undefined ? {} : { body: JSON.stringify(body), isBase64Encoded: false }),
  };
}

describe('the bundled API handler (index.apiHandler) in a Lambda-like layout, against the local stack', () => {
  let tmp: string;
  let test: TestContext;
  let env: NodeJS.ProcessEnv;
  const stack = uniqueStackName('apizip');
  const settingsEnv = { SOURCE_BUCKET: `${stack}-in`, DEST_BUCKET: `${stack}-out`, TABLE_NAME: `${stack}-meta`, SIZES: 'thumb=100x100', PRESETS: 'card=300x200:webp' };

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-api-artifact-'));
    const build = await buildArtifacts({ arch: 'x86_64' });
    const { taskDir, optDir } = await unpackForLambda(build.functionZip.bytes, build.layerZip.bytes, tmp);
    env = {
      ...lambdaLikeEnv(taskDir, optDir, {
        AWS_ENDPOINT_URL: inject('ministackEndpoint'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_LAMBDA_FUNCTION_NAME: 'img-resizer-api-test',
        ...settingsEnv,
      }),
    };
    env.TASK_DIR = taskDir;
    test = await localTestContext();
  });
  afterAll(async () => {
    test.context.close();
    await rm(tmp, { recursive: true, force: true });
  });

  const invoke = async (event: unknown): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> => {
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', INVOKE], { cwd: env.TASK_DIR, env: { ...env, TEST_EVENT: JSON.stringify(event) } });
    // The handler logs a JSON line per request; the answer is the last line.
    return JSON.parse(stdout.slice(stdout.lastIndexOf('\n') + 1)) as { statusCode: number; headers: Record<string, string>; body: string };
  };

  it('hands out an upload, and renders a missing preset with the layer sharp, then redirects to it', async () => {
    const clients = await test.context.clients();
    await clients.s3.send(new CreateBucketCommand({ Bucket: settingsEnv.SOURCE_BUCKET }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: settingsEnv.DEST_BUCKET }));
    await createTable(clients.dynamodb, settingsEnv.TABLE_NAME, 'ImageID', {});

    const upload = await invoke(httpEvent('POST', '/uploads', { filename: 'cat.jpg', contentType: 'image/jpeg', bytes: 1000 }));
    expect(upload.statusCode, upload.body).toBe(201);
    expect(JSON.parse(upload.body)).toMatchObject({ statusUrl: expect.stringMatching(/^https:\/\/api\.example\.com\/images\/uploads\/cat-.+\.jpg$/) as unknown });

    const key = 'uploads/cat-0001.jpg';
    const image = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 20, g: 120, b: 200 } } }).jpeg().toBuffer();
    await clients.s3.send(new PutObjectCommand({ Bucket: settingsEnv.SOURCE_BUCKET, Key: key, Body: image, ContentType: 'image/jpeg' }));
    const record: S3ObjectRecord = { bucket: settingsEnv.SOURCE_BUCKET, rawKey: encodeS3EventKey(key), key, eventName: 'ObjectCreated:Put', size: undefined, eTag: undefined, sequencer: undefined };
    expect((await processRecord(record, loadFunctionSettings(settingsEnv), awsRecordPorts(clients, settingsEnv.TABLE_NAME))).status).toBe('SUCCEEDED');

    const preset = await invoke(httpEvent('GET', `/images/${key}/card`));
    expect(preset.statusCode, preset.body).toBe(302);
    const location = preset.headers.location ?? '';
    expect(new URL(location).pathname).toBe(`/${settingsEnv.DEST_BUCKET}/resized/card/uploads/cat-0001.webp`);
    // The presigned URL serves the rendered output.
    const out = path.join(tmp, 'card.webp');
    await execFileAsync('curl', ['-sSf', '-o', out, location]);
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 300, 200]);

    const unknown = await invoke(httpEvent('GET', `/images/${key}/poster`));
    expect([unknown.statusCode, JSON.parse(unknown.body)]).toEqual([404, { error: { code: 'UNKNOWN_PRESET', message: expect.any(String) as unknown, allowed: ['thumb', 'card'] } }]);
  });
});
