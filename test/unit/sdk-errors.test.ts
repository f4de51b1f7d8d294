import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTarget } from '../../src/aws/target.js';
import { AppContext } from '../../src/context.js';
import { CliError, ExitCode } from '../../src/errors.js';
import { Output } from '../../src/ui/output.js';
import { runCli } from '../helpers/cli.js';

/** A port nothing listens on: bound once to learn a free number, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('known SDK and network failures become typed errors with a next step', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-sdk-errors-'));
    await writeFile(path.join(dir, 'config'), '[default]\nregion = us-east-1\n\n[profile work]\nregion = eu-west-1\n');
    await writeFile(path.join(dir, 'credentials'), '[ci]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n');
    // Only the temp files: nothing from the machine's own AWS setup may leak in.
    env = {
      AWS_CONFIG_FILE: path.join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
      AWS_PROFILE: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_REGION: '', AWS_DEFAULT_REGION: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('an endpoint nobody listens on: exit 1, names the endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const { code, stderr } = await runCli(['init', '--dry-run', '--yes', '--endpoint-url', endpoint, '--region', 'us-east-1'], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, cwd: dir,
    });
    expect(code).toBe(ExitCode.Failed);
    expect(stderr).toContain(`Cannot reach ${endpoint} (ECONNREFUSED)`);
    expect(stderr).not.toContain('connect ECONNREFUSED');
  });

  it('the local stack not running: suggests `local start`', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const context = new AppContext({}, {
      output: new Output({ json: false, debug: false }), target: localTarget(endpoint, {}), clientOptions: { maxAttempts: 1 },
    });
    try {
      const error = await context.clients().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(CliError);
      expect(error).toMatchObject({ code: 'ENDPOINT_UNREACHABLE', exitCode: ExitCode.Failed });
      expect((error as CliError).suggestion).toContain('img-resizer local start');
    } finally {
      context.close();
    }
  });

  it('an invalid region: exit 2', async () => {
    const { code, stderr } = await runCli(['init', '--dry-run', '--yes', '--region', 'us east 1'], { env, cwd: dir });
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('"us east 1" is not an AWS region');
    expect(stderr).not.toContain('Region not accepted');
  });

  it('an unknown profile: exit 2, lists the profiles found in config and credentials', async () => {
    const { code, stderr } = await runCli(['init', '--dry-run', '--yes', '--profile', 'nosuch'], { env, cwd: dir });
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('AWS profile "nosuch" is not in');
    expect(stderr).toContain('profiles found: ci, default, work');
  });

  it('missing credentials: exit 2, says where it looked', async () => {
    const { code, stderr } = await runCli(['init', '--dry-run', '--yes', '--region', 'us-east-1'], { env, cwd: dir });
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain('No usable AWS credentials: looked in');
    expect(stderr).toContain(path.join(dir, 'credentials'));
    expect(stderr).not.toContain('CredentialsProviderError');
  });
});
