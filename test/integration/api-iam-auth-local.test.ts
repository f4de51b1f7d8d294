/**
 * Issue 14, IAM auth of the HTTP API with signatures really checked: MiniStack verifies SigV4 and evaluates the
 * caller's policies for `execute-api:Invoke` only when started with AUTH=true (app.py `_enforce_execute_api`),
 * which the shared test stack is not. So this test runs a MiniStack of its own with AUTH=true, deploys the stack
 * with the account's root keys, and calls `POST /uploads` as an IAM user allowed to invoke this API only:
 * unsigned, wrongly signed and unauthorised requests are refused, the CLI's signed request is accepted; then
 * the whole `upload --via-api --wait` runs as that user, and the pipeline behind it under the stack's own roles.
 * (MiniStack does not check the signatures of root keys, hence the user.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { DeleteBucketPolicyCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { executeApiSigner, HttpApiClient, HttpApiError } from '../../src/aws/http-api-client.js';
import { localTarget } from '../../src/aws/target.js';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { runApiUrl } from '../../src/operations/api.js';
import { runUploadViaApi } from '../../src/operations/upload-via-api.js';
import { AppContext } from '../../src/context.js';
import { Output } from '../../src/ui/output.js';
import { PassThrough } from 'node:stream';
import { ensureCorpus } from '../../bench/lib/corpus.js';
import { defaultRuntime } from '../../src/runtimes.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';

const UPLOAD = { filename: 'cat.jpg', contentType: 'image/jpeg', bytes: 1000 };

describe('the HTTP API with IAM auth, on a MiniStack that checks signatures (AUTH=true)', () => {
  let stateDir = '';
  let endpoint = '';
  let stack: DeployedTestStack;
  let apiUrl: string;
  let apiId: string;
  const made: AwsClients[] = [];

  /** Clients signing as these keys (the local target otherwise uses the root keys). */
  function clientsAs(credentials: { accessKeyId: string; secretAccessKey: string }): AwsClients {
    const clients = new AwsClients({ ...localTarget(endpoint, {}), credentials });
    made.push(clients);
    return clients;
  }

  async function userWithKeys(name: string, policy: object | undefined): Promise<{ accessKeyId: string; secretAccessKey: string }> {
    const iam = (await stack.context.clients()).iam;
    await iam.send(new CreateUserCommand({ UserName: name }));
    if (policy !== undefined) await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'invoke', PolicyDocument: JSON.stringify(policy) }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
  }

  function apiAs(credentials: { accessKeyId: string; secretAccessKey: string }): HttpApiClient {
    return new HttpApiClient({ baseUrl: apiUrl, auth: { kind: 'iam', signer: executeApiSigner(clientsAs(credentials).apigateway) } });
  }

  beforeAll(async () => {
    const node = await installNodeForRuntime(defaultRuntime());
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-stack-auth-'));
    const local = await startLocalStack({
      stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000, pathPrefix: [node.binDir], environment: { AUTH: 'true' },
    });
    endpoint = local.endpoint;
    stack = await deployTestStack({ sizes: 'thumb=200x200', api: true, endpoint });
    const api = await runApiUrl(stack.context);
    apiUrl = api.url;
    apiId = api.apiId;
  }, 600_000);

  afterAll(async () => {
    for (const clients of made) clients.destroy();
    stack.context.close();
    if (stateDir === '') return;
    await stopLocalStack(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  });

  it('accepts a request signed by a caller allowed execute-api:Invoke on this API', async () => {
    const keys = await userWithKeys('uploader', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:us-east-1:000000000000:${apiId}/*` }],
    });
    const upload = await apiAs(keys).createUpload(UPLOAD);
    expect(upload.key).toMatch(/^uploads\/cat-.+\.jpg$/);
  });

  it('refuses an unsigned request, a wrong signature and a caller without the permission', async () => {
    const unsigned = await fetch(`${apiUrl}/uploads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(UPLOAD) });
    expect(unsigned.status).toBe(403);

    const keys = await userWithKeys('forger', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:us-east-1:000000000000:${apiId}/*` }],
    });
    const forged = await apiAs({ accessKeyId: keys.accessKeyId, secretAccessKey: `${keys.secretAccessKey.slice(0, -1)}x` }).createUpload(UPLOAD).catch((e: unknown) => e);
    expect(forged).toBeInstanceOf(HttpApiError);
    expect(forged).toMatchObject({ code: 'API_FORBIDDEN', status: 403, suggestion: expect.stringContaining('execute-api:Invoke') as string });
    expect((forged as HttpApiError).message).toMatch(/signature/i);

    const outsider = await userWithKeys('outsider', undefined);
    const denied = await apiAs(outsider).createUpload(UPLOAD).catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'API_FORBIDDEN', status: 403 });
    expect((denied as HttpApiError).message).toMatch(/not authorized|execute-api:Invoke/i);
  });

  it('upload --via-api --wait as that caller: signed requests all the way, and the pipeline runs under its roles', async () => {
    const keys = await userWithKeys('operator', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `arn:aws:execute-api:us-east-1:000000000000:${apiId}/*` },
        // `api url`'s lookup of the API.
        { Effect: 'Allow', Action: 'apigateway:GET', Resource: 'arn:aws:apigateway:us-east-1::/apis' },
      ],
    });
    // MiniStack serves plain HTTP and, with AUTH=true, evaluates aws:SecureTransport: the buckets' TLS-only
    // statements would refuse every request of the stack's roles here (as AWS would over HTTP), so they go.
    const root = await stack.context.clients();
    for (const bucket of [stack.settings.sourceBucket, stack.settings.destBucket]) await root.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    const corpus = await ensureCorpus(undefined, () => undefined);
    const photo = corpus.files.filter((f) => f.extension === '.jpg' && f.bytes < 2 * 1024 * 1024).sort((a, b) => b.bytes - a.bytes)[0]!;
    const output = new Output({ json: false, debug: false, stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), interactive: false });
    const context = new AppContext({ yes: true }, { output, cwd: stack.cwd, target: { ...localTarget(endpoint, {}), credentials: keys } });
    try {
      const { exitCode, report } = await runUploadViaApi(context, { paths: [photo.path], wait: true, timeoutSeconds: 120 });
      expect(report.files.map((f) => `${f.outcome} ${f.reason ?? ''}`)).toEqual(['SUCCEEDED ']);
      expect(exitCode).toBe(0);
    } finally {
      context.close();
    }
  }, 240_000);
});
