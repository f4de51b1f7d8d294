import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppContext } from '../../src/context.js';
import { cliCommand, packageRoot } from '../../src/paths.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

async function projectWith(settings: Record<string, unknown>): Promise<string> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-loc-'));
  await writeFile(path.join(cwd, 'img-resizer.config.json'), JSON.stringify({ stackName: 'demo', ...settings }));
  return cwd;
}

describe('cliCommand: the next step printed is one that works when pasted', () => {
  it('is `img-resizer` when the command on PATH is this package (global install, npm link)', async () => {
    const binDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bin-'));
    await symlink(path.join(packageRoot(), 'bin', 'img-resizer.js'), path.join(binDir, 'img-resizer'));
    expect(cliCommand(os.tmpdir(), { PATH: binDir })).toBe('img-resizer');
  });

  it('is `npx img-resizer` inside the clone', () => {
    expect(cliCommand(path.join(packageRoot(), 'src'), { PATH: '' })).toBe('npx img-resizer');
  });

  it('is node with the bin path elsewhere, when nothing on PATH is this package', async () => {
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-elsewhere-'));
    expect(cliCommand(elsewhere, { PATH: '/usr/bin' })).toMatch(/^node \S*bin\/img-resizer\.js$/);
  });

  it('adds --config when the settings file is not the default one', async () => {
    const cwd = await projectWith({});
    const context = new AppContext({ config: 'stacks/prod.json' }, { cwd });
    expect(context.commandLine({ PATH: '' })).toMatch(/ --config stacks\/prod\.json$/);
  });
});

describe('AppContext target: the settings file record, unless a flag overrides it', () => {
  it('uses the recorded endpoint and the recorded region', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    const cwd = await projectWith({ region: 'eu-west-1', location: { kind: 'endpoint', endpointUrl: 'http://127.0.0.1:9999' } });
    const target = await new AppContext({}, { cwd }).resolveTarget();
    expect(target).toMatchObject({ kind: 'endpoint', endpoint: 'http://127.0.0.1:9999', region: 'eu-west-1' });
  });

  it('lets --endpoint-url override the record', async () => {
    const cwd = await projectWith({ location: { kind: 'endpoint', endpointUrl: 'http://127.0.0.1:9999' } });
    const target = await new AppContext({ endpointUrl: 'http://127.0.0.1:7777' }, { cwd }).resolveTarget();
    expect(target.endpoint).toBe('http://127.0.0.1:7777');
  });

  it('uses the recorded profile unless --profile or AWS_PROFILE names another', async () => {
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    const cwd = await projectWith({ location: { kind: 'aws', profile: 'ops' } });
    expect((await new AppContext({}, { cwd }).resolveTarget()).profile).toBe('ops');
    expect((await new AppContext({ profile: 'other' }, { cwd }).resolveTarget()).profile).toBe('other');
    vi.stubEnv('AWS_PROFILE', 'fromenv');
    expect((await new AppContext({}, { cwd }).resolveTarget()).profile).toBe('fromenv');
  });
});

describe('a recorded location is validated on load', () => {
  it('names the file and the key, as a usage error (exit 2)', async () => {
    const cwd = await projectWith({ location: { kind: 'local', port: 'abc' } });
    await expect(new AppContext({}, { cwd }).resolveTarget()).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/img-resizer\.config\.json: "location" port must be a whole number from 1 to 65535/) as unknown,
    });
  });

  it('rejects an unknown kind', async () => {
    const cwd = await projectWith({ location: { kind: 'cloud' } });
    await expect(new AppContext({}, { cwd }).resolveTarget()).rejects.toThrow(/"location" kind must be one of local, endpoint, aws/);
  });
});
