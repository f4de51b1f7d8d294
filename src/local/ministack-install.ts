import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CliError, ExitCode } from '../errors.js';
import { cacheDir } from '../paths.js';
import type { Output } from '../ui/output.js';
import { installOnce } from './install-once.js';

/** Installing MiniStack: a Python virtual environment under the cache directory, once per pinned version. */

const execFileAsync = promisify(execFile);

/** Pinned: the emulator's behaviour (and our workarounds for it) is tested against this version. */
export const MINISTACK_VERSION = '1.5.33';

function venvDir(): string {
  return path.join(cacheDir(), `ministack-${MINISTACK_VERSION}`, 'venv');
}

function venvPython(): string {
  return process.platform === 'win32' ? path.join(venvDir(), 'Scripts', 'python.exe') : path.join(venvDir(), 'bin', 'python');
}


/** Finds a Python 3.10+ interpreter, or fails with exit 2 saying what to install. */
export async function findPython(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const candidates = [env.IMG_RESIZER_PYTHON, 'python3', 'python3.13', 'python3.12', 'python3.11', 'python3.10', 'python'].filter(
    (c): c is string => Boolean(c),
  );
  for (const candidate of candidates) {
    try {
      const { stdout } = await execFileAsync(candidate, ['-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])']);
      const [major, minor] = stdout.trim().split('.').map(Number);
      if (major === 3 && (minor ?? 0) >= 10) return candidate;
    } catch {
      // Not installed or without venv: try the next one.
    }
  }
  throw new CliError('PYTHON_NOT_FOUND', 'The local stack needs Python 3.10 or newer (with venv), and none was found.', {
    exitCode: ExitCode.Usage,
    suggestion: 'Install Python 3 (e.g. `apt-get install python3 python3-venv`), or set IMG_RESIZER_PYTHON to an interpreter.',
  });
}

/**
 * Installs MiniStack into a virtual environment under the cache directory, once per version (installOnce:
 * concurrent first runs, a CLI and a test run, install it once).
 */
export async function installMiniStack(output?: Output): Promise<string> {
  const root = path.dirname(venvDir());
  await installOnce({
    root,
    what: 'MiniStack',
    install: async () => {
      const python = await findPython();
      const task = output?.task(`Installing MiniStack ${MINISTACK_VERSION} (first use only) into ${root}`);
      try {
        await rm(venvDir(), { recursive: true, force: true });
        await execFileAsync(python, ['-m', 'venv', venvDir()]);
        await execFileAsync(venvPython(), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `ministack==${MINISTACK_VERSION}`], {
          maxBuffer: 16 * 1024 * 1024,
        });
        task?.succeed(`Installed MiniStack ${MINISTACK_VERSION}`);
      } catch (error) {
        task?.fail('Installing MiniStack failed');
        const detail = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join('\n') ?? String(error);
        throw new CliError('LOCAL_INSTALL_FAILED', `Could not install MiniStack ${MINISTACK_VERSION}: ${detail}`, {
          suggestion: 'Check that PyPI is reachable (pip install ministack), then try again.',
          cause: error,
        });
      }
    },
  });
  return venvPython();
}
