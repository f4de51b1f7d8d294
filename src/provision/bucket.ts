import type { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import pRetry from 'p-retry';
import {
  BLOCK_ALL_PUBLIC_ACCESS,
  blockPublicAccess,
  bucketHoldsObjects,
  createBucket,
  deleteBucket,
  emptyBucket,
  encryptByDefault,
  enforceBucketOwner,
  getBucketPolicy,
  getBucketSettings,
  headBucket,
  putBucketTags,
  restoreBucketSettings,
  type BucketPresence,
  type BucketSettings,
  type PreviousBucketSettings,
} from '../aws/s3.js';
import { CliError, awsErrorName } from '../errors.js';
import { ADOPTED_TAG, PREVIOUS_SETTINGS_TAG, STACK_TAG } from './stack.js';
import { blocked, noop, opsPlan, type ChangePlan, type Plan, type ProvisionContext, type Step } from './types.js';

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
  /** An adopted bucket whose policy lets anyone read objects: Block Public Access would cut those readers off. */
  publicRead?: boolean | undefined;
}

/** Whether a bucket policy allows s3:GetObject to everyone (Principal "*" or {"AWS": "*"}). */
export function grantsPublicRead(policyText: string | undefined): boolean {
  if (policyText === undefined) return false;
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(policyText) as { Statement?: unknown };
  } catch {
    return false;
  }
  const statements = (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]) as unknown[];
  return statements.some((item) => {
    if (typeof item !== 'object' || item === null) return false;
    const statement = item as { Effect?: unknown; Principal?: unknown; Action?: unknown };
    if (statement.Effect !== 'Allow') return false;
    const principal = statement.Principal;
    const everyone = principal === '*' || (typeof principal === 'object' && principal !== null && [(principal as { AWS?: unknown }).AWS].flat().includes('*'));
    const actions = [statement.Action].flat().filter((a): a is string => typeof a === 'string').map((a) => a.toLowerCase());
    return everyone && actions.some((a) => a === 's3:getobject' || a === 's3:*' || a === '*' || a === 's3:get*');
  });
}

/** The tag value recording an adopted bucket's settings before init changed them. */
export function previousSettingsTag(settings: BucketSettings): string {
  const block = settings.publicAccessBlock;
  const pab = block === undefined ? 'none' : Object.keys(BLOCK_ALL_PUBLIC_ACCESS).map((key) => (block[key as keyof typeof block] ? '1' : '0')).join('');
  return `pab=${pab} enc=${settings.encryption ?? 'none'} own=${settings.ownership ?? 'none'}`;
}

export interface BucketPlanOptions {
  /** --allow-lock-public-bucket: turn on Block Public Access even on a bucket whose policy grants public reads. */
  allowLockPublicBucket?: boolean | undefined;
}

/** What init does to a bucket, one op per setting it lacks. */
export type BucketOp =
  | { kind: 'create-bucket'; region: string }
  | { kind: 'block-public-access' }
  | { kind: 'encrypt-by-default' }
  | { kind: 'enforce-bucket-owner'; from: string | undefined }
  | { kind: 'tag-bucket'; key: string; value: string }
  /** Informational: the bucket already holds the operator's objects, so it is marked (a tag op) and kept by destroy. */
  | { kind: 'adopt-bucket' };

/** What destroy does to a bucket of the stack; an adopted one only gets back what init changed. */
export type BucketRemovalOp = { kind: 'empty-bucket' } | { kind: 'delete-bucket' } | { kind: 'restore-bucket-settings'; previous: string };

