/**
 * Artifact sizes and cold start, from the same build `img-resizer build` makes: the function zip, the sharp
 * layer for x86_64, and the time a fresh node takes to import the handler with sharp from the unpacked layer.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { BuildResult } from '../../src/artifact/build.js';
import { figure, notAvailable, oneLine, type Figure } from '../lib/figures.js';
import type { Plan } from '../lib/plan.js';
import { formatBytes, formatMs, median } from '../lib/stats.js';

const execFileAsync = promisify(execFile);

export const ARTIFACTS = 'Artifacts (x86_64)';
export const COLD_START = 'Cold start';
export const FUNCTION_ZIP_TARGET_BYTES = 1024 * 1024;
export const COLD_IMPORT_TARGET_MS = 250;

/** The settings the handler reads at cold start; values that only need to be valid. */
const HANDLER_ENV: NodeJS.ProcessEnv = {
  DEST_BUCKET: 'bench-dest',
  TABLE_NAME: 'bench-table',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

// Runs in the fresh process: require sharp from the layer, as the handler does, and nothing else.
const SHARP_PROBE = `
const started = performance.now();
const { createRequire } = await import('node:module');
createRequire(process.env.PROBE_FROM)('sharp');
process.stdout.write(JSON.stringify({ ms: performance.now() - started }));
`;

/** Milliseconds for a fresh node in the unpacked layout to load sharp alone: the floor under the handler's figure. */
async function measureSharpImport(taskDir: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', SHARP_PROBE], {
    cwd: taskDir,
    env: { ...env, PROBE_FROM: path.join(taskDir, 'index.mjs') },
    timeout: 60_000,
  });
  return (JSON.parse(stdout) as { ms: number }).ms;
}

export async function benchArtifacts(plan: Plan, log: (line: string) => void): Promise<Figure[]> {
  const zipMethod = 'buildArtifacts({ arch: "x86_64" }), as `img-resizer build` makes it: esbuild bundle, deterministic zip';
  const layerMethod = 'sharp + @img/sharp-linux-x64 + libvips for glibc, installed with npm --os=linux --cpu=x64 (cached per version)';
  const coldMethod = `a fresh node imports task/index.mjs and sharp from opt/ on NODE_PATH (measureColdImport, node's own start-up excluded); median of ${plan.coldRuns} after 1 warm-up, alternated with a node requiring sharp alone`;
  const coldTarget = `< ${COLD_IMPORT_TARGET_MS} ms`;
  const zipTarget = '< 1 MB';

  // Imported when needed, so a part that does not load costs its rows and not the whole bench.
  let build: BuildResult;
  try {
    log('Artifacts: building the function zip and the x86_64 layer …');
    const buildModule = await import('../../src/artifact/build.js');
    build = await buildModule.buildArtifacts({ arch: 'x86_64' });
  } catch (error) {
    const reason = `build failed: ${oneLine((error as Error).message, 120)}`;
    return [
      notAvailable(ARTIFACTS, 'function zip', reason, zipMethod, zipTarget),
      notAvailable(ARTIFACTS, 'layer zip (sharp)', reason, layerMethod),
      notAvailable(COLD_START, 'import handler + sharp', reason, coldMethod, coldTarget),
    ];
  }
  const rows: Figure[] = [
    figure(ARTIFACTS, 'function zip', {
      result: `${formatBytes(build.functionZip.size)} (${formatBytes(build.functionZip.unzippedSize)} unzipped)`,
      target: zipTarget,
      pass: build.functionZip.size < FUNCTION_ZIP_TARGET_BYTES,
      value: build.functionZip.size,
      unit: 'bytes',
      method: zipMethod,
    }),
    figure(ARTIFACTS, 'layer zip (sharp)', {
      result: `${formatBytes(build.layerZip.size)} (${formatBytes(build.layerZip.unzippedSize)} unzipped)`,
      value: build.layerZip.size,
      unit: 'bytes',
      method: `${layerMethod}; sharp ${build.sharpVersion}`,
    }),
  ];

  const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-bench-lambda-'));
  try {
    const layout = await import('../../src/artifact/lambda-layout.js');
    const { taskDir, optDir } = await layout.unpackForLambda(build.functionZip.bytes, build.layerZip.bytes, dir);
    log(`Cold start: ${2 * (plan.coldRuns + 1)} fresh processes import the handler, or sharp alone …`);
    const sharpAlone = (): Promise<number> => measureSharpImport(taskDir, layout.lambdaLikeEnv(taskDir, optDir, HANDLER_ENV));
    await layout.measureColdImport(taskDir, optDir, HANDLER_ENV);
    await sharpAlone();
    const samples: number[] = [];
    const reference: number[] = [];
    for (let i = 0; i < plan.coldRuns; i++) {
      // Alternated, so the reference sees the same load as the figure.
      if (i % 2 === 0) {
        samples.push(await layout.measureColdImport(taskDir, optDir, HANDLER_ENV));
        reference.push(await sharpAlone());
      } else {
        reference.push(await sharpAlone());
        samples.push(await layout.measureColdImport(taskDir, optDir, HANDLER_ENV));
      }
    }
    const ms = median(samples);
    rows.push(
      figure(COLD_START, 'import handler + sharp', {
        result: `${formatMs(ms)} (range ${formatMs(Math.min(...samples))}–${formatMs(Math.max(...samples))}; sharp alone ${formatMs(median(reference))})`,
        target: coldTarget,
        pass: ms < COLD_IMPORT_TARGET_MS,
        value: ms,
        unit: 'ms',
        method: coldMethod,
      }),
    );
  } catch (error) {
    rows.push(notAvailable(COLD_START, 'import handler + sharp', oneLine((error as Error).message, 120), coldMethod, coldTarget));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
