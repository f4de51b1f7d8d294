import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';
import { installNodeForRuntime } from '../../src/local/node-runtime.js';
import { defaultRuntime } from '../../src/runtimes.js';

declare module 'vitest' {
  export interface ProvidedContext {
    ministackEndpoint: string;
  }
}

/**
 * Integration tests get a MiniStack of their own on a free port, installed as `local start` installs it, with
 * the default runtime's Node first on its PATH so functions run on the Node major Lambda runs them on.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await installNodeForRuntime(defaultRuntime());
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-stack-'));
  const info = await startLocalStack({ stateDir, port: await freePort(), persist: false, startTimeoutMs: 120_000, pathPrefix: [node.binDir] });
  project.provide('ministackEndpoint', info.endpoint);
  return async () => {
    await stopLocalStack(stateDir);
    await rm(stateDir, { recursive: true, force: true });
  };
}
