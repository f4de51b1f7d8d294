import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, ExitCode } from '../errors.js';
import type { Output } from '../ui/output.js';
import { installMiniStack, MINISTACK_VERSION } from './ministack-install.js';
import { startMoto, stopMoto, type MotoServer } from './moto.js';
import { installNodeForRuntime } from './node-runtime.js';
import { runtimeInfo, type LambdaRuntime } from '../runtimes.js';

/** Supervising the local stack: start, status, stop and reset of the MiniStack of one state directory. */

// cacheDir moved to src/paths.ts (shared with the artifact cache); the installer moved to ministack-install.ts.
// Both are re-exported for existing importers.
export { cacheDir } from '../paths.js';
import { dataDir } from '../paths.js';
export { findPython } from './ministack-install.js';

export const DEFAULT_LOCAL_PORT = 4566;
/** Only the services the pipeline uses; fewer services start faster. */
export const LOCAL_SERVICES = 's3,lambda,dynamodb,iam,sts,logs,sns,sqs,cloudformation,apigateway,cloudfront,events,stepfunctions';
const HEALTH_PATH = '/_ministack/health';
const RESET_PATH = '/_ministack/reset';

export interface LocalStackInfo {
  running: boolean;
  endpoint: string;
  port: number;
  pid: number | undefined;
  version: string;
  stateDir: string;
  logFile: string;
  /** moto's server answering Rekognition, when the stack runs one. */
  rekognitionEndpoint?: string | undefined;
  /**
   * The Node.js its functions run on (`v24.21.0`), when it was started for a runtime; absent for a stack
   * started before this was recorded, or with the machine's own `node`.
   */
  functionNodeVersion?: string | undefined;
}

interface ServerRecord {
  pid: number;
  port: number;
  endpoint: string;
  version: string;
  startedAt: string;
  /** moto's server (Rekognition only), started and stopped with MiniStack. */
  moto?: { pid: number; endpoint: string } | undefined;
  /** The Node.js first on its PATH, which its functions run on (`v24.21.0`). */
  functionNodeVersion?: string | undefined;
}

/** The local stack's state: one stack per user and port, so every directory finds the same one. */
export function localStateDir(port: number = DEFAULT_LOCAL_PORT, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataDir(env), 'local', String(port));
}

export function endpointFor(port: number): string {
  return `http://127.0.0.1:${port}`;
}

export async function isHealthy(endpoint: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}${HEALTH_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readRecord(stateDir: string): Promise<ServerRecord | undefined> {
  try {
    return JSON.parse(await readFile(path.join(stateDir, 'server.json'), 'utf8')) as ServerRecord;
  } catch {
    return undefined;
  }
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => { resolve(true); });
    });
  });
}

/** A free loopback port, for tests that run their own instance. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

export interface StartOptions {
  /** Where pid, port, log and persisted state live. */
  stateDir: string;
  port?: number | undefined;
  /** Persist emulator state across restarts (the CLI does; tests do not). */
  persist?: boolean;
  output?: Output | undefined;
  startTimeoutMs?: number;
  /**
   * Directories put first on MiniStack's PATH. MiniStack runs a Node.js function with the first `node`
   * on its PATH (whatever the function's runtime says), so this is how functions run on the runtime's
   * Node major (see src/local/node-runtime.ts). MiniStack itself keeps its own Python.
   */
  pathPrefix?: readonly string[];
  /**
   * Run functions on this runtime's Node.js: installed into the cache on first use (src/local/node-runtime.ts),
   * put first on PATH (before `pathPrefix`) and recorded, so a later command can tell which Node the stack runs.
   */
  runtime?: LambdaRuntime | undefined;
  /** A Python with MiniStack installed (tests: one with the `full` extra); default the CLI's own install. */
  python?: string;
  /**
   * Also run moto's server for Rekognition (MiniStack has none), on a free loopback port, and point the
   * functions at it through AWS_ENDPOINT_URL_REKOGNITION in MiniStack's environment, which its functions
   * inherit: the one place the local target redirects Rekognition. The CLI's stack does; tests opt in.
   */
  rekognition?: boolean;
  /** Point the functions at this Rekognition endpoint instead (a test's recorder in front of moto); starts no moto. */
  rekognitionEndpoint?: string;
  /** More variables for MiniStack itself (tests: `AUTH=true`, which makes it check signatures and IAM policies). */
  environment?: Readonly<Record<string, string>>;
}

