import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { buildArtifacts, type BuildResult } from '../../src/artifact/build.js';
import { lambdaLikeEnv, measureColdImport, unpackForLambda } from '../../src/artifact/lambda-layout.js';
import { listZipEntries, sha256Hex } from '../../src/artifact/zip.js';
import { runBuild } from '../../src/operations/build.js';
import { Output } from '../../src/ui/output.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { encodeS3EventKey } from '../../lambda-src/core/keys.js';
import { localTestContext, type TestContext } from '../helpers/context.js';
import { createTable } from '../../src/aws/dynamodb.js';

const execFileAsync = promisify(execFile);

const SOURCE_BUCKET = 'artifact-test-source';
const DEST_BUCKET = 'artifact-test-dest';
const TABLE = 'artifact-test-metadata';
const KEY = 'photos/red square.jpg';

let tmp: string;
let build: BuildResult;
let taskDir: string;
let optDir: string;
let test: TestContext;

beforeAll(async () => {
  // Outside the repository, so nothing resolves from its node_modules.
  tmp = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-artifact-run-'));
  build = await buildArtifacts({ arch: 'x86_64' }); // the host's architecture: the layer must load here
  ({ taskDir, optDir } = await unpackForLambda(build.functionZip.bytes, build.layerZip.bytes, tmp));
  test = await localTestContext();
});
afterAll(async () => {
  test.context.close();
  await rm(tmp, { recursive: true, force: true });
});

/** An S3 ObjectCreated:Put event as S3 sends it (keys form-encoded), from the contract's template. */
async function s3Event(bucket: string, key: string, size: number, eTag: string): Promise<unknown> {
  const template = await readFile(path.resolve('templates/s3-event.json'), 'utf8');
  const values: Record<string, string> = {
    region: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: 'ObjectCreated:Put',
    principalId: 'AWS:AIDAEXAMPLE',
    requestId: 'C3D13FE58DE4C810',
    configurationId: 'img-resizer',
    bucket,
    partition: 'aws',
    key: encodeS3EventKey(key),
    size: String(size),
    eTag,
    sequencer: '0055AED6DCD90281E5',
  };
  const filled = template.replace(/"\$\{size\}"/g, String(size)).replace(/\$\{(\w+)\}/g, (_, name: string) => values[name] ?? '');
  return JSON.parse(filled);
}

// Runs in a fresh node process in task/: loads index.mjs as Lambda's runtime does and calls the handler.
const INVOKE = `
const { pathToFileURL } = await import('node:url');
const mod = await import(pathToFileURL(process.cwd() + '/index.mjs').href);
const context = {
  functionName: 'img-resizer-artifact-test', functionVersion: '$LATEST', memoryLimitInMB: '1024',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:img-resizer-artifact-test',
  awsRequestId: 'artifact-test-request', logGroupName: '/aws/lambda/img-resizer-artifact-test', logStreamName: 'test',
  callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 30000,
};
const result = await mod.handler(JSON.parse(process.env.TEST_EVENT), context);
process.stdout.write(JSON.stringify(result ?? null));
`;

