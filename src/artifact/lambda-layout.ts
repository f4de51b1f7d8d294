import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FUNCTION_FILE } from './function-bundle.js';
import { extractZip } from './zip.js';

/**
 * NODE_PATH as Lambda's Node.js 22 runtime sets it, with `optDir` standing for /opt
 * (the runtime's own /var/runtime entries have no counterpart here).
 */
export function lambdaNodePath(optDir: string): string {
  return [path.join(optDir, 'nodejs', 'node22', 'node_modules'), path.join(optDir, 'nodejs', 'node_modules')].join(path.delimiter);
}

/** Unzips the function into `<dir>/task` and the layer into `<dir>/opt`, as Lambda does into /var/task and /opt. */
export async function unpackForLambda(functionZip: Buffer, layerZip: Buffer, dir: string): Promise<{ taskDir: string; optDir: string }> {
  const taskDir = path.join(dir, 'task');
  const optDir = path.join(dir, 'opt');
  await mkdir(taskDir, { recursive: true });
  await mkdir(optDir, { recursive: true });
  await extractZip(functionZip, taskDir);
  await extractZip(layerZip, optDir);
  return { taskDir, optDir };
}

/**
 * The environment of a process that sees only the unpacked function and layer: PATH, the layer on
 * NODE_PATH, and whatever the caller adds (no NODE_OPTIONS, no npm settings from the parent).
 */
export function lambdaLikeEnv(taskDir: string, optDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    ...(process.env.SYSTEMROOT ? { SYSTEMROOT: process.env.SYSTEMROOT } : {}),
    LAMBDA_TASK_ROOT: taskDir,
    NODE_PATH: lambdaNodePath(optDir),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  };
}

// Runs in the fresh process: import the handler module, then load sharp as the handler does
// (a no-op when the handler already loaded it at import time), and report the milliseconds.
const IMPORT_PROBE = `
const started = performance.now();
const { pathToFileURL } = await import('node:url');
const { createRequire } = await import('node:module');
const file = process.env.PROBE_HANDLER_FILE;
const mod = await import(pathToFileURL(file).href);
if (typeof mod.handler !== 'function') throw new Error('index.mjs exports no handler function');
createRequire(file)('sharp');
process.stdout.write(JSON.stringify({ ms: performance.now() - started }));
`;

/**
 * Milliseconds a fresh `node` process takes to import the bundled handler (index.mjs in `taskDir`)
 * and sharp from the layer in `optDir`, measured inside that process (node's own start-up excluded).
 * The process runs in `taskDir` and sees only the two directories.
 */
export async function measureColdImport(taskDir: string, optDir: string, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const file = path.join(taskDir, FUNCTION_FILE);
  const childEnv = lambdaLikeEnv(taskDir, optDir, { AWS_REGION: 'us-east-1', ...env, PROBE_HANDLER_FILE: file });
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE], { cwd: taskDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (exitCode) => { resolve({ code: exitCode, stdout: out, stderr: err }); });
  });
  if (code !== 0) throw new Error(`Importing ${file} failed (exit ${code ?? 'signal'}):\n${stderr.trim()}`);
  return (JSON.parse(stdout) as { ms: number }).ms;
}
