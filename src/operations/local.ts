import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { localStateDir, localStatus, resetLocalStack, startLocalStack, stopLocalStack, type LocalStackInfo } from '../local/ministack.js';

/** What `local start` and `local status` report about the stack. */
export interface LocalStackReport {
  exitCode: ExitCode;
  running: boolean;
  endpoint: string;
  port: number;
  pid: number | null;
  version: string;
  stateDir: string;
  /** For start: it was running before the command. */
  alreadyRunning: boolean;
}

function describe(info: LocalStackInfo, alreadyRunning: boolean): LocalStackReport {
  return { exitCode: ExitCode.Ok, running: info.running, endpoint: info.endpoint, port: info.port, pid: info.pid ?? null, version: info.version, stateDir: info.stateDir, alreadyRunning };
}

export async function runLocalStart(context: AppContext, options: { port?: number | undefined }): Promise<LocalStackReport> {
  const stateDir = localStateDir(context.cwd);
  const before = await localStatus(stateDir);
  const info = await startLocalStack({ stateDir, port: options.port, output: context.output });
  return describe(info, before.running);
}

export async function runLocalStatus(context: AppContext): Promise<LocalStackReport> {
  const info = await localStatus(localStateDir(context.cwd));
  return describe(info, info.running);
}

export async function runLocalStop(context: AppContext): Promise<{ exitCode: ExitCode; stopped: boolean; pid: number | undefined }> {
  const result = await stopLocalStack(localStateDir(context.cwd));
  return { exitCode: ExitCode.Ok, ...result };
}

export async function runLocalReset(context: AppContext): Promise<{ exitCode: ExitCode; reset: boolean; endpoint: string }> {
  const info = await localStatus(localStateDir(context.cwd));
  if (!info.running) return { exitCode: ExitCode.Ok, reset: false, endpoint: info.endpoint };
  await resetLocalStack(info.endpoint);
  return { exitCode: ExitCode.Ok, reset: true, endpoint: info.endpoint };
}
