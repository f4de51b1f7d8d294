import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../errors.js';
import { cacheDir } from '../paths.js';
import { installOnce } from './install-once.js';
import { findPython } from './ministack-install.js';

/**
 * moto's server, for Rekognition only: MiniStack has none. moto answers DetectLabels with canned labels
 * (enough to test the wire protocol and the stored shape, not the labels' truth). moto 5.2.5 does not
 * implement DetectModerationLabels; moderation is tested through the port in unit tests.
 *
 * A pure module (no CLI output): install into a venv under the user's cache directory, start on a loopback
 * port, stop. The local stack wires it in.
 */

const execFileAsync = promisify(execFile);

/** Pinned: the canned answers the tests rely on are this version's. */
export const MOTO_VERSION = '5.2.5';

export interface MotoServer {
  endpoint: string;
  port: number;
  pid: number;
  logFile: string;
}

function installRoot(): string {
  return path.join(cacheDir(), `moto-${MOTO_VERSION}`);
}

function venvPython(): string {
  const venv = path.join(installRoot(), 'venv');
  return process.platform === 'win32' ? path.join(venv, 'Scripts', 'python.exe') : path.join(venv, 'bin', 'python');
}

/** Installs `moto[server]` at MOTO_VERSION into its own virtual environment, once (installOnce); returns its Python. */
export async function installMoto(): Promise<string> {
  const root = installRoot();
  await installOnce({
    root,
    what: 'moto',
    install: async () => {
      const python = await findPython();
      const venv = path.join(root, 'venv');
      try {
        await rm(venv, { recursive: true, force: true });
        await execFileAsync(python, ['-m', 'venv', venv]);
        await execFileAsync(venvPython(), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`], {
          maxBuffer: 16 * 1024 * 1024,
        });
      } catch (error) {
        const detail = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join('\n') ?? String(error);
        throw new CliError('LOCAL_INSTALL_FAILED', `Could not install moto ${MOTO_VERSION}: ${detail}`, {
          suggestion: 'Check that PyPI is reachable (pip install "moto[server]"), then try again.',
          cause: error,
        });
      }
    },
  });
  return venvPython();
}

async function isUp(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** Starts moto's server on 127.0.0.1:port (installing it first if needed), and waits until it answers. */
export async function startMoto(options: { port: number; logDir: string; startTimeoutMs?: number }): Promise<MotoServer> {
  const python = await installMoto();
  await mkdir(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, 'moto.log');
  const log = openSync(logFile, 'a');
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(options.port)], {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new CliError('LOCAL_START_FAILED', 'Could not start moto.');
  const state = { exited: false };
  child.once('exit', () => {
    state.exited = true;
  });
  child.unref();
  const endpoint = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await isUp(endpoint))) {
    if (state.exited || Date.now() > deadline) {
      if (!state.exited) stopMoto({ pid });
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
      throw new CliError('LOCAL_START_FAILED', `moto did not answer on ${endpoint}.\n${tail}`, { suggestion: `See ${logFile}.` });
    }
    await sleep(150);
  }
  return { endpoint, port: options.port, pid, logFile };
}

/** Stops the server started by startMoto (its own process group only). */
export function stopMoto(server: Pick<MotoServer, 'pid'>): void {
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}
