import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, localStatus, startLocalStack, stopLocalStack } from '../../src/local/ministack.js';

async function answers(endpoint: string): Promise<boolean> {
  try {
    return (await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

describe('the local stack with Rekognition (as `local start` runs it)', () => {
  let stateDir: string | undefined;

  afterAll(async () => {
    if (stateDir !== undefined) {
      await stopLocalStack(stateDir);
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('starts moto on loopback with MiniStack, reports its endpoint, and stops it with MiniStack', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-test-moto-stack-'));
    stateDir = dir;
    const info = await startLocalStack({ stateDir: dir, port: await freePort(), persist: false, startTimeoutMs: 120_000, rekognition: true });
    expect(info.rekognitionEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const endpoint = info.rekognitionEndpoint ?? '';
    expect(await answers(endpoint)).toBe(true);
    expect((await localStatus(dir)).rekognitionEndpoint).toBe(endpoint);
    await stopLocalStack(dir);
    const deadline = Date.now() + 10_000;
    while ((await answers(endpoint)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await answers(endpoint)).toBe(false);
  });
});