/** The PREVIOUS_SETTINGS_TAG value read back; undefined when it is not one init wrote. */
export function parsePreviousSettings(text: string): PreviousBucketSettings | undefined {
  const match = /^pab=(none|[01]{4}) enc=(\S+) own=(\S+)$/.exec(text);
  if (!match) return undefined;
  const [, pab = 'none', enc = 'none', own = 'none'] = match;
  const keys = Object.keys(BLOCK_ALL_PUBLIC_ACCESS) as (keyof typeof BLOCK_ALL_PUBLIC_ACCESS)[];
  return {
    publicAccessBlock: pab === 'none' ? undefined : (Object.fromEntries(keys.map((key, i) => [key, pab[i] === '1'])) as Required<PublicAccessBlockConfiguration>),
    encryption: enc === 'none' ? undefined : enc,
    ownership: own === 'none' ? undefined : own,
  };
}

/** The tags the bucket should carry: the stack's, plus the adoption mark on a bucket that was not ours. */
export function desiredBucketTags(desired: DesiredBucket, observed: Pick<ObservedBucket, 'adopt'>): Record<string, string> {
  return observed.adopt ? { ...desired.tags, [ADOPTED_TAG]: 'true' } : desired.tags;
}

export function bucketOwnedElsewhere(name: string): CliError {
  const { reason, blocker } = ownedElsewhere(name);
  return new CliError(blocker.code, reason, { suggestion: blocker.suggestion });
}

function ownedElsewhere(name: string) {
  return {
    reason: `The bucket name "${name}" belongs to another AWS account (or these credentials may not use it).`,
    blocker: {
      code: 'BUCKET_NAME_TAKEN',
      suggestion: 'Bucket names are global across all accounts: choose another with --source-bucket/--dest-bucket, or a different --stack-name.',
    },
  };
}

function inOtherRegion(desired: DesiredBucket, region: string | undefined) {
  return {
    reason: `The bucket "${desired.name}" exists in ${region ?? 'another region'}, but the stack is in ${desired.region}.`,
    blocker: {
      code: 'BUCKET_IN_OTHER_REGION',
      suggestion: `S3 triggers Lambda only in the bucket's own region: run with --region ${region ?? '<its region>'}, or choose another bucket name.`,
    },
  };
}

/** The settings a bucket is missing, one op each. */
export function bucketDifferences(desired: DesiredBucket, settings: BucketSettings): BucketOp[] {
  const ops: BucketOp[] = [];
  const block = settings.publicAccessBlock;
  const allBlocked = block !== undefined && Object.keys(BLOCK_ALL_PUBLIC_ACCESS).every((key) => block[key as keyof typeof block] === true);
  if (!allBlocked) ops.push({ kind: 'block-public-access' });
  // Any default encryption will do (SSE-KMS is stronger than the SSE-S3 we would set).
  if (settings.encryption === undefined) ops.push({ kind: 'encrypt-by-default' });
  if (settings.ownership !== 'BucketOwnerEnforced') ops.push({ kind: 'enforce-bucket-owner', from: settings.ownership });
  for (const [key, value] of Object.entries(desired.tags)) {
    if (settings.tags[key] !== value) ops.push({ kind: 'tag-bucket', key, value });
  }
  return ops;
}

const NO_SETTINGS: BucketSettings = { publicAccessBlock: undefined, encryption: undefined, ownership: undefined, tags: {} };

