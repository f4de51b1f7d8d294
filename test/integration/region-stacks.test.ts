import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { localTarget } from '../../src/aws/target.js';
import { executeDestroy } from '../../src/commands/destroy.js';
import { executeInit } from '../../src/commands/init.js';
import { executeStatus } from '../../src/commands/status.js';
import { AppContext } from '../../src/context.js';
import { ExitCode } from '../../src/errors.js';
import { Output } from '../../src/ui/output.js';
import { hostArch, testArtifacts, uniqueStackName } from '../helpers/deploy.js';

/** A context on the run's MiniStack in `region`, with its own working directory (its own settings file). */
async function regionContext(region: string): Promise<AppContext> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), `img-resizer-${region}-`));
  const sink = new PassThrough().resume();
  const output = new Output({ json: false, debug: false, stdout: sink, stderr: sink, interactive: false });
  return new AppContext({ yes: true }, { output, cwd, target: localTarget(inject('ministackEndpoint'), { region }) });
}

describe('one stack name in two regions', () => {
  it('gives two independent stacks: destroying one leaves the other whole', async () => {
    const stackName = uniqueStackName('r');
    const artifacts = await testArtifacts();
    const east = await regionContext('us-east-1');
    const west = await regionContext('eu-west-1');
    const eastInit = await executeInit(east, { stackName, arch: hostArch(), artifacts });
    const westInit = await executeInit(west, { stackName, arch: hostArch(), artifacts });
    expect(eastInit.settings.roleName).toBe(`${stackName}-function-role-us-east-1`);
    expect(westInit.settings.roleName).toBe(`${stackName}-function-role-eu-west-1`);

    const destroyed = await executeDestroy(east, {});
    expect(destroyed.exitCode).toBe(ExitCode.Ok);
    const status = await executeStatus(west);
    expect(status.exitCode).toBe(ExitCode.Ok);
    expect(status.state).not.toBe('not-deployed');
    expect(status.resources.filter((r) => r.action !== 'no-op').map((r) => r.id)).toEqual([]);
    await executeDestroy(west, {});
    east.close();
    west.close();
  });
});
