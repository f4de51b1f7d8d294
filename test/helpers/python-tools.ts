import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { installOnce } from '../../src/local/install-once.js';
import { findPython, MINISTACK_VERSION } from '../../src/local/ministack-install.js';
import { cacheDir } from '../../src/paths.js';

const execFileAsync = promisify(execFile);

/** The CloudFormation linter, pinned like MiniStack: a new release may add checks, so bump it on purpose. */
export const CFN_LINT_VERSION = '1.58.0';

/** Installs `requirement` into its own virtual environment under the user cache directory, once; returns the venv. */
async function venvWith(name: string, requirement: string): Promise<string> {
  const root = path.join(cacheDir(), name);
  const venv = path.join(root, 'venv');
  await installOnce({
    root,
    what: requirement,
    install: async () => {
      const python = await findPython();
      await rm(venv, { recursive: true, force: true });
      await execFileAsync(python, ['-m', 'venv', venv]);
      await execFileAsync(path.join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', requirement], {
        maxBuffer: 16 * 1024 * 1024,
      });
    },
  });
  return venv;
}

/** cfn-lint's executable, installed on first use. */
export async function installCfnLint(): Promise<string> {
  return path.join(await venvWith(`cfn-lint-${CFN_LINT_VERSION}`, `cfn-lint==${CFN_LINT_VERSION}`), 'bin', 'cfn-lint');
}

/** Runs cfn-lint on templates; exit code 0 means no error, no warning and no informational finding. */
export async function cfnLint(executable: string, templates: readonly string[]): Promise<{ exitCode: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(executable, ['--', ...templates], { maxBuffer: 16 * 1024 * 1024 });
    return { exitCode: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { exitCode: failure.code ?? -1, output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

/**
 * A Python with MiniStack and its `full` extra (which brings the SAM translator, so it deploys
 * AWS::Serverless templates), in a venv of its own beside the CLI's plain install.
 */
export async function installMiniStackFull(): Promise<string> {
  return path.join(await venvWith(`ministack-full-${MINISTACK_VERSION}`, `ministack[full]==${MINISTACK_VERSION}`), 'bin', 'python');
}
