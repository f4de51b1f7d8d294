import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketEncryptionCommand,
  DeleteBucketOwnershipControlsCommand,
  DeleteBucketTaggingCommand,
  DeletePublicAccessBlockCommand,
  DeleteObjectsCommand,
  GetBucketEncryptionCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketTaggingCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type BucketLocationConstraint,
  type NotificationConfiguration,
  type ObjectIdentifier,
  type PublicAccessBlockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { awsErrorName, awsHttpStatus } from '../errors.js';

/** What HeadBucket says about a bucket name, from our credentials' point of view. */
export type BucketPresence =
  | { kind: 'absent' }
  | { kind: 'present'; region: string | undefined }
  /** 403: the bucket exists and belongs to another account (or our credentials may not look at it). */
  | { kind: 'forbidden' }
  /** 301: it exists in another region than the one we talk to. */
  | { kind: 'elsewhere'; region: string | undefined };

export async function headBucket(s3: S3Client, bucket: string): Promise<BucketPresence> {
  try {
    const response = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return { kind: 'present', region: response.BucketRegion };
  } catch (error) {
    const status = awsHttpStatus(error);
    const name = awsErrorName(error);
    if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') return { kind: 'absent' };
    if (status === 403) return { kind: 'forbidden' };
    if (status === 301) return { kind: 'elsewhere', region: bucketRegionHeader(error) };
    // A request signed for the wrong region can also come back 400 (AuthorizationHeaderMalformed has no body
    // on HEAD); S3 still names the bucket's region in x-amz-bucket-region.
    const region = bucketRegionHeader(error);
    if (status === 400 && region !== undefined && region !== (await s3.config.region())) return { kind: 'elsewhere', region };
    throw error;
  }
}

function bucketRegionHeader(error: unknown): string | undefined {
  const response = (error as { $response?: { headers?: Record<string, string> } }).$response;
  return response?.headers?.['x-amz-bucket-region'];
}

export interface BucketSettings {
  publicAccessBlock: PublicAccessBlockConfiguration | undefined;
  /** The default encryption algorithm (AES256 is SSE-S3). */
  encryption: string | undefined;
  ownership: string | undefined;
  tags: Record<string, string>;
}

/** Reads a setting, mapping "not configured" errors to undefined. */
async function optional<T>(read: () => Promise<T>, notConfigured: string[]): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    const name = awsErrorName(error);
    if (name !== undefined && notConfigured.includes(name)) return undefined;
    throw error;
  }
}

export async function getBucketSettings(s3: S3Client, bucket: string): Promise<BucketSettings> {
  const [publicAccessBlock, encryption, ownership, tags] = await Promise.all([
    optional(
      async () => (await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration,
      ['NoSuchPublicAccessBlockConfiguration'],
    ),
    optional(async () => {
      const response = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
      return response.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm;
    }, ['ServerSideEncryptionConfigurationNotFoundError']),
    optional(
      async () => (await s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
      ['OwnershipControlsNotFoundError'],
    ),
    optional(async () => {
      const response = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
      return Object.fromEntries((response.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    }, ['NoSuchTagSet', 'NoSuchTagSetError']),
  ]);
  return { publicAccessBlock, encryption, ownership, tags: tags ?? {} };
}

export type CreateBucketOutcome = 'created' | 'already-owned' | 'taken' | 'busy';

/** Creates a bucket in `region` (LocationConstraint outside us-east-1, which rejects one). */
export async function createBucket(s3: S3Client, bucket: string, region: string): Promise<CreateBucketOutcome> {
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ObjectOwnership: 'BucketOwnerEnforced',
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      }),
    );
    return 'created';
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'BucketAlreadyOwnedByYou') return 'already-owned';
    if (name === 'BucketAlreadyExists') return 'taken';
    // 409 OperationAborted: the name was deleted moments ago (say, by destroy) and S3 has not released it yet.
    if (name === 'OperationAborted') return 'busy';
    throw error;
  }
}

export const BLOCK_ALL_PUBLIC_ACCESS: Required<PublicAccessBlockConfiguration> = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

export async function blockPublicAccess(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: BLOCK_ALL_PUBLIC_ACCESS }));
}

/** Default encryption with S3-managed keys (SSE-S3). */
export async function encryptByDefault(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(
    new PutBucketEncryptionCommand({
      Bucket: bucket,
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    }),
  );
}

export async function enforceBucketOwner(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(
    new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } }),
  );
}

/** Replaces the bucket's tag set (callers merge in tags they want to keep). */
export async function putBucketTags(s3: S3Client, bucket: string, tags: Record<string, string>): Promise<void> {
  await s3.send(
    new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }),
  );
}