export async function localStatus(stateDir: string): Promise<LocalStackInfo> {
  const record = await readRecord(stateDir);
  const port = record?.port ?? DEFAULT_LOCAL_PORT;
  const endpoint = record?.endpoint ?? endpointFor(port);
  const running = record !== undefined && processAlive(record.pid) && (await isHealthy(endpoint));
  return {
    running,
    endpoint,
    port,
    pid: running ? record.pid : undefined,
    version: MINISTACK_VERSION,
    stateDir,
    logFile: path.join(stateDir, 'ministack.log'),
    ...(running && record.moto ? { rekognitionEndpoint: record.moto.endpoint } : {}),
    ...(running && record.functionNodeVersion !== undefined ? { functionNodeVersion: record.functionNodeVersion } : {}),
  };
}

/** Starts MiniStack on loopback unless this state directory's server already runs. */
export async function startLocalStack(options: StartOptions): Promise<LocalStackInfo> {
  const { stateDir, output } = options;
  const current = await localStatus(stateDir);
  if (current.running) {
    if (options.port !== undefined && options.port !== current.port) {
      throw new CliError('LOCAL_ALREADY_RUNNING', `The local stack already runs on port ${current.port}.`, {
        exitCode: ExitCode.Usage,
        suggestion: 'Stop it first with `img-resizer local stop`.',
      });
    }
    return current;
  }
  const port = options.port ?? DEFAULT_LOCAL_PORT;
  if (!(await portIsFree(port))) {
    throw new CliError('PORT_IN_USE', `Port ${port} on 127.0.0.1 is in use by another program.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Pick another with `img-resizer local start --port N`.',
    });
  }
  const python = options.python ?? (await installMiniStack(output));
  const node = options.runtime === undefined ? undefined : await installNodeForRuntime(options.runtime, { output });
  const pathPrefix = [...(node ? [node.binDir] : []), ...(options.pathPrefix ?? [])];
  await mkdir(stateDir, { recursive: true });
  // A record left behind means the last server died without `local stop` (killed, reboot): say what that costs.
  const leftover = await readRecord(stateDir);
  if (leftover) output?.warn(uncleanStopMessage(leftover));
  // MiniStack's function workers make temp folders and leave them when killed: a temp dir of its own, emptied here.
  const tempDir = path.join(stateDir, 'tmp');
  await rm(tempDir, { recursive: true, force: true });
  await mkdir(tempDir, { recursive: true });
  const logFile = path.join(stateDir, 'ministack.log');
  const log = openSync(logFile, 'a');
  const persist = options.persist ?? true;
  let moto: MotoServer | undefined;
  if (options.rekognition && options.rekognitionEndpoint === undefined) {
    const motoTask = output?.task('Starting moto for Rekognition');
    try {
      moto = await startMoto({ port: await freePort(), logDir: stateDir, ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }) });
    } catch (error) {
      closeSync(log);
      motoTask?.fail('moto did not start');
      throw error;
    }
    motoTask?.succeed(`moto answering Rekognition on ${moto.endpoint}`);
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(pathPrefix.length > 0 ? { PATH: [...pathPrefix, process.env.PATH ?? ''].filter(Boolean).join(path.delimiter) } : {}),
    TMPDIR: tempDir,
    GATEWAY_PORT: String(port),
    // MiniStack binds 0.0.0.0 by default; an emulator with dummy credentials belongs on loopback.
    BIND_HOST: '127.0.0.1',
    SERVICES: LOCAL_SERVICES,
    // Otherwise it also listens on 8883 and 2222, and a second instance collides with the first.
    IOT_MTLS_ENABLED: '0',
    SFTP_ENABLED: '0',
    PERSIST_STATE: persist ? '1' : '0',
    STATE_DIR: path.join(stateDir, 'state'),
    S3_PERSIST: persist ? '1' : '0',
    S3_DATA_DIR: path.join(stateDir, 's3'),
    PYTHONUNBUFFERED: '1',
    // Functions it runs inherit this as their SDK endpoint; without it they get "localhost", which may
    // resolve to ::1 while we listen on 127.0.0.1 only.
    AWS_ENDPOINT_URL: endpointFor(port),
    ...(moto ? { AWS_ENDPOINT_URL_REKOGNITION: moto.endpoint } : {}),
    ...(options.rekognitionEndpoint === undefined ? {} : { AWS_ENDPOINT_URL_REKOGNITION: options.rekognitionEndpoint }),
    ...options.environment,
  };
  const task = output?.task(`Starting the local stack on ${endpointFor(port)}`);
  const child = spawn(python, ['-m', 'ministack'], { env, detached: true, stdio: ['ignore', log, log], cwd: stateDir });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) {
    if (moto) stopMoto(moto);
    throw new CliError('LOCAL_START_FAILED', 'Could not start MiniStack.');
  }
  const child_ = { exited: false };
  child.once('exit', () => { child_.exited = true; });
  child.unref();
  const endpoint = endpointFor(port);
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await isHealthy(endpoint))) {
    if (child_.exited || Date.now() > deadline) {
      task?.fail('The local stack did not start');
      if (!child_.exited) killGroup(pid, 'SIGKILL');
      if (moto) stopMoto(moto);
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
      throw new CliError('LOCAL_START_FAILED', `MiniStack did not become healthy on ${endpoint}.\n${tail}`, {
        suggestion: `See ${logFile}.`,
      });
    }
    await sleep(150);
  }
  const record: ServerRecord = {
    pid,
    port,
    endpoint,
    version: MINISTACK_VERSION,
    startedAt: new Date().toISOString(),
    ...(moto ? { moto: { pid: moto.pid, endpoint: moto.endpoint } } : {}),
    ...(node ? { functionNodeVersion: `v${node.version}` } : {}),
  };
  const recordFile = path.join(stateDir, 'server.json');
  await writeFile(`${recordFile}.tmp`, JSON.stringify(record, null, 2));
  await rename(`${recordFile}.tmp`, recordFile);
  task?.succeed(`Local stack running on ${endpoint} (pid ${pid})${node ? `, functions on Node.js ${node.version}` : ''}`);
  return {
    running: true,
    endpoint,
    port,
    pid,
    version: MINISTACK_VERSION,
    stateDir,
    logFile,
    ...(moto ? { rekognitionEndpoint: moto.endpoint } : {}),
    ...(node ? { functionNodeVersion: `v${node.version}` } : {}),
  };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Stops exactly the recorded server (its process group: MiniStack spawns function workers). */
export async function stopLocalStack(stateDir: string): Promise<{ stopped: boolean; pid: number | undefined }> {
  const record = await readRecord(stateDir);
  if (record?.moto) stopMoto(record.moto);
  if (!record || !processAlive(record.pid)) {
    await rm(path.join(stateDir, 'server.json'), { force: true });
    await rm(path.join(stateDir, 'tmp'), { recursive: true, force: true });
    return { stopped: false, pid: undefined };
  }
  // SIGTERM lets MiniStack save its state before it exits.
  killGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (processAlive(record.pid) && Date.now() < deadline) await sleep(100);
  if (processAlive(record.pid)) killGroup(record.pid, 'SIGKILL');
  await rm(path.join(stateDir, 'server.json'), { force: true });
  await rm(path.join(stateDir, 'tmp'), { recursive: true, force: true });
  return { stopped: true, pid: record.pid };
}

/** Empties every service of the running server. */
export async function resetLocalStack(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}${RESET_PATH}`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new CliError('LOCAL_RESET_FAILED', `Resetting the local stack failed: HTTP ${response.status}`);
}

export function uncleanStopMessage(record: { pid: number; port: number; startedAt: string }): string {
  return (
    `The local stack on port ${record.port} (pid ${record.pid}, started ${record.startedAt}) was not stopped cleanly: ` +
    'changes since its last saved state may be lost (resources created, objects uploaded, metadata written). ' +
    'Run `img-resizer init` to restore the stack, then `img-resizer backfill` to process images again.'
  );
}

/**
 * Why a running local stack runs functions on the wrong Node.js for `runtime`, with what to do; undefined when it
 * runs the runtime's major. The stack is shared by every command of this user and port (and may be busy with
 * another one's work), so a command never restarts it: the operator does, when nothing else is using it.
 */
export function functionNodeProblem(info: Pick<LocalStackInfo, 'running' | 'port' | 'functionNodeVersion'>, runtime: LambdaRuntime): string | undefined {
  if (!info.running) return undefined;
  const major = runtimeInfo(runtime).nodeMajor;
  const running = info.functionNodeVersion;
  if (running?.startsWith(`v${major}.`)) return undefined;
  const port = info.port === DEFAULT_LOCAL_PORT ? '' : ` --port ${info.port}`;
  const what = running === undefined ? "the machine's own node (it was started before it recorded one)" : `Node.js ${running}`;
  return (
    `The local stack on port ${info.port} runs functions on ${what}, but ${runtime} needs Node.js ${major}: ` +
    `restart it (\`img-resizer local stop${port} && img-resizer local start${port}\`) so they run on Node.js ${major}. Its state is kept.`
  );
}

/** For --local: the user's running stack on this port, started when needed (its functions on `runtime`'s Node). */
export async function ensureLocalStack(options: { output?: Output; port?: number | undefined; runtime?: LambdaRuntime | undefined }): Promise<LocalStackInfo> {
  const stateDir = localStateDir(options.port);
  const status = await localStatus(stateDir);
  if (status.running && (options.port === undefined || options.port === status.port)) {
    const problem = options.runtime === undefined ? undefined : functionNodeProblem(status, options.runtime);
    if (problem) options.output?.warn(problem);
    return status;
  }
  // Not running, or running on another port than asked: startLocalStack starts it or says which port it holds.
  return startLocalStack({ stateDir, output: options.output, port: options.port, rekognition: true, runtime: options.runtime });
}
