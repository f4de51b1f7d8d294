import {
  CreateFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  PutFunctionConcurrencyCommand,
  waitUntilFunctionActiveV2,
  type InvokeCommandInput,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deterministicZip } from '../../src/artifact/zip.js';
import { AwsClients, type AnyClient } from '../../src/aws/clients.js';
import { localTarget } from '../../src/aws/target.js';
import { invokeSynchronously } from '../../src/operations/invoke-function.js';
import { RequestRecorder } from '../helpers/request-recorder.js';
import { uniqueStackName } from '../helpers/deploy.js';

/** Runs `hook` on the input and outcome of every Invoke call a client makes (one request each: the client makes one attempt). */
function onInvoke(client: AnyClient, hook: (input: InvokeCommandInput, error: unknown) => Promise<void>): void {
  (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
    (next: (args: { input: InvokeCommandInput }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: InvokeCommandInput }) => {
        if (context.commandName !== 'InvokeCommand') return next(args);
        try {
          const result = await next(args);
          await hook(args.input, undefined);
          return result;
        } catch (error) {
          await hook(args.input, error);
          throw error;
        }
      },
    { step: 'initialize', name: 'onInvoke' },
  );
}

describe('invokeSynchronously on the local stack', () => {
  const prefix = uniqueStackName('inv');
  const names = { ok: `${prefix}-ok`, throws: `${prefix}-throws`, limited: `${prefix}-limited` };
  const endpoint = inject('ministackEndpoint');
  // Setup and the concurrency switch go through their own client, so only the invokes under test are recorded.
  const admin = new AwsClients(localTarget(endpoint, {}));
  const recorder = new RequestRecorder();
  const inputs: InvokeCommandInput[] = [];
  let throttles = 0;
  // One attempt per SDK call: the throttling retries under test are invokeSynchronously's own, and the SDK's
  // would multiply them (with its own backoff).
  const clients = new AwsClients(localTarget(endpoint, {}), { hooks: [recorder.hook], maxAttempts: 1 });
  const invokes = (): number => recorder.operations().filter((o) => o === 'lambda:Invoke').length;

  beforeAll(async () => {
    const code = {
      ok: 'exports.handler = async () => null;\n',
      throws: "exports.handler = async () => { throw new Error('Input buffer contains unsupported image format'); };\n",
      limited: 'exports.handler = async () => null;\n',
    };
    for (const [kind, name] of Object.entries(names) as [keyof typeof names, string][]) {
      await admin.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::000000000000:role/invoke-test',
          Code: { ZipFile: await deterministicZip([{ path: 'index.js', data: Buffer.from(code[kind]) }]) },
        }),
      );
      await waitUntilFunctionActiveV2({ client: admin.lambda, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { FunctionName: name });
    }
    onInvoke(clients.lambda, async (input, error) => {
      inputs.push(input);
      // The limited function is throttled twice, then its concurrency is given back, as when a burst passes.
      if (input.FunctionName === names.limited && error !== undefined && ++throttles === 2) {
        await admin.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: names.limited }));
      }
    });
  });

  afterAll(() => {
    clients.destroy();
    admin.destroy();
  });

  it('invokes RequestResponse with the JSON payload and retries throttled invokes', async () => {
    // Reserved concurrency 0: Lambda answers every invoke with TooManyRequestsException until it is lifted.
    await admin.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: names.limited, ReservedConcurrentExecutions: 0 }));
    recorder.clear();
    inputs.length = 0;
    const result = await invokeSynchronously(clients.lambda, names.limited, { hello: 'world' }, { minTimeoutMs: 1, maxTimeoutMs: 2 });
    expect(result).toEqual({ functionError: undefined, errorMessage: undefined, attempts: 3 });
    expect(invokes()).toBe(3);
    const input = inputs[0]!;
    expect(input.FunctionName).toBe(names.limited);
    expect(input.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual({ hello: 'world' });
  });

  it('gives up on throttling after its retries', async () => {
    await admin.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: names.ok, ReservedConcurrentExecutions: 0 }));
    recorder.clear();
    await expect(invokeSynchronously(clients.lambda, names.ok, {}, { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 })).rejects.toThrow(/Rate Exceeded/);
    expect(invokes()).toBe(3);
    await admin.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: names.ok }));
  });

  it('does not retry other errors', async () => {
    recorder.clear();
    await expect(invokeSynchronously(clients.lambda, `${prefix}-missing`, {}, { minTimeoutMs: 1 })).rejects.toThrow(/Function not found/);
    expect(invokes()).toBe(1);
  });

  it('reports a function error with the function\'s own message', async () => {
    const result = await invokeSynchronously(clients.lambda, names.throws, {});
    // MiniStack reports every thrown error as errorType "Runtime.HandlerError", where AWS gives the error's name
    // ("Error"); test/unit/backfill-invoke.test.ts covers AWS's payload.
    expect(result).toEqual({ functionError: 'Unhandled', errorMessage: 'Runtime.HandlerError: Input buffer contains unsupported image format', attempts: 1 });
  });
});
