import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { GetObjectCommand, HeadObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/** Objects up to this size go up in one PutObject from memory; larger ones stream through multipart upload. */
export const MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Part size of multipart uploads: 8 MiB parts stay under S3's 10,000-part limit up to 80 GB per file. */
export const PART_SIZE_BYTES = 8 * 1024 * 1024;

export interface UploadFileInput {
  bucket: string;
  key: string;
  file: string;
  bytes: number;
  contentType: string;
  /** Bytes sent so far, for progress. */
  onProgress?: (loaded: number) => void;
  signal?: AbortSignal;
}

/**
 * Uploads one local file. lib-storage's Upload sends small bodies with a single PutObject and large ones as a
 * multipart upload (parts in parallel, aborted on failure so no orphaned parts are billed).
 */
export async function uploadFile(s3: S3Client, input: UploadFileInput): Promise<{ eTag: string | undefined }> {
  const body = input.bytes <= MULTIPART_THRESHOLD_BYTES ? await readFile(input.file) : createReadStream(input.file);
  const abortController = new AbortController();
  const onAbort = (): void => { abortController.abort(); };
  input.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const upload = new Upload({
      client: s3,
      params: { Bucket: input.bucket, Key: input.key, Body: body, ContentType: input.contentType, ContentLength: input.bytes },
      partSize: PART_SIZE_BYTES,
      queueSize: 4,
      leavePartsOnError: false,
      abortController,
    });
    if (input.onProgress) {
      const report = input.onProgress;
      upload.on('httpUploadProgress', (progress) => { if (progress.loaded !== undefined) report(progress.loaded); });
    }
    const result = await upload.done();
    return { eTag: result.ETag };
  } finally {
    input.signal?.removeEventListener('abort', onAbort);
  }
}

export interface ListedObject {
  key: string;
  bytes: number;
  /** Without the surrounding quotes, as S3 event records carry it. */
  eTag: string;
  lastModified: Date | undefined;
}

/** S3 returns at most 1,000 keys per ListObjectsV2 page. */
export const LIST_PAGE_SIZE = 1000;

/** Every object under a prefix, one ListObjectsV2 page (up to `pageSize` keys, 1,000 by default) at a time. */
export async function* listObjectPages(s3: S3Client, bucket: string, prefix?: string, pageSize = LIST_PAGE_SIZE): AsyncGenerator<ListedObject[]> {
  const pages = paginateListObjectsV2({ client: s3, pageSize }, { Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) });
  for await (const page of pages) {
    const objects: ListedObject[] = [];
    for (const entry of page.Contents ?? []) {
      if (entry.Key === undefined) continue;
      objects.push({
        key: entry.Key,
        bytes: entry.Size ?? 0,
        eTag: (entry.ETag ?? '').replace(/^"|"$/g, ''),
        lastModified: entry.LastModified,
      });
    }
    yield objects;
  }
}

/** The whole object in memory (for small outputs, e.g. the demo's thumbnails). */
export async function getObjectBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) return new Uint8Array();
  return response.Body.transformToByteArray();
}

/** An object's size and ETag (without quotes), or undefined when there is no such object. */
export async function headObject(s3: S3Client, bucket: string, key: string): Promise<{ bytes: number; eTag: string } | undefined> {
  try {
    const response = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { bytes: response.ContentLength ?? 0, eTag: (response.ETag ?? '').replace(/"/g, '') };
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NotFound' || name === 'NoSuchKey') return undefined;
    throw error;
  }
}
