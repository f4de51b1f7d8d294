import {
  BLOCK_ALL_PUBLIC_ACCESS,
  blockPublicAccess,
  bucketHoldsObjects,
  createBucket,
  encryptByDefault,
  enforceBucketOwner,
  getBucketSettings,
  headBucket,
  putBucketTags,
  type BucketPresence,
  type BucketSettings,
} from '../aws/s3.js';
import { CliError } from '../errors.js';
import { ADOPTED_TAG, STACK_TAG } from './stack.js';
import { changesPlan, type Plan, type ProvisionContext, type Step } from './types.js';

export interface DesiredBucket {
  name: string;
  region: string;
  tags: Record<string, string>;
}

export interface ObservedBucket {
  presence: BucketPresence;
  settings?: BucketSettings | undefined;
  /** Present without our stack tag and already holding objects: the operator's bucket, adopted, never deleted. */
  adopt?: boolean | undefined;
}

/** The tags the bucket should carry: the stack's, plus the adoption mark on a bucket that was not ours. */
export function desiredBucketTags(desired: DesiredBucket, observed: Pick<ObservedBucket, 'adopt'>): Record<string, string> {
  return observed.adopt ? { ...desired.tags, [ADOPTED_TAG]: 'true' } : desired.tags;
}

export function bucketOwnedElsewhere(name: string): CliError {
  return new CliError('BUCKET_NAME_TAKEN', `The bucket name "${name}" belongs to another AWS account (or these credentials may not use it).`, {
    suggestion: 'Bucket names are global across all accounts: choose another with --source-bucket/--dest-bucket, or a different --stack-name.',
  });
}

/** The settings a bucket is missing, one line each. */
export function bucketDifferences(desired: DesiredBucket, settings: BucketSettings): string[] {
  const changes: string[] = [];
  const block = settings.publicAccessBlock;
  const allBlocked = block !== undefined && Object.keys(BLOCK_ALL_PUBLIC_ACCESS).every((key) => block[key as keyof typeof block] === true);
  if (!allBlocked) changes.push('turn on all four Block Public Access settings');
  // Any default encryption will do (SSE-KMS is stronger than the SSE-S3 we would set).
  if (settings.encryption === undefined) changes.push('turn on default encryption (SSE-S3)');
  if (settings.ownership !== 'BucketOwnerEnforced') changes.push(`object ownership ${settings.ownership ?? 'unset'} → BucketOwnerEnforced`);
  for (const [key, value] of Object.entries(desired.tags)) {
    if (settings.tags[key] !== value) changes.push(`tag ${key}=${value}`);
  }
  return changes;
}

export function planBucket(desired: DesiredBucket, observed: ObservedBucket): Plan {
  const { presence } = observed;
  switch (presence.kind) {
    case 'forbidden':
      throw bucketOwnedElsewhere(desired.name);
    case 'elsewhere':
      throw bucketInOtherRegion(desired, presence.region);
    case 'absent':
      return {
        action: 'create',
        reason: 'does not exist',
        changes: [
          `create in ${desired.region}`,
          'Block Public Access on',
          'default encryption SSE-S3',
          'ownership BucketOwnerEnforced',
          `tags ${Object.entries(desired.tags).map(([k, v]) => `${k}=${v}`).join(', ')}`,
        ],
      };
    case 'present': {
      if (presence.region !== undefined && presence.region !== desired.region) throw bucketInOtherRegion(desired, presence.region);
      const settings = observed.settings ?? { publicAccessBlock: undefined, encryption: undefined, ownership: undefined, tags: {} };
      const changes = bucketDifferences({ ...desired, tags: desiredBucketTags(desired, observed) }, settings);
      if (observed.adopt) changes.push('adopt: it already holds objects, so destroy will keep it');
      return changesPlan(changes, 'exists, private, encrypted and tagged');
    }
  }
}

function bucketNameBusy(name: string): CliError {
  return new CliError('BUCKET_NAME_BUSY', `S3 is still releasing the bucket name "${name}" (OperationAborted), deleted moments ago.`, {
    suggestion: 'A deleted bucket name can take a while to become available again: wait a few minutes and run `img-resizer init` again.',
  });
}

function bucketInOtherRegion(desired: DesiredBucket, region: string | undefined): CliError {
  return new CliError(
    'BUCKET_IN_OTHER_REGION',
    `The bucket "${desired.name}" exists in ${region ?? 'another region'}, but the stack is in ${desired.region}.`,
    { suggestion: `S3 triggers Lambda only in the bucket's own region: run with --region ${region ?? '<its region>'}, or choose another bucket name.` },
  );
}

/** A step for one bucket; `which` says whether it is the source or the destination. */
export function bucketStep(which: 'source' | 'dest'): Step<ObservedBucket> {
  const desired = (context: ProvisionContext): DesiredBucket => ({
    name: which === 'source' ? context.stack.settings.sourceBucket : context.stack.settings.destBucket,
    region: context.stack.region,
    tags: context.stack.tags,
  });
  return {
    id: `${which}-bucket`,
    resource: which === 'source' ? 'Source bucket' : 'Destination bucket',
    name: (context) => desired(context).name,
    async observe(context) {
      const { s3 } = context.clients;
      const { name } = desired(context);
      const presence = await headBucket(s3, name);
      if (presence.kind !== 'present') return { presence };
      const settings = await getBucketSettings(s3, name);
      // Not tagged as ours: an empty one is most likely our own from an interrupted run; one with objects is
      // the operator's existing bucket, which destroy must never empty.
      const adopt = settings.tags[STACK_TAG] === undefined && (await bucketHoldsObjects(s3, name));
      return { presence, settings, adopt };
    },
    plan: (context, observed) => planBucket(desired(context), observed),
    async apply(context, observed, plan, progress) {
      const { s3 } = context.clients;
      const want = { ...desired(context), tags: desiredBucketTags(desired(context), observed) };
      let settings = observed.settings;
      if (plan.action === 'create') {
        progress('creating');
        const outcome = await createBucket(s3, want.name, want.region);
        if (outcome === 'taken') throw bucketOwnedElsewhere(want.name);
        if (outcome === 'busy') throw bucketNameBusy(want.name);
        // Created by an earlier, interrupted run: see what it already has rather than assume.
        settings = outcome === 'already-owned' ? await getBucketSettings(s3, want.name) : undefined;
      }
      const missing = settings ? bucketDifferences(want, settings) : undefined;
      const needs = (prefix: string): boolean => missing === undefined || missing.some((c) => c.startsWith(prefix));
      if (needs('turn on all four')) await blockPublicAccess(s3, want.name);
      if (needs('turn on default encryption')) await encryptByDefault(s3, want.name);
      if (needs('object ownership')) await enforceBucketOwner(s3, want.name);
      if (needs('tag ')) await putBucketTags(s3, want.name, { ...(settings?.tags ?? {}), ...want.tags });
    },
  };
}