export function planBucket(desired: DesiredBucket, observed: ObservedBucket, options: BucketPlanOptions = {}): Plan<BucketOp> {
  const { presence } = observed;
  switch (presence.kind) {
    case 'forbidden': {
      const { reason, blocker } = ownedElsewhere(desired.name);
      return blocked(reason, blocker);
    }
    case 'elsewhere': {
      const { reason, blocker } = inOtherRegion(desired, presence.region);
      return blocked(reason, blocker);
    }
    case 'absent':
      return {
        action: 'create',
        reason: 'does not exist',
        ops: [{ kind: 'create-bucket', region: desired.region }, ...bucketDifferences(desired, NO_SETTINGS)],
      };
    case 'present': {
      if (presence.region !== undefined && presence.region !== desired.region) {
        const { reason, blocker } = inOtherRegion(desired, presence.region);
        return blocked(reason, blocker);
      }
      const current = observed.settings ?? NO_SETTINGS;
      const ops = bucketDifferences({ ...desired, tags: desiredBucketTags(desired, observed) }, current);
      if (observed.adopt && observed.publicRead && ops.some((op) => op.kind === 'block-public-access') && !options.allowLockPublicBucket) {
        return blocked(`The bucket "${desired.name}" has a policy that lets anyone read its objects (Principal "*", s3:GetObject); init would turn on Block Public Access, which cuts those readers off.`, {
          code: 'BUCKET_PUBLICLY_READABLE',
          suggestion: 'Run init with --allow-lock-public-bucket to lock it anyway (its previous settings are recorded in the img-resizer:previous-settings tag), or use another bucket.',
        });
      }
      // What init is about to change on someone else's bucket, recorded before the change, once.
      if (observed.adopt && ops.some((op) => op.kind !== 'tag-bucket') && current.tags[PREVIOUS_SETTINGS_TAG] === undefined) {
        ops.push({ kind: 'tag-bucket', key: PREVIOUS_SETTINGS_TAG, value: previousSettingsTag(current) });
      }
      if (observed.adopt) ops.push({ kind: 'adopt-bucket' });
      return opsPlan(ops, 'exists, private, encrypted and tagged');
    }
  }
}

function bucketNameBusy(name: string): CliError {
  return new CliError('BUCKET_NAME_BUSY', `S3 is still releasing the bucket name "${name}" (OperationAborted), deleted moments ago.`, {
    suggestion: 'A deleted bucket name can take a while to become available again: wait a few minutes and run `img-resizer init` again.',
  });
}

type BucketRole = 'source' | 'dest';

function bucketName(context: ProvisionContext, which: BucketRole): string {
  return which === 'source' ? context.stack.settings.sourceBucket : context.stack.settings.destBucket;
}

function bucketResource(which: BucketRole): string {
  return which === 'source' ? 'Source bucket' : 'Destination bucket';
}

/** Applies the configuration ops in plan order; tags go in one request, merged with the bucket's own. */
async function configureBucket(context: ProvisionContext, name: string, ops: readonly BucketOp[], tags: Record<string, string>): Promise<void> {
  const { s3 } = context.clients;
  let tagged = false;
  for (const op of ops) {
    switch (op.kind) {
      case 'block-public-access':
        await blockPublicAccess(s3, name);
        break;
      case 'encrypt-by-default':
        await encryptByDefault(s3, name);
        break;
      case 'enforce-bucket-owner':
        await enforceBucketOwner(s3, name);
        break;
      case 'tag-bucket':
        if (!tagged) await putBucketTags(s3, name, tags);
        tagged = true;
        break;
      case 'create-bucket':
      case 'adopt-bucket':
        break;
    }
  }
}

