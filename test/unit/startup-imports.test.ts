import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli.js';
import { runCli } from '../helpers/cli.js';

/** Modules that make start-up slow (issue 21): none may load unless the command uses it. */
const HEAVY = /\/node_modules\/(@aws-sdk\/|@smithy\/|sharp\/|@img\/|esbuild\/|@inquirer\/|ora\/)/;

let dir: string;
beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-imports-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/**
 * Runs the CLI with a hook that records every module it resolves, one URL per line in `log` (a loopback endpoint
 * may add its requests to the same file, so the two are in one order); returns the resolved URLs.
 */
async function importsOf(args: string[], env: NodeJS.ProcessEnv = {}, log = path.join(dir, `${args.join('_').replace(/\W+/g, '-')}.log`)): Promise<{ modules: string[]; code: number; stderr: string }> {
  await appendFile(log, '');
  const { code, stderr } = await runCli(args, {
    cwd: dir,
    env: { IMPORT_LOG: log, ...env },
    nodeArgs: ['--import', path.resolve('test/helpers/record-imports.mjs')],
  });
  const modules = (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('REQUEST'));
  return { modules, code, stderr };
}

const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

async function writeSettings(): Promise<void> {
  await writeFile(
    path.join(dir, 'img-resizer.config.json'),
    JSON.stringify({ stackName: 'x', region: 'us-east-1', sourceBucket: 'x-src', destBucket: 'x-dst', table: 'x-table', functionName: 'x-fn', roleName: 'x-role', layerName: 'x-layer', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64', memory: 1024, timeout: 60 }),
  );
}

/**
 * A loopback endpoint that answers who the caller is and refuses the rest, so a command makes its first request
 * (STS), goes on, and fails fast. With `log`, each request's action is appended to it as it arrives.
 */
async function loopbackAws(log?: string): Promise<{ url: string; close: () => void }> {
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
    request.on('end', () => {
      const action = /Action=(\w+)/.exec(body)?.[1] ?? `${request.method ?? ''} ${request.url ?? ''}`;
      if (log !== undefined) appendFileSync(log, `REQUEST ${action}\n`);
      if (action === 'GetCallerIdentity') {
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
  return { url: `http://127.0.0.1:${port}`, close: () => { server.closeAllConnections(); server.close(); } };
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

  it('metadata get makes its first request before loading DynamoDB, asks who the caller is once, and imports no S3, Lambda or IAM client', async () => {
    await writeSettings();
    const log = path.join(dir, 'metadata-get.log');
    const endpoint = await loopbackAws(log);
    const { modules, code, stderr } = await importsOf(['metadata', 'get', 'a.jpg', '--endpoint-url', endpoint.url], CREDENTIALS, log).finally(endpoint.close);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/refused by the test/);
    const sdk = new Set(modules.flatMap((url) => /\/node_modules\/@aws-sdk\/(client-[a-z0-9-]+|lib-[a-z-]+)\//.exec(url)?.[1] ?? []));
    expect(sdk.has('lib-dynamodb')).toBe(true);
    for (const unused of ['client-s3', 'client-lambda', 'client-iam', 'lib-storage', 'client-sfn', 'client-eventbridge', 'client-cloudwatch-logs']) expect(sdk.has(unused)).toBe(false);
    // Aimed at an endpoint, the local stack's modules (installers, processes) stay unloaded.
    expect(modules.filter((url) => url.includes('/src/local/'))).toEqual([]);
    // Who the caller is, asked once: the command's identity is the answer to its first request.
    const requests = (await readFile(log, 'utf8')).split('\n').filter((line) => line.startsWith('REQUEST '));
    expect(requests).toEqual(['REQUEST GetCallerIdentity', 'REQUEST POST /']);
  });

  it('upload sends its first request before it loads file-type to sniff the files, and still prints where it acts after its warnings', async () => {
    await writeSettings();
    await writeFile(path.join(dir, 'photo.jpg'), Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3a6ea5' } }).jpeg().toBuffer()));
    await writeFile(path.join(dir, 'notes.txt'), 'not an image');
    const log = path.join(dir, 'upload.log');
    const endpoint = await loopbackAws(log);
    const { code, stderr } = await importsOf(['upload', 'photo.jpg', 'notes.txt', '--no-wait', '--endpoint-url', endpoint.url], CREDENTIALS, log).finally(endpoint.close);
    expect(code).not.toBe(0);
    const lines = (await readFile(log, 'utf8')).split('\n');
    // The CLI process notes each HTTP request as it starts (the hook's diagnostics channel): the first one, to the
    // endpoint, starts before the sniff's first module is even asked for. The endpoint then saw who the caller is.
    const started = lines.findIndex((line) => line.startsWith('REQUEST-START POST 127.0.0.1'));
    const sniffModules = lines.flatMap((line, index) => (/\/node_modules\/(file-type|strtok3|token-types|@tokenizer)\//.test(line) ? [index] : []));
    expect(started).toBeGreaterThan(-1);
    expect(sniffModules.length).toBeGreaterThan(10);
    expect(Math.min(...sniffModules)).toBeGreaterThan(started);
    expect(lines).toContain('REQUEST GetCallerIdentity');
    // The early request changes no message: the skip warning, then where the command acts, then the upload.
    const skipping = stderr.indexOf('Skipping 1 file that is not an image');
    const target = stderr.indexOf('Target: http://127.0.0.1');
    expect(skipping).toBeGreaterThan(-1);
    expect(target).toBeGreaterThan(skipping);
    expect(stderr.indexOf('Uploading 1 file')).toBeGreaterThan(target);
  });

  it('upload of a path that does not exist fails before any request', async () => {
    await writeSettings();
    const log = path.join(dir, 'missing.log');
    const endpoint = await loopbackAws(log);
    const { code, stderr } = await importsOf(['upload', 'no-such-photo.jpg', '--no-wait', '--endpoint-url', endpoint.url], CREDENTIALS, log).finally(endpoint.close);
    expect(code).toBe(2);
    expect(stderr).toMatch(/no-such-photo\.jpg: no such file or directory/);
    expect((await readFile(log, 'utf8')).split('\n').filter((line) => line.startsWith('REQUEST'))).toEqual([]);
  });

  it('keeps the compiled code of what a command loads in Node\'s compile cache on Node 22.1+, and does nothing on Node 20', async () => {
    await writeSettings();
    // Node's default place for it: node-compile-cache under the temporary directory.
    const tmp = await mkdtemp(path.join(dir, 'tmp-'));
    const endpoint = await loopbackAws();
    await importsOf(['metadata', 'get', 'a.jpg', '--endpoint-url', endpoint.url], { ...CREDENTIALS, TMPDIR: tmp, NODE_COMPILE_CACHE: undefined }).finally(endpoint.close);
    const entries = await readdir(path.join(tmp, 'node-compile-cache'), { recursive: true }).catch(() => undefined);
    if (typeof (module as { enableCompileCache?: unknown }).enableCompileCache === 'function') {
      // One directory per Node version and V8 flags, holding an entry per module compiled: the SDK's among them.
      expect(entries?.length ?? 0).toBeGreaterThan(50);
    } else {
      expect(entries).toBeUndefined();
    }
  });

  it('lists each command in --help with the description its module declares', async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      expect({ name: command.name(), description: command.description() }).toEqual({ name: entry.name, description: entry.description });
    }
  });
});
