/** A bucket's policy document and the tags that tell whether the stack made the bucket. */
import { DeleteBucketPolicyCommand, GetBucketPolicyCommand, GetBucketTaggingCommand, PutBucketPolicyCommand, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../errors.js';

/** The policy as text, or undefined when the bucket has none; null when the bucket does not exist. */
export async function getBucketPolicy(s3: S3Client, bucket: string): Promise<string | undefined | null> {
  try {
    return (await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy ?? undefined;
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'NoSuchBucketPolicy') return undefined;
    if (name === 'NoSuchBucket' || name === 'NotFound') return null;
    throw error;
  }
}

export async function putBucketPolicy(s3: S3Client, bucket: string, policy: unknown): Promise<void> {
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
}

export async function deleteBucketPolicy(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
  } catch (error) {
    if (awsErrorName(error) !== 'NoSuchBucket') throw error;
  }
}

export async function getBucketTags(s3: S3Client, bucket: string): Promise<Record<string, string>> {
  try {
    const response = await s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    return Object.fromEntries((response.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'NoSuchTagSet' || name === 'NoSuchTagSetError' || name === 'NoSuchBucket') return {};
    throw error;
  }
}