/** A step for one bucket; `which` says whether it is the source or the destination. */
export function bucketStep(which: BucketRole): Step<ObservedBucket, BucketOp> {
  const desired = (context: ProvisionContext): DesiredBucket => ({ name: bucketName(context, which), region: context.stack.region, tags: context.stack.tags });
  return {
    id: `${which}-bucket`,
    resource: bucketResource(which),
    name: (context) => bucketName(context, which),
    async observe(context) {
      const { s3 } = context.clients;
      const { name } = desired(context);
      const presence = await headBucket(s3, name);
      if (presence.kind !== 'present') return { presence };
      const settings = await getBucketSettings(s3, name);
      // Not tagged as ours: an empty one is most likely our own from an interrupted run; one with objects is
      // the operator's existing bucket, which destroy must never empty, unless the record of what the stack
      // created names it (the local stack loses tags on an unclean stop): then the tags are put back.
      const untagged = settings.tags[STACK_TAG] === undefined;
      const recorded = untagged && (await context.ownership?.bucketCreatedBy(name)) === context.stack.settings.stackName;
      const adopt = untagged && !recorded && (await bucketHoldsObjects(s3, name));
      const publicRead = adopt && grantsPublicRead(await getBucketPolicy(s3, name));
      return { presence, settings, adopt, publicRead };
    },
    plan: (context, observed) => planBucket(desired(context), observed, { allowLockPublicBucket: context.stack.settings.allowLockPublicBucket }),
    async apply(context, observed, plan, _inputs, progress) {
      const { s3 } = context.clients;
      const want = { ...desired(context), tags: desiredBucketTags(desired(context), observed) };
      let ops = plan.ops;
      let current = observed.settings?.tags ?? {};
      if (ops.some((op) => op.kind === 'create-bucket')) {
        progress('creating');
        const outcome = await createBucket(s3, want.name, want.region);
        if (outcome === 'taken') throw bucketOwnedElsewhere(want.name);
        if (outcome === 'busy') throw bucketNameBusy(want.name);
        // Recorded at once, before its tags, so that even a crash right now leaves it known as ours.
        if (outcome === 'created') await context.ownership?.recordBucketCreated(want.name, context.stack.settings.stackName);
        // Created by an earlier, interrupted run: see what it already has rather than assume.
        if (outcome === 'already-owned') {
          const settings = await getBucketSettings(s3, want.name);
          current = settings.tags;
          ops = bucketDifferences(want, settings);
        }
      }
      const recorded: Record<string, string> = {};
      for (const op of ops) if (op.kind === 'tag-bucket' && op.key === PREVIOUS_SETTINGS_TAG) recorded[op.key] = op.value;
      // The record goes on first, so a run interrupted half-way still leaves it.
      if (Object.keys(recorded).length > 0) await putBucketTags(s3, want.name, { ...current, ...want.tags, ...recorded });
      await configureBucket(context, want.name, ops, { ...current, ...want.tags, ...recorded });
      return undefined;
    },
  };
}

/** How destroy retries a bucket that keeps filling while it is emptied (uploads, function runs still writing). */
export interface RemovalRetry {
  attempts: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_REMOVAL_RETRY: RemovalRetry = { attempts: 5, minDelayMs: 1_000, maxDelayMs: 8_000 };

export type ObservedBucketForRemoval =
  | { kind: 'kept-by-flag' }
  | { kind: 'presence'; presence: Exclude<BucketPresence, { kind: 'present' }> }
  /** `createdBy`: the stack the ownership record says created it (the local stack's record; tags may be lost). */
  | { kind: 'present'; tags: Record<string, string>; createdBy?: string | undefined };

export function planBucketRemoval(stackName: string, observed: ObservedBucketForRemoval): Plan<BucketRemovalOp> {
  if (observed.kind === 'kept-by-flag') return noop('--keep-buckets', { kept: true });
  if (observed.kind === 'presence') {
    return observed.presence.kind === 'absent' ? noop('already gone') : noop('not accessible to these credentials', { kept: true });
  }
  // Untagged but recorded as created by this stack: its tags were lost (an unclean stop of the local stack).
  if (observed.tags[STACK_TAG] === undefined && observed.createdBy === stackName) {
    return { action: 'delete', reason: 'made by this stack (its tags were lost; the record of what the stack created names it)', ops: [{ kind: 'empty-bucket' }, { kind: 'delete-bucket' }] };
  }
  if (observed.tags[STACK_TAG] !== stackName) return noop(`not tagged ${STACK_TAG}=${stackName}, so not emptied`, { kept: true });
  if (observed.tags[ADOPTED_TAG] === 'true') {
    const previous = observed.tags[PREVIOUS_SETTINGS_TAG];
    if (previous !== undefined && parsePreviousSettings(previous)) {
      return { action: 'update', reason: 'adopted bucket, kept with its objects: what init changed is put back', ops: [{ kind: 'restore-bucket-settings', previous }] };
    }
    return noop('adopted bucket, kept: it held objects before init adopted it, so it stays with them', { kept: true });
  }
  return { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'empty-bucket' }, { kind: 'delete-bucket' }] };
}

