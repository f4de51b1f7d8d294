import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { libvipsThreadsForMemory } from '../../lambda-src/core/concurrency.js';

const run = promisify(execFile);

/** sharp.concurrency() in a fresh process that loads the function's sharp setup with the given environment. */
async function concurrencyWith(env: Record<string, string>): Promise<number> {
  const script = "import('./lambda-src/core/sharp.ts').then((m) => process.stdout.write(String(m.sharp.concurrency())))";
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '-e', script], { cwd: new URL('../..', import.meta.url), env: { ...process.env, ...env } });
  return Number(stdout);
}

describe('libvips threads in the function follow its CPU share', () => {
  it('one thread per whole vCPU (1,769 MB each), at least one', () => {
    expect([128, 512, 1024, 1769, 3008].map(libvipsThreadsForMemory)).toEqual([1, 1, 1, 1, 1]);
    expect([3538, 5307, 10_240].map(libvipsThreadsForMemory)).toEqual([2, 3, 5]);
  });

  it('the function\'s sharp setup applies it when Lambda sets the memory, and leaves the default elsewhere', async () => {
    const { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: _, ...withoutLambda } = process.env;
    const [at512, at3538, outside] = await Promise.all([
      concurrencyWith({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' }),
      concurrencyWith({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538' }),
      run(process.execPath, ['--import', 'tsx', '-e', "import('./lambda-src/core/sharp.ts').then((m) => process.stdout.write(String(m.sharp.concurrency())))"], {
        cwd: new URL('../..', import.meta.url),
        env: withoutLambda,
      }).then(({ stdout }) => Number(stdout)),
    ]);
    expect(at512).toBe(1);
    expect(at3538).toBe(2);
    // sharp's own default (the host's cores, or 1 on glibc without jemalloc, as here and in Lambda's runtime).
    const { stdout: plain } = await run(process.execPath, ['-e', "process.stdout.write(String(require('sharp').concurrency()))"], { cwd: new URL('../..', import.meta.url), env: withoutLambda });
    expect(outside).toBe(Number(plain));
  }, 60_000);
});
