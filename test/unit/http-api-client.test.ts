/**
 * The HTTP API client of `upload --via-api` against a loopback server standing in for the API and for S3's
 * form endpoint: what it sends (bearer token or SigV4 headers, the form's order) and how each refusal becomes
 * a typed error. The real API and S3 answer it in test/integration/upload-via-api-local.test.ts and
 * api-iam-auth-local.test.ts; statuses such as 429 or 500 are hard to provoke there, hence this server.
 */
import { writeFile, mkdtemp } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { executeApiSigner, HttpApiClient, HttpApiError, type PresignedUpload } from '../../src/aws/http-api-client.js';
import { localTarget } from '../../src/aws/target.js';
import { ExitCode } from '../../src/errors.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers each request with the status and body queued for its path; records what arrived. */
function startServer(): Promise<{ base: string; server: Server; received: Received[]; answer: (path: string, status: number, body: string) => void }> {
  const answers = new Map<string, { status: number; body: string }>();
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('latin1') });
      const answer = answers.get(request.url ?? '') ?? { status: 404, body: '{"message":"Not Found"}' };
      response.writeHead(answer.status, { 'content-type': answer.body.startsWith('<') ? 'application/xml' : 'application/json' }).end(answer.body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ base, server, received, answer: (p, status, body) => answers.set(p, { status, body }) });
    });
  });
}

describe('HttpApiClient', () => {
  let api: Awaited<ReturnType<typeof startServer>>;
  let clients: AwsClients;
  const stage = '/_aws/execute-api/abcd1234/$default';

  beforeAll(async () => {
    api = await startServer();
    clients = new AwsClients(localTarget(api.base, {}));
  });

  afterAll(() => {
    clients.destroy();
    api.server.close();
  });

  function client(auth: 'iam' | 'jwt'): HttpApiClient {
    return new HttpApiClient({
      baseUrl: `${api.base}${stage}`,
      auth: auth === 'jwt' ? { kind: 'jwt', token: 'the-token' } : { kind: 'iam', signer: executeApiSigner(clients.apigateway) },
    });
  }

  it('sends the token as a bearer header with JWT auth', async () => {
    api.answer(`${stage}/uploads`, 201, JSON.stringify({ imageId: 'id', bucket: 'b', key: 'uploads/a.jpg', upload: { method: 'POST', url: '', fields: {} } }));
    const answer = await client('jwt').createUpload({ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 10 });
    expect(answer.key).toBe('uploads/a.jpg');
    const sent = api.received.at(-1)!;
    expect(sent.headers.authorization).toBe('Bearer the-token');
    expect(JSON.parse(sent.body)).toEqual({ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 10 });
  });

  it('signs with SigV4 for execute-api with IAM auth, host (with its port) and date signed', async () => {
    await client('iam').createUpload({ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 10 });
    const sent = api.received.at(-1)!;
    expect(sent.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=([a-z0-9-]+;)*host;([a-z0-9-]+;)*x-amz-date, Signature=[0-9a-f]{64}$/);
    expect(sent.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(sent.headers.host).toBe(new URL(api.base).host);
  });

  it('turns refusals into typed errors with a next step; only the caller\'s and the route\'s stop the batch', async () => {
    const cases: [number, string, string, boolean, ExitCode][] = [
      [401, '{"message":"Unauthorized"}', 'API_UNAUTHORIZED', true, ExitCode.Usage],
      [403, '{"message":"Forbidden"}', 'API_FORBIDDEN', true, ExitCode.Usage],
      [404, '{"message":"Not Found"}', 'API_NO_ROUTE', true, ExitCode.Failed],
      [400, '{"error":{"code":"UNSUPPORTED_TYPE","message":"no"}}', 'API_UNSUPPORTED_TYPE', false, ExitCode.Failed],
      [400, '{"error":{"code":"TOO_LARGE","message":"big"}}', 'API_TOO_LARGE', false, ExitCode.Failed],
      [413, '{"message":"Request Entity Too Large"}', 'API_TOO_LARGE', false, ExitCode.Failed],
      [429, '{"message":"Too Many Requests"}', 'API_THROTTLED', false, ExitCode.Failed],
      [500, '{"error":{"code":"INTERNAL","message":"Internal error"}}', 'API_ERROR', false, ExitCode.Failed],
    ];
    for (const [status, body, code, stopsBatch, exitCode] of cases) {
      api.answer(`${stage}/uploads`, status, body);
      const error = await client('jwt').createUpload({ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 10 }).catch((e: unknown) => e);
      expect(error, `${status} ${body}`).toBeInstanceOf(HttpApiError);
      const refusal = error as HttpApiError;
      expect({ code: refusal.code, status: refusal.status, stopsBatch: refusal.affectsEveryFile, exitCode: refusal.exitCode }).toEqual({ code, status, stopsBatch, exitCode });
      expect(refusal.suggestion?.length).toBeGreaterThan(10);
      expect(refusal.message).not.toContain('the-token');
    }
  });

  it('reads an image, and says "not yet" when the API knows nothing of the key', async () => {
    api.answer(`${stage}/images/uploads/a%20b.jpg`, 200, JSON.stringify({ Status: 'PENDING', Outputs: [] }));
    expect(await client('jwt').getImage('uploads/a b.jpg')).toMatchObject({ Status: 'PENDING' });
    api.answer(`${stage}/images/uploads/gone.jpg`, 404, JSON.stringify({ error: { code: 'NOT_FOUND', message: 'No image' } }));
    expect(await client('jwt').getImage('uploads/gone.jpg')).toBeUndefined();
  });

  it('posts the form with the policy fields first and the file last, and names S3\'s refusals', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-form-'));
    const file = path.join(dir, 'a.jpg');
    await writeFile(file, Buffer.from('fake jpeg bytes'));
    const upload: PresignedUpload = {
      imageId: 'id', bucket: 'b', key: 'uploads/a.jpg', statusUrl: '',
      upload: { method: 'POST', url: `${api.base}/bucket`, fields: { key: 'uploads/a.jpg', Policy: 'p', 'Content-Type': 'image/jpeg' }, maxBytes: 15, expiresInSeconds: 300 },
    };
    api.answer('/bucket', 204, '');
    await client('jwt').postFile(upload, { path: file, contentType: 'image/jpeg' });
    const sent = api.received.at(-1)!;
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.headers['content-length']).toBe(String(Buffer.byteLength(sent.body, 'latin1')));
    const order = ['name="key"', 'name="Policy"', 'name="Content-Type"', 'name="file"'].map((name) => sent.body.indexOf(name));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(sent.body).toContain('fake jpeg bytes');

    api.answer('/bucket', 400, '<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>');
    const error = await client('jwt').postFile(upload, { path: file, contentType: 'image/jpeg' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UPLOAD_SIZE_REFUSED', status: 400, apiCode: 'EntityTooLarge', affectsEveryFile: false });
  });
});
