import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { executeInit } from '../../src/commands/init.js';
import { executeStatus } from '../../src/commands/status.js';
import { AppContext, type GlobalOptions } from '../../src/context.js';
import { ExitCode } from '../../src/errors.js';
import { Output } from '../../src/ui/output.js';
import { hostArch, testArtifacts, uniqueStackName } from '../helpers/deploy.js';

/** A context as main() builds one: no preset target, so the flags and the settings file decide where it acts. */
function cliContext(globals: GlobalOptions, cwd: string): { context: AppContext; stdout: () => string; stderr: () => string } {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const out = capture();
  const err = capture();
  const output = new Output({ json: false, debug: false, stdout: out.stream, stderr: err.stream, interactive: false });
  return { context: new AppContext({ yes: true, ...globals }, { output, cwd }), stdout: out.text, stderr: err.text };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the settings file records where the stack lives', () => {
  it('init --endpoint-url records the endpoint; a later command without the flag reaches the same stack', async () => {
    const endpoint = inject('ministackEndpoint');
    // The emulator takes any credentials; nothing else in the environment points at it.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-location-'));
    const init = cliContext({ endpointUrl: endpoint }, cwd);
    const result = await executeInit(init.context, { stackName: uniqueStackName(), arch: hostArch(), artifacts: await testArtifacts() });
    init.context.close();
    expect(result.outcome).toBe('applied');
    const file = JSON.parse(await readFile(path.join(cwd, 'img-resizer.config.json'), 'utf8')) as Record<string, unknown>;
    expect(file.location).toEqual({ kind: 'endpoint', endpointUrl: endpoint });
    expect(file.region).toBe('eu-west-1');
    expect(init.stdout() + init.stderr()).toMatch(/Try it: (npx img-resizer|img-resizer|node \S+) upload <image> --wait/);
    expect(init.stdout() + init.stderr()).not.toContain('--endpoint-url');

    // Later: no flag, another region in the environment; the record and the file's region win.
    vi.stubEnv('AWS_REGION', undefined);
    const later = cliContext({}, cwd);
    const status = await executeStatus(later.context);
    later.context.close();
    expect(status.exitCode).toBe(ExitCode.Ok);
    expect(later.stderr()).toContain(`Target: ${endpoint} · region eu-west-1`);
  });
});