/** The bucket's whole notification configuration; undefined when the bucket is gone. */
export async function getNotificationConfiguration(s3: S3Client, bucket: string): Promise<NotificationConfiguration | undefined> {
  try {
    const response = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    return {
      TopicConfigurations: response.TopicConfigurations,
      QueueConfigurations: response.QueueConfigurations,
      LambdaFunctionConfigurations: response.LambdaFunctionConfigurations,
      EventBridgeConfiguration: response.EventBridgeConfiguration,
    };
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchBucket') return undefined;
    throw error;
  }
}

/**
 * Replaces the bucket's whole notification configuration. S3 validates every destination in it (ours and
 * everyone else's) unless `skipDestinationValidation`: destroy skips it, since it only removes our entry and
 * must not fail because another tool's queue or function has gone.
 */
export async function putNotificationConfiguration(
  s3: S3Client,
  bucket: string,
  configuration: NotificationConfiguration,
  options: { skipDestinationValidation?: boolean } = {},
): Promise<void> {
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: configuration,
      ...(options.skipDestinationValidation ? { SkipDestinationValidation: true } : {}),
    }),
  );
}

/** S3 deletes at most this many keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

/**
 * Deletes every object version and delete marker (a versioned bucket keeps both), in batches of 1,000.
 * Returns how many were deleted; a bucket that is already gone counts as empty.
 */
export async function emptyBucket(s3: S3Client, bucket: string, onProgress?: (deleted: number) => void): Promise<number> {
  let deleted = 0;
  try {
    for await (const page of listObjectVersionPages(s3, bucket)) {
      const identifiers: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
        .filter((v): v is typeof v & { Key: string } => v.Key !== undefined)
        // Always name the version, "null" included: a key without one, in a versioned bucket, would only add a
        // delete marker behind the pager, and DeleteBucket would then fail with BucketNotEmpty.
        .map((v) => ({ Key: v.Key, ...(v.VersionId === undefined ? {} : { VersionId: v.VersionId }) }));
      for (let i = 0; i < identifiers.length; i += DELETE_BATCH) {
        const batch = identifiers.slice(i, i + DELETE_BATCH);
        const response = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
        const failure = response.Errors?.[0];
        if (failure) {
          throw new Error(`Could not delete s3://${bucket}/${failure.Key ?? ''}: ${failure.Code ?? ''} ${failure.Message ?? ''}`.trim());
        }
        deleted += batch.length;
        onProgress?.(deleted);
      }
    }
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchBucket') return deleted;
    throw error;
  }
  return deleted;
}

/** ListObjectVersions pages (the SDK has no paginator for it). */
async function* listObjectVersionPages(s3: S3Client, bucket: string): AsyncGenerator<ListObjectVersionsCommandOutput> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    yield page;
    if (!page.IsTruncated) return;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** Whether the bucket holds anything at all (any object version or delete marker); one cheap read. */
export async function bucketHoldsObjects(s3: S3Client, bucket: string): Promise<boolean> {
  const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1 }));
  return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0) > 0;
}

/** Deletes an empty bucket; false when it was already gone. */
export async function deleteBucket(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchBucket') return false;
    throw error;
  }
}

/** The bucket's policy document (JSON text), or undefined when it has none. */
export async function getBucketPolicy(s3: S3Client, bucket: string): Promise<string | undefined> {
  return optional(async () => (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, ['NoSuchBucketPolicy']);
}

/** What an adopted bucket had before init changed it (see PREVIOUS_SETTINGS_TAG); undefined: it had none. */
export interface PreviousBucketSettings {
  publicAccessBlock: Required<PublicAccessBlockConfiguration> | undefined;
  /** Only "none" matters: init sets encryption only where there was none. */
  encryption: string | undefined;
  ownership: string | undefined;
}

/** Puts back what init changed on an adopted bucket, and its tags without the stack's. */
export async function restoreBucketSettings(s3: S3Client, bucket: string, previous: PreviousBucketSettings, tags: Record<string, string>): Promise<void> {
  if (previous.publicAccessBlock === undefined) await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
  else await s3.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: previous.publicAccessBlock }));
  if (previous.encryption === undefined) await s3.send(new DeleteBucketEncryptionCommand({ Bucket: bucket }));
  if (previous.ownership === undefined) await s3.send(new DeleteBucketOwnershipControlsCommand({ Bucket: bucket }));
  else if (previous.ownership !== 'BucketOwnerEnforced') {
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: { Rules: [{ ObjectOwnership: previous.ownership as 'ObjectWriter' | 'BucketOwnerPreferred' }] } }));
  }
  if (Object.keys(tags).length === 0) await s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
  else await putBucketTags(s3, bucket, tags);
}
