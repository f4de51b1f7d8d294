/**
 * Issue 14 on the local stack: `init --api` with JWT auth stands up the API end to end, and clients use it with
 * curl as the README shows. JWT because MiniStack enforces it on HTTP API routes (it fetches the issuer's
 * discovery document and JWKS, which this test serves on loopback); it checks AWS_IAM signatures only when started
 * with AUTH=true for every service, which api-iam-auth-local.test.ts does (README "HTTP API": the local gap).
 * MiniStack verifies RS256 signatures with the `cryptography` package, which only its `full` extra brings (the
 * plain install refuses every token), so this test runs a MiniStack of its own from that venv.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { GetApisCommand, GetRoutesCommand, GetStageCommand } from '@aws-sdk/client-apigatewayv2';
import { GetPolicyCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCorpus } from '../../bench/lib/corpus.js';
import { executeApiUrl } from '../../src/commands/api.js';
import { executeDestroy } from '../../src/commands/destroy.js';
import { executeStatus } from '../../src/commands/status.js';
import { runUploadViaApi } from '../../src/commands/upload.js';
import { ExitCode } from '../../src/errors.js';
import { readFile } from 'node:fs/promises';
import { runCli } from '../helpers/cli.js';
import type { AwsClients } from '../../src/aws/clients.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { defaultRuntime } from '../../src/runtimes.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { installMiniStackFull } from '../helpers/python-tools.js';

const execFileAsync = promisify(execFile);
const MB = 1024 * 1024;
const AUDIENCE = 'img-resizer-test';

/** A minimal OIDC issuer: discovery document and JWKS of one RSA key, on loopback. */
async function startIssuer(): Promise<{ url: string; sign: (claims: Record<string, unknown>, key?: KeyObject) => string; server: Server }> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const server = createServer((request, response) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') response.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks.json` }));
    else if (request.url === '/jwks.json') response.end(JSON.stringify({ keys: [jwk] }));
    else response.writeHead(404).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const sign = (claims: Record<string, unknown>, key: KeyObject = privateKey): string => {
    const now = Math.floor(Date.now() / 1000);
    const body = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'test-key' })}.${b64({ iss: url, iat: now, exp: now + 600, ...claims })}`;
    return `${body}.${createSign('RSA-SHA256').update(body).sign(key).toString('base64url')}`;
  };
  return { url, sign, server };
}

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await execFileAsync('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...args], { maxBuffer: 8 * MB }).catch(
    // curl exits non-zero on some refusals; its output still says what happened.
    (error: unknown) => ({ stdout: (error as { stdout?: string }).stdout ?? '' }),
  );
  const lines = stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: lines.join('\n') };
}

async function curlStatus(args: string[]): Promise<{ status: number; location: string; body: string }> {
  const { stdout } = await execFileAsync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', ...args]);
  const [status, location] = stdout.split(' ');
  return { status: Number(status), location: location ?? '', body: '' };
}

describe('init --api on the local stack (JWT auth)', () => {
  let stack: DeployedTestStack;
  let clients: AwsClients;
  let issuer: Awaited<ReturnType<typeof startIssuer>>;
  let api: string;
  let photoPath: string;
  let token: string;
  let stateDir = '';
  let endpoint = '';

  beforeAll(async () => {
    const [python, node] = await Promise.all([installMiniStackFull(), installNodeForRuntime(defaultRuntime())]);
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-stack-jwt-'));
    const local = await startLocalStack({ stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000, pathPrefix: [node.binDir], python });
    endpoint = local.endpoint;
    issuer = await startIssuer();
    token = issuer.sign({ aud: AUDIENCE, sub: 'tester' });
    stack = await deployTestStack({
      sizes: 'thumb=200x200',
      api: true,
      apiPresets: 'card=600x400:webp',
      apiJwtIssuer: issuer.url,
      apiJwtAudience: AUDIENCE,
      endpoint: local.endpoint,
    });
    clients = await stack.context.clients();
    const corpus = await ensureCorpus(undefined, () => undefined);
    const photo = corpus.files.filter((f) => f.extension === '.jpg' && f.bytes < 4 * MB).sort((a, b) => b.bytes - a.bytes)[0];
    if (!photo) throw new Error('the corpus has no JPEG under 4 MB');
    photoPath = photo.path;
  }, 600_000);

  afterAll(async () => {
    stack.context.close();
    issuer.server.close();
    if (stateDir === '') return;
    await stopLocalStack(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('creates the API after the pipeline, and says so', () => {
    expect(stack.result.exitCode).toBe(0);
    expect(stack.result.steps.map((s) => `${s.id}:${s.status}`).slice(-5)).toEqual([
      'api-role:applied',
      'api-function:applied',
      'api-log-group:applied',
      'http-api:applied',
      'api-permission:applied',
    ]);
  });

  it('wires routes with the JWT authorizer, a throttled $default stage with access logs, and a permission for this API only', async () => {
    const apis = await clients.apigateway.send(new GetApisCommand({}));
    const ours = apis.Items?.find((a) => a.Name === `${stack.settings.stackName}-api`);
    const apiId = ours?.ApiId ?? '';
    const routes = await clients.apigateway.send(new GetRoutesCommand({ ApiId: apiId }));
    expect(routes.Items?.map((r) => `${r.RouteKey}:${r.AuthorizationType}`).sort()).toEqual(['GET /images/{proxy+}:JWT', 'POST /uploads:JWT']);
    const stage = await clients.apigateway.send(new GetStageCommand({ ApiId: apiId, StageName: '$default' }));
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingBurstLimit: 100, ThrottlingRateLimit: 50 });
    expect(stage.AccessLogSettings?.DestinationArn).toContain(`log-group:/aws/apigateway/${stack.settings.stackName}-api`);
    const policy = await clients.lambda.send(new GetPolicyCommand({ FunctionName: `${stack.settings.stackName}-api` }));
    expect(policy.Policy).toContain(`:${apiId}/*`);
    expect(policy.Policy).toContain('apigateway.amazonaws.com');
  });

  it('api url prints the endpoint', async () => {
    const result = await executeApiUrl(stack.context);
    api = result.url;
    expect(api).toMatch(/\/_aws\/execute-api\/[a-f0-9]{8}\/\$default$/);
    expect(stack.stdout()).toContain(api);
  });

  it('refuses uploads without a token, and with a token for another audience', async () => {
    const body = JSON.stringify({ filename: 'cat.jpg', contentType: 'image/jpeg', bytes: 1000 });
    const none = await curl(['-X', 'POST', `${api}/uploads`, '-H', 'content-type: application/json', '-d', body]);
    expect(none.status).toBe(401);
    const wrong = await curl(['-X', 'POST', `${api}/uploads`, '-H', `authorization: Bearer ${issuer.sign({ aud: 'someone-else' })}`, '-d', body]);
    expect(wrong.status).toBe(401);
    const forged = await curl(['-X', 'POST', `${api}/uploads`, '-H', `authorization: Bearer ${issuer.sign({ aud: AUDIENCE }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)}`, '-d', body]);
    expect(forged.status).toBe(401);
  });

  it('hands out a presigned POST, takes the photo, and reports it SUCCEEDED; presets 302 then exist, unknown ones 404', async () => {
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(photoPath));
    const auth = ['-H', `authorization: Bearer ${token}`];
    const created = await curl(['-X', 'POST', `${api}/uploads`, ...auth, '-H', 'content-type: application/json', '-d', JSON.stringify({ filename: 'photo.jpg', contentType: 'image/jpeg', bytes: size })]);
    expect(created.status).toBe(201);
    const answer = JSON.parse(created.body) as { key: string; upload: { url: string; fields: Record<string, string> } };
    expect(answer.key).toMatch(/^uploads\/photo-.+\.jpg$/);
    const form = Object.entries(answer.upload.fields).flatMap(([name, value]) => ['--form-string', `${name}=${value}`]);
    const posted = await curl([...form, '-F', `file=@${photoPath}`, answer.upload.url]);
    expect(posted.status).toBeLessThan(300);

    const deadline = Date.now() + 120_000;
    let item: { Status?: string } = {};
    while (item.Status !== 'SUCCEEDED' && Date.now() < deadline) {
      const read = await curl([...auth, `${api}/images/${answer.key}`]);
      expect(read.status).toBe(200);
      item = JSON.parse(read.body) as { Status?: string };
      if (item.Status !== 'SUCCEEDED') await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    expect(item.Status).toBe('SUCCEEDED');

    expect((await curlStatus([...auth, `${api}/images/${answer.key}/nope`])).status).toBe(404);
    expect((await curlStatus([...auth, `${api}/images/uploads/never-uploaded.jpg`])).status).toBe(404);
    expect((await curlStatus([`${api}/images/${answer.key}`])).status).toBe(401);
    const card = await curlStatus([...auth, `${api}/images/${answer.key}/card`]);
    expect(card.status).toBe(302);
    const output = await curlStatus([card.location]);
    expect(output.status).toBe(200);
  }, 240_000);

  it('upload --via-api sends the token as a bearer header; without one, or with a refused one, it says what to do', async () => {
    const missing = await runUploadViaApi(stack.context, { paths: [photoPath], wait: false }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'API_TOKEN_REQUIRED', exitCode: ExitCode.Usage, suggestion: expect.stringContaining('IMG_RESIZER_API_TOKEN') as string });
    const otherAudience = issuer.sign({ aud: 'someone-else' });
    const refused = await runUploadViaApi(stack.context, { paths: [photoPath], wait: false, apiToken: otherAudience }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'API_UNAUTHORIZED', status: 401, suggestion: expect.stringContaining('--api-token') as string });

    const { exitCode, report } = await runUploadViaApi(stack.context, { paths: [photoPath], wait: true, timeoutSeconds: 120, apiToken: token });
    expect(exitCode).toBe(ExitCode.Ok);
    expect(report).toMatchObject({ via: 'api', auth: 'JWT', failed: [] });
    expect(report.files[0]).toMatchObject({ outcome: 'SUCCEEDED', item: { Status: 'SUCCEEDED' } });
    expect(report.files[0]!.key).toMatch(/^uploads\/.+\.jpg$/);
    // The token is a secret: in no output, report or settings file.
    const settingsFile = await readFile(stack.context.settingsFile, 'utf8');
    for (const text of [stack.stdout(), stack.stderr(), JSON.stringify(report), settingsFile]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(otherAudience);
    }
  }, 240_000);

  it('the CLI takes the token from IMG_RESIZER_API_TOKEN, and without it exits 2 with the next step', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
    const args = ['upload', '--via-api', photoPath, '--wait', '--json', '--endpoint-url', endpoint];
    const withToken = await runCli(args, { cwd: stack.cwd, env: { ...env, IMG_RESIZER_API_TOKEN: token } });
    expect(withToken.stderr).not.toContain(token);
    expect(withToken.code).toBe(0);
    const report = JSON.parse(withToken.stdout) as { via: string; files: { outcome: string; key: string }[] };
    expect(report.via).toBe('api');
    expect(report.files.map((f) => f.outcome)).toEqual(['SUCCEEDED']);
    expect(withToken.stdout).not.toContain(token);

    const without = await runCli(args, { cwd: stack.cwd, env: { ...env, IMG_RESIZER_API_TOKEN: '' } });
    expect(without.code).toBe(2);
    expect(without.stdout + without.stderr).toContain('API_TOKEN_REQUIRED');
  }, 240_000);

  it('status checks the API parts, then destroy removes them', async () => {
    const status = await executeStatus(stack.context);
    const api = status.resources.filter((r) => r.id.startsWith('api-') || r.id === 'http-api');
    expect(api.map((r) => `${r.id}:${r.action}`)).toEqual(['api-role:no-op', 'api-function:no-op', 'api-log-group:no-op', 'http-api:no-op', 'api-permission:no-op']);
    const destroyed = await executeDestroy(stack.context);
    expect(destroyed.exitCode).toBe(0);
    const apis = await clients.apigateway.send(new GetApisCommand({}));
    expect(apis.Items?.some((a) => a.Name === `${stack.settings.stackName}-api`)).toBe(false);
  }, 240_000);
});