describe('the built artifacts', () => {
  it('are byte-identical when built twice in a row', async () => {
    const again = await buildArtifacts({ arch: 'x86_64' });
    expect(again.functionZip.bytes.equals(build.functionZip.bytes)).toBe(true);
    expect(again.layerZip.bytes.equals(build.layerZip.bytes)).toBe(true);
    expect(again.functionZip.codeSha256).toBe(build.functionZip.codeSha256);
    expect((await listZipEntries(build.functionZip.bytes)).map((e) => e.path)).toEqual(['index.mjs']);
  });

  it('run the real handler in a process that sees only task/ and opt/, against the local stack', async () => {
    const env = lambdaLikeEnv(taskDir, optDir, {
      AWS_ENDPOINT_URL: inject('ministackEndpoint'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_LAMBDA_FUNCTION_NAME: 'img-resizer-artifact-test',
      DEST_BUCKET,
      TABLE_NAME: TABLE,
      SOURCE_BUCKET,
    });

    // The process cannot reach the repository's packages: only sharp, and only from the layer.
    const { stdout: resolved } = await execFileAsync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createRequire } = await import('node:module');
         const req = createRequire(process.cwd() + '/index.mjs');
         const tryResolve = (name) => { try { return req.resolve(name); } catch { return null; } };
         process.stdout.write(JSON.stringify({ sharp: tryResolve('sharp'), sdk: tryResolve('@aws-sdk/client-s3'), vitest: tryResolve('vitest') }));`,
      ],
      { cwd: taskDir, env },
    );
    const resolution = JSON.parse(resolved) as { sharp: string | null; sdk: string | null; vitest: string | null };
    expect(resolution.sharp?.startsWith(path.join(optDir, 'nodejs', 'node_modules', 'sharp') + path.sep)).toBe(true);
    expect(resolution.sdk).toBeNull();
    expect(resolution.vitest).toBeNull();

    const clients = await test.context.clients();
    await clients.s3.send(new CreateBucketCommand({ Bucket: SOURCE_BUCKET }));
    await clients.s3.send(new CreateBucketCommand({ Bucket: DEST_BUCKET }));
    await createTable(clients.dynamodb, TABLE, 'ImageID', {});
    const image = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 30, b: 30 } } }).jpeg().toBuffer();
    const put = await clients.s3.send(new PutObjectCommand({ Bucket: SOURCE_BUCKET, Key: KEY, Body: image, ContentType: 'image/jpeg' }));

    // S3 events carry the ETag without its quotes.
    const event = await s3Event(SOURCE_BUCKET, KEY, image.length, (put.ETag ?? '').replace(/"/g, ''));
    const invoked = await execFileAsync(process.execPath, ['--input-type=module', '-e', INVOKE], {
      cwd: taskDir,
      env: { ...env, TEST_EVENT: JSON.stringify(event) },
    }).catch((error: unknown) => {
      const { stderr, stdout } = error as { stderr?: string; stdout?: string };
      throw new Error(`The handler failed:\n${stderr ?? ''}\n${stdout ?? ''}`);
    });
    expect(invoked.stderr).not.toMatch(/Cannot find (module|package)/);

    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: DEST_BUCKET }));
    const outputKey = 'resized-photos/red square.png';
    expect((listed.Contents ?? []).map((o) => o.Key), `the handler's output:\n${invoked.stdout}\n${invoked.stderr}`).toEqual([outputKey]);
    const output = await clients.s3.send(new GetObjectCommand({ Bucket: DEST_BUCKET, Key: outputKey }));
    expect(output.ContentType).toBe('image/png');
    const meta = await sharp(Buffer.from(await output.Body!.transformToByteArray())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 200, 200]);

    const { Item: item } = await clients.documents.send(new GetCommand({ TableName: TABLE, Key: { ImageID: imageIdFor(SOURCE_BUCKET, KEY) } }));
    expect(item).toMatchObject({
      OriginalFile: KEY,
      SourceBucket: SOURCE_BUCKET,
      Bucket: DEST_BUCKET,
      ResizedFile: outputKey,
      Status: 'SUCCEEDED',
      OriginalWidth: 640,
      OriginalHeight: 480,
    });
  });

  it('import with sharp in a fresh process (time measured for the bench)', async () => {
    const ms = await measureColdImport(taskDir, optDir);
    expect(ms).toBeGreaterThan(0);
    expect(Number.isFinite(ms)).toBe(true);
  });
});

describe('runBuild', () => {
  it('writes function.zip and sharp-layer-<arch>.zip and reports their sizes and hashes', async () => {
    const out = path.join(tmp, 'build-out');
    const output = new Output({ json: true, debug: false, interactive: false, stderr: new PassThrough() });
    const { report, exitCode } = await runBuild({ arch: 'x86_64', out }, output);
    expect(exitCode).toBe(0);
    expect(report.artifacts.map((a) => a.name)).toEqual(['function.zip', 'sharp-layer-x86_64.zip']);
    expect(report.handler).toBe('index.handler');
    for (const artifact of report.artifacts) {
      const bytes = await readFile(path.join(out, artifact.name));
      expect(artifact.path).toBe(path.join(out, artifact.name));
      expect(bytes.length).toBe(artifact.size);
      expect(sha256Hex(bytes)).toBe(artifact.sha256);
    }
    expect(report.artifacts[0]?.sha256).toBe(build.functionZip.sha256);
    expect(report.layerDescription).toBe(build.layerZip.description);
  });
});
