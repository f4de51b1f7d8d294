import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { readSettingsFile, resolveRuntime } from '../config/settings.js';
import { functionNodeProblem, localStateDir, localStatus, resetLocalStack, startLocalStack, stopLocalStack, type LocalStackInfo } from '../local/ministack.js';
import { CREATED_RECORD_FILE } from '../local/created-record.js';
import { rm } from 'node:fs/promises';
import path from 'node:path';

/** What `local start` and `local status` report about the stack. */
export interface LocalStackReport {
  exitCode: ExitCode;
  running: boolean;
  endpoint: string;
  port: number;
  pid: number | null;
  version: string;
  stateDir: string;
  /** moto's server answering Rekognition for the stack's functions; null when the stack runs none. */
  rekognitionEndpoint: string | null;
  /** For start: it was running before the command. */
  alreadyRunning: boolean;
  /** The Node.js its functions run on (`v24.21.0`); null when not running or not recorded (started by an older version). */
  functionNodeVersion: string | null;
  /** start: why the running stack's functions run on another Node.js than the stack's runtime needs; null when they do not. */
  functionNodeProblem: string | null;
}

function describe(info: LocalStackInfo, alreadyRunning: boolean, nodeProblem?: string): LocalStackReport {
  return {
    exitCode: ExitCode.Ok,
    running: info.running,
    endpoint: info.endpoint,
    port: info.port,
    pid: info.pid ?? null,
    version: info.version,
    stateDir: info.stateDir,
    rekognitionEndpoint: info.rekognitionEndpoint ?? null,
    alreadyRunning,
    functionNodeVersion: info.functionNodeVersion ?? null,
    functionNodeProblem: nodeProblem ?? null,
  };
}

/** Starts the local stack with its functions on the runtime of the stack in the settings file (else the default). */
export async function runLocalStart(context: AppContext, options: { port?: number | undefined }): Promise<LocalStackReport> {
  const port = options.port ?? (await context.localStackPort());
  const stateDir = localStateDir(port);
  const before = await localStatus(stateDir);
  const { runtime } = resolveRuntime(undefined, {}, await readSettingsFile(context.settingsFile));
  const info = await startLocalStack({ stateDir, port, output: context.output, rekognition: true, runtime });
  return describe(info, before.running, before.running ? functionNodeProblem(info, runtime) : undefined);
}

/** The stack a command means: --port, else --local-port or the one init recorded, else the default. */
async function stateDirFor(context: AppContext, port: number | undefined): Promise<string> {
  return localStateDir(port ?? (await context.localStackPort()));
}

export async function runLocalStatus(context: AppContext, options: { port?: number | undefined } = {}): Promise<LocalStackReport> {
  const info = await localStatus(await stateDirFor(context, options.port));
  return describe(info, info.running);
}

export async function runLocalStop(context: AppContext, options: { port?: number | undefined } = {}): Promise<{ exitCode: ExitCode; stopped: boolean; pid: number | undefined }> {
  const result = await stopLocalStack(await stateDirFor(context, options.port));
  return { exitCode: ExitCode.Ok, ...result };
}

export async function runLocalReset(context: AppContext, options: { port?: number | undefined } = {}): Promise<{ exitCode: ExitCode; reset: boolean; endpoint: string }> {
  const info = await localStatus(await stateDirFor(context, options.port));
  if (!info.running) return { exitCode: ExitCode.Ok, reset: false, endpoint: info.endpoint };
  await resetLocalStack(info.endpoint);
  // The buckets are gone with everything else: so is the record that said which were the stacks'.
  await rm(path.join(info.stateDir, CREATED_RECORD_FILE), { force: true });
  return { exitCode: ExitCode.Ok, reset: true, endpoint: info.endpoint };
}
