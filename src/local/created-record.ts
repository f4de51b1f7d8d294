import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OwnershipRecord } from '../provision/types.js';

/** The file in the local stack's state directory that lists the buckets its stacks created. */
export const CREATED_RECORD_FILE = 'created.json';

interface CreatedFile {
  version: 1;
  buckets: Record<string, { stack: string; createdAt: string }>;
}

async function read(file: string): Promise<CreatedFile> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { buckets?: unknown };
    const buckets = typeof parsed.buckets === 'object' && parsed.buckets !== null ? (parsed.buckets as CreatedFile['buckets']) : {};
    return { version: 1, buckets };
  } catch (error) {
    // No record yet (nothing created), or a torn file from a crash: either way nothing is known to be ours.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return { version: 1, buckets: {} };
    throw error;
  }
}

/** Written atomically (temp file, then rename), so a kill mid-write leaves the old record whole. */
async function write(file: string, record: CreatedFile): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, 'utf8');
  await rename(temporary, file);
}

/**
 * What the local stack's stacks created, kept in its state directory. MiniStack saves its state (bucket tags
 * included) only on a clean stop while the S3 objects are on disk at once, so after a crash a bucket init made
 * comes back untagged and full, which looks like the operator's bucket; this record says it is the stack's.
 * It lives with the emulator's data (the same directory holds the buckets' objects), so it is found from any
 * working directory and goes when that data goes. Read on every question, so two commands in turn agree.
 */
export function createdRecord(stateDir: string): OwnershipRecord {
  const file = path.join(stateDir, CREATED_RECORD_FILE);
  return {
    async bucketCreatedBy(bucket) {
      return (await read(file)).buckets[bucket]?.stack;
    },
    async recordBucketCreated(bucket, stack) {
      const record = await read(file);
      record.buckets[bucket] = { stack, createdAt: new Date().toISOString() };
      await write(file, record);
    },
    async forgetBucket(bucket) {
      const record = await read(file);
      if (!(bucket in record.buckets)) return;
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the record is keyed by bucket name
      delete record.buckets[bucket];
      await write(file, record);
    },
  };
}
