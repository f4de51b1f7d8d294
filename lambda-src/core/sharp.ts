import { createRequire } from 'node:module';
import type SharpModule from 'sharp';
import { libvipsThreadsForMemory } from './concurrency.js';
import { LAMBDA_MEMORY_ENV } from './pixel-limit.js';

/**
 * sharp, loaded with require rather than `import`: in the deployed function sharp lives in a layer under
 * /opt/nodejs/node_modules, which Lambda puts on NODE_PATH, and only CommonJS resolution honours NODE_PATH.
 * (The bundle keeps sharp external; its native binary cannot be bundled.)
 */
export const sharp = createRequire(import.meta.url)('sharp') as typeof SharpModule;
export type { Sharp, SharpOptions, Metadata } from 'sharp';

// libvips' operation cache only helps when the same image is processed again; a function sees each image once,
// so the cache would only hold memory (up to 50 MB by default) between invocations.
sharp.cache(false);

// In Lambda (which sets the memory variable) libvips gets the threads its CPU share can run; libvips' default is
// the host's core count (1 on glibc without jemalloc, as in Lambda's runtime), which leaves a share of 1024 MB or more
// partly idle. Elsewhere (the CLI) the default stays.
const lambdaMemoryMb = Number(process.env[LAMBDA_MEMORY_ENV]);
if (Number.isFinite(lambdaMemoryMb) && lambdaMemoryMb > 0) sharp.concurrency(libvipsThreadsForMemory(lambdaMemoryMb));
