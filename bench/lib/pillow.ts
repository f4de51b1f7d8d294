import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, findPython } from '../../src/local/ministack.js';

const execFileAsync = promisify(execFile);

export interface PillowRuntime {
  python: string;
  pillowVersion: string;
  pythonVersion: string;
  /** Where it came from: an interpreter that had it, the bench's venv, or a venv installed just now. */
  origin: string;
}

export function pillowVenvDir(): string {
  return path.join(cacheDir(), 'bench', 'pillow-venv');
}

function venvPython(dir: string): string {
  return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

const PROBE = 'import sys, PIL; print(PIL.__version__); print("%d.%d.%d" % sys.version_info[:3])';

async function probe(python: string): Promise<{ pillowVersion: string; pythonVersion: string } | undefined> {
  try {
    const { stdout } = await execFileAsync(python, ['-c', PROBE], { timeout: 30_000 });
    const [pillowVersion, pythonVersion] = stdout.trim().split('\n');
    if (!pillowVersion || !pythonVersion) return undefined;
    return { pillowVersion, pythonVersion };
  } catch {
    return undefined;
  }
}

/**
 * A Python 3 that can import Pillow: the bench's own venv under the cache directory, else an interpreter
 * that already has it (Debian's python3-pil included), else a new venv with `pip install pillow` from PyPI.
 */
export async function ensurePillow(log: (line: string) => void): Promise<PillowRuntime> {
  const dir = pillowVenvDir();
  const venv = venvPython(dir);
  const cached = await probe(venv);
  if (cached) return { python: venv, ...cached, origin: 'bench venv' };
  for (const candidate of ['python3', '/usr/bin/python3']) {
    const found = await probe(candidate);
    if (found) return { python: candidate, ...found, origin: candidate };
  }
  const python = await findPython();
  log(`Installing Pillow from PyPI into ${dir} (first run only) …`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  try {
    await execFileAsync(python, ['-m', 'venv', dir], { timeout: 120_000 });
    await execFileAsync(venv, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', 'pillow'], {
      timeout: 5 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const detail = (error as { stderr?: string }).stderr?.trim().split('\n').pop() ?? (error as Error).message;
    throw new Error(`pip install pillow failed: ${detail} (Debian: apt-get install python3-pil)`);
  }
  const installed = await probe(venv);
  if (!installed) throw new Error(`Pillow installed into ${dir} but does not import`);
  return { python: venv, ...installed, origin: 'bench venv, installed now' };
}
