import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionZip, MAX_FUNCTION_ZIP_BYTES } from '../../src/artifact/build.js';
import { bundleFunction } from '../../src/artifact/function-bundle.js';
import { API_FUNCTION_HANDLER, FUNCTION_HANDLER } from '../../src/constants.js';
import { listZipEntries } from '../../src/artifact/zip.js';
import { packageRoot } from '../../src/paths.js';

const execFileAsync = promisify(execFile);

describe('the function zip with the HTTP API handler', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-api-bundle-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is one index.mjs under the 5 MB guard that exports both handlers, and the API one answers JSON', async () => {
    const { artifact } = await buildFunctionZip();
    expect(artifact.size).toBeLessThan(MAX_FUNCTION_ZIP_BYTES);
    const entries = await listZipEntries(artifact.bytes);
    expect(entries.map((e) => e.path)).toEqual(['index.mjs']);
    expect([FUNCTION_HANDLER, API_FUNCTION_HANDLER]).toEqual(['index.handler', 'index.apiHandler']);

    const { code } = await bundleFunction();
    await writeFile(path.join(dir, 'index.mjs'), code);
    // sharp is external (the layer's, in Lambda); NODE_PATH stands in for the layer, as Lambda sets it.
    const script = `
      const m = await import('./index.mjs');
      const answer = await m.apiHandler({ rawPath: '/uploads', requestContext: { http: { method: 'POST' } } });
      process.stdout.write(JSON.stringify({ handler: typeof m.handler, apiHandler: typeof m.apiHandler, answer }));`;
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_PATH: path.join(packageRoot(), 'node_modules'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    const result = JSON.parse(stdout) as { handler: string; apiHandler: string; answer: { statusCode: number; body: string } };
    expect([result.handler, result.apiHandler]).toEqual(['function', 'function']);
    // No settings in this environment: the API says so with a JSON 500 and no detail, rather than crash.
    expect(result.answer.statusCode).toBe(500);
    expect(JSON.parse(result.answer.body)).toMatchObject({ error: { code: 'INTERNAL' } });
  });
});
