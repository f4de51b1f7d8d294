import { hostArchitecture } from '../../src/constants.js';
import { randomBytes } from 'node:crypto';
import { buildArtifacts } from '../../src/artifact/build.js';
import { executeInit } from '../../src/commands/init.js';
import type { InitOptions, InitResult } from '../../src/operations/init.js';
import type { Architecture, StackSettings } from '../../src/config/settings.js';
import type { GlobalOptions } from '../../src/context.js';
import type { DeployArtifacts } from '../../src/provision/types.js';
import { localTestContext, type TestContext } from './context.js';

/** MiniStack runs functions with the host's node, so the layer must hold sharp for the host's CPU. */
export function hostArch(): Architecture {
  return hostArchitecture();
}

let built: Promise<DeployArtifacts> | undefined;

/** The real function and layer packages, built once per test process (the layer is cached across runs). */
export function testArtifacts(): Promise<DeployArtifacts> {
  built ??= buildArtifacts({ arch: hostArch() }).then((result) => ({ functionZip: result.functionZip, layerZip: result.layerZip }));
  return built;
}

/** A short stack name unlikely to collide with another test's. */
export function uniqueStackName(prefix = 't'): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export interface DeployedTestStack extends TestContext {
  settings: StackSettings;
  result: InitResult;
}

/**
 * Deploys a whole stack (buckets, table, role, layer, function, permission, trigger) on the test run's
 * MiniStack as `img-resizer init --yes` would (operation and rendering), in a fresh working directory that then
 * holds the settings file. Names derive from a unique stack name unless overridden. `endpoint`: a MiniStack of the
 * test's own instead of the run's.
 */
export async function deployTestStack(overrides: InitOptions & { globals?: GlobalOptions; endpoint?: string } = {}): Promise<DeployedTestStack> {
  const { globals, endpoint, ...options } = overrides;
  const test = await localTestContext(globals, undefined, endpoint);
  const result = await executeInit(test.context, {
    stackName: uniqueStackName(),
    arch: hostArch(),
    artifacts: await testArtifacts(),
    ...options,
  });
  return { ...test, settings: result.settings, result };
}
