/**
 * The metadata item's key: derived from the source bucket and the decoded key alone, so a retry, a duplicate
 * event or a re-upload of the same key rewrites the same item, and people can read it.
 */
export function imageIdFor(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
