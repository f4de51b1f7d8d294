import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli.js';
import { runCli } from '../helpers/cli.js';

/** Modules that make start-up slow (issue 21): none may load unless the command uses it. */
const HEAVY = /\/node_modules\/(@aws-sdk\/|@smithy\/|sharp\/|@img\/|esbuild\/|@inquirer\/|ora\/)/;

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-imports-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** Runs the CLI with a hook that records every module it resolves; returns the resolved URLs. */
async function importsOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ modules: string[]; code: number; stderr: string }> {
  const log = path.join(dir, `${args.join('_').replace(/\W+/g, '-')}.log`);
  await writeFile(log, '');
  const { code, stderr } = await runCli(args, {
    cwd: dir,
    env: { IMPORT_LOG: log, ...env },
    nodeArgs: ['--import', path.resolve('test/helpers/record-imports.mjs')],
  });
  const modules = (await readFile(log, 'utf8')).split('\n').filter(Boolean);
  return { modules, code, stderr };
}

describe('start-up loads only what the command uses', () => {
  const light = [['--help'], ['--version'], ['help', 'upload'], ['init', '--help'], ['status', '--help'], ['destroy', '--help'], ['export', '--help'], ['upload', '--help'], ['metadata', 'get', '--help'], ['url', '--help'], ['gallery', '--help'], ['tune', '--help'], ['backfill', '--help'], ['resize', '--help'], ['build', '--help'], ['demo', '--help'], ['events', '--help'], ['failures', '--help'], ['failures', 'redrive', '--help'], ['executions', '--help'], ['local', 'status']];

  it.each(light.map((args) => ({ args, shown: args.join(' ') })))('`$shown` imports no AWS SDK, sharp, esbuild, ora or prompt library', async ({ args }) => {
    const { modules, code } = await importsOf(args);
    expect(code).toBe(0);
    // The hook saw the program itself, so an empty heavy list means something.
    expect(modules.some((url) => url.endsWith('/src/cli.ts'))).toBe(true);
    expect(modules.filter((url) => HEAVY.test(url))).toEqual([]);
  });

  it('--help loads no command module at all', async () => {
    const { modules } = await importsOf(['--help']);
    expect(modules.filter((url) => url.includes('/src/commands/') && !url.endsWith('/src/commands/shared.ts'))).toEqual([]);
  });

  it('metadata get makes its first request before loading DynamoDB, and imports no S3, Lambda or IAM client', async () => {
    await writeFile(
      path.join(dir, 'img-resizer.config.json'),
      JSON.stringify({ stackName: 'x', region: 'us-east-1', sourceBucket: 'x-src', destBucket: 'x-dst', table: 'x-table', functionName: 'x-fn', roleName: 'x-role', layerName: 'x-layer', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64', memory: 1024, timeout: 60 }),
    );
    // A loopback endpoint that answers who the caller is and refuses the rest: the command makes its first request
    // (STS) before loading its operation, then loads what reading the table needs, then fails fast.
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      request.on('end', () => {
        if (body.includes('Action=GetCallerIdentity')) {
          response.writeHead(200, { 'content-type': 'text/xml' }).end(
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user/test</Arn><UserId>test</UserId><Account>000000000000</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
          );
        } else {
          response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end('{"__type":"com.amazon.coral.validate#ValidationException","message":"refused by the test"}');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const { modules, code, stderr } = await importsOf(['metadata', 'get', 'a.jpg', '--endpoint-url', `http://127.0.0.1:${port}`], {
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1',
    }).finally(() => { server.close(); });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/refused by the test/);
    const sdk = new Set(modules.flatMap((url) => /\/node_modules\/@aws-sdk\/(client-[a-z0-9-]+|lib-[a-z-]+)\//.exec(url)?.[1] ?? []));
    expect(sdk.has('lib-dynamodb')).toBe(true);
    for (const unused of ['client-s3', 'client-lambda', 'client-iam', 'lib-storage', 'client-sfn', 'client-eventbridge', 'client-cloudwatch-logs']) expect(sdk.has(unused)).toBe(false);
  });

  it('lists each command in --help with the description its module declares', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect({ name: command.name(), description: command.description() }).toEqual({ name: entry.name, description: entry.description });
    }
  });
});
