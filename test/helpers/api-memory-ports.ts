import { createHash } from 'node:crypto';
import type { ApiPorts, PresignedPost, PresignPostRequest, RenderLock } from '../../lambda-src/core/api/ports.js';
import { renderLockAttribute } from '../../lambda-src/core/api/ports.js';
import type { MetadataItem, OutputRecord } from '../../lambda-src/core/metadata.js';
import { ObjectNotFoundError, SourceChangedError, type PutObjectRequest, type SourceObject } from '../../lambda-src/core/process-record.js';

/** A turn of the event loop: every port call yields, so concurrent requests interleave as over a network. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * S3 and DynamoDB in memory, with the conditions the AWS ports put on each write (a conditional update here is
 * atomic, as in DynamoDB: the check and the write happen in one turn).
 */
export class MemoryApiPorts implements ApiPorts {
  readonly objects = new Map<string, { body: Buffer; eTag: string; contentType?: string }>();
  readonly items = new Map<string, Record<string, unknown>>();
  readonly puts: PutObjectRequest[] = [];
  readonly posts: PresignPostRequest[] = [];
  sourceReads = 0;

  put(bucket: string, key: string, body: Buffer): string {
    const eTag = createHash('md5').update(body).digest('hex');
    this.objects.set(`${bucket}/${key}`, { body, eTag });
    return eTag;
  }

  async getObject(bucket: string, key: string, options: { ifMatch?: string | undefined }): Promise<SourceObject> {
    await tick();
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) throw new ObjectNotFoundError();
    if (options.ifMatch !== undefined && options.ifMatch !== object.eTag) throw new SourceChangedError();
    this.sourceReads += 1;
    return { contentLength: object.body.length, eTag: object.eTag, lastModified: new Date(), read: () => Promise.resolve(object.body), discard: () => undefined };
  }

  async putObject(request: PutObjectRequest): Promise<void> {
    await tick();
    this.puts.push(request);
    this.objects.set(`${request.bucket}/${request.key}`, { body: request.body, eTag: createHash('md5').update(request.body).digest('hex'), contentType: request.contentType });
  }

  async presignPost(request: PresignPostRequest): Promise<PresignedPost> {
    await tick();
    this.posts.push(request);
    return { url: `https://s3.test/${request.bucket}`, fields: { key: request.key, 'Content-Type': request.contentType, Policy: 'policy' } };
  }

  async presignGet(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    await tick();
    return `https://s3.test/${bucket}/${key}?X-Amz-Expires=${expiresInSeconds}`;
  }

  async getItem(imageId: string): Promise<MetadataItem | undefined> {
    await tick();
    const item = this.items.get(imageId);
    return item === undefined ? undefined : (structuredClone(item) as unknown as MetadataItem);
  }

  async objectExists(bucket: string, key: string): Promise<boolean> {
    await tick();
    return this.objects.has(`${bucket}/${key}`);
  }

  async acquireRenderLock(imageId: string, preset: string, sourceETag: string, lock: RenderLock, now: number): Promise<MetadataItem | undefined> {
    await tick();
    const item = this.items.get(imageId);
    const held = item?.[renderLockAttribute(preset)] as { ExpiresAt: number } | undefined;
    if (item?.Status !== 'SUCCEEDED' || item.SourceETag !== sourceETag || (held !== undefined && held.ExpiresAt >= now)) return undefined;
    item[renderLockAttribute(preset)] = { Token: lock.token, ExpiresAt: lock.expiresAt };
    return structuredClone(item) as unknown as MetadataItem;
  }

  async addRenderedOutput(imageId: string, preset: string, sourceETag: string, token: string, output: OutputRecord): Promise<boolean> {
    await tick();
    const item = this.items.get(imageId);
    const held = item?.[renderLockAttribute(preset)] as { Token: string } | undefined;
    if (!item || held?.Token !== token || item.SourceETag !== sourceETag) return false;
    item.Outputs = [...(item.Outputs as OutputRecord[]), output];
    Reflect.deleteProperty(item, renderLockAttribute(preset));
    return true;
  }

  async releaseRenderLock(imageId: string, preset: string, token: string): Promise<void> {
    await tick();
    const item = this.items.get(imageId);
    const held = item?.[renderLockAttribute(preset)] as { Token: string } | undefined;
    if (item && held?.Token === token) Reflect.deleteProperty(item, renderLockAttribute(preset));
  }
}