export class BucketStillFillingError extends CliError {
  constructor(readonly bucket: string, attempts: number) {
    super('BUCKET_STILL_FILLING', `Objects kept arriving in s3://${bucket} while destroy emptied it (BucketNotEmpty ${attempts} times).`, {
      suggestion: 'Stop uploads to the stack and let running functions finish, then run `img-resizer destroy` again: it finishes what remains.',
    });
  }
}

/**
 * Destroy's step for one bucket: emptied (every version and delete marker) and deleted only when tagged as this
 * stack's and not adopted, so a settings file pointing at someone else's bucket cannot empty it. Objects that
 * land meanwhile make DeleteBucket fail with BucketNotEmpty: empty again and retry, a bounded number of times.
 */
export function bucketRemovalStep(which: BucketRole, options: { keepBuckets: boolean; retry?: RemovalRetry | undefined }): Step<ObservedBucketForRemoval, BucketRemovalOp> {
  const retry = options.retry ?? DEFAULT_REMOVAL_RETRY;
  return {
    id: `${which}-bucket`,
    resource: bucketResource(which),
    name: (context) => bucketName(context, which),
    async observe(context) {
      if (options.keepBuckets) return { kind: 'kept-by-flag' };
      const { s3 } = context.clients;
      const name = bucketName(context, which);
      const presence = await headBucket(s3, name);
      if (presence.kind !== 'present') return { kind: 'presence', presence };
      const { tags } = await getBucketSettings(s3, name);
      return { kind: 'present', tags, createdBy: tags[STACK_TAG] === undefined ? await context.ownership?.bucketCreatedBy(name) : undefined };
    },
    plan: (context, observed) => planBucketRemoval(context.stack.settings.stackName, observed),
    async apply(context, observed, plan: ChangePlan<BucketRemovalOp>, _inputs, progress) {
      const { s3 } = context.clients;
      const name = bucketName(context, which);
      const restore = plan.ops.find((op) => op.kind === 'restore-bucket-settings');
      if (restore) {
        const previous = parsePreviousSettings(restore.previous);
        const ours = new Set([STACK_TAG, ADOPTED_TAG, PREVIOUS_SETTINGS_TAG]);
        const tags = Object.fromEntries(Object.entries(observed.kind === 'present' ? observed.tags : {}).filter(([key]) => !ours.has(key)));
        if (previous) await restoreBucketSettings(s3, name, previous, tags);
        return { detail: `kept; restored ${restore.previous}` };
      }
      const empties = plan.ops.some((op) => op.kind === 'empty-bucket');
      let deleted = 0;
      let attempt = 0;
      await pRetry(
        async () => {
          attempt++;
          if (empties) {
            progress(attempt === 1 ? 'emptying' : `emptying again (attempt ${attempt} of ${retry.attempts})`);
            deleted += await emptyBucket(s3, name, (n) => { progress(`emptying: ${deleted + n} deleted`); });
          }
          if (plan.ops.some((op) => op.kind === 'delete-bucket')) {
            await deleteBucket(s3, name);
            await context.ownership?.forgetBucket(name);
          }
        },
        {
          retries: retry.attempts - 1,
          minTimeout: retry.minDelayMs,
          maxTimeout: retry.maxDelayMs,
          shouldRetry: ({ error }) => awsErrorName(error) === 'BucketNotEmpty',
          onFailedAttempt: ({ error }) => {
            if (awsErrorName(error) === 'BucketNotEmpty') progress('objects still arriving; waiting to empty it again');
          },
        },
      ).catch((error: unknown) => {
        throw awsErrorName(error) === 'BucketNotEmpty' ? new BucketStillFillingError(name, attempt) : error;
      });
      const plural = deleted === 1 ? '' : 's';
      const detail = deleted === 0 ? 'was empty' : `emptied first: ${deleted} object version${plural} and delete marker${plural}`;
      return { detail: attempt > 1 ? `${detail}, emptied ${attempt} times as objects kept arriving` : detail };
    },
  };
}
