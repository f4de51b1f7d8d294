import { randomUUID } from 'node:crypto';
import { ImageError } from '../errors.js';
import { imageIdFor } from '../image-id.js';
import { processImage, type ProcessedImage, type ProcessOptions } from '../image.js';
import { outputKeyFor } from '../keys.js';
import { outputUrl as cdnOutputUrl, type MetadataItem, type OutputRecord } from '../metadata.js';
import { ObjectNotFoundError, SourceChangedError } from '../process-record.js';
import { ApiError, notFound } from './errors.js';
import { encodeKeyPath, looksLikePreset, pathSegments } from './paths.js';
import { renderLockAttribute, withoutLocks, type ApiPorts } from './ports.js';
import type { Preset } from './presets.js';
import { RENDER_LOCK_MS, type ApiSettings } from './settings.js';
import { uploadKey, validateUpload } from './upload.js';

/** One request, as the router sees it: no API Gateway types, so the core stays testable in memory. */
export interface ApiRequest {
  method: string;
  /** The raw path (percent-encoded as sent), without the stage. */
  rawPath: string;
  body: string | undefined;
  /** The API's base URL (scheme, host, stage), to build status URLs. */
  baseUrl: string;
}

/**
 * A response. The body is JSON text (or empty): no route returns image bytes, so no response comes near
 * Lambda's 6 MB limit; images are always reached through a redirect or a URL in the JSON.
 */
export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export interface RouterDependencies {
  ports: ApiPorts;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The image core (replaced in tests to count or slow down renders). */
  render?: (input: Buffer, options: ProcessOptions) => Promise<ProcessedImage>;
  newToken?: () => string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const POLL_MS = 250;

export function jsonResponse(statusCode: number, document: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(document) };
}

/** `{error:{code,message}}`; messages of ApiErrors only, never a stack. */
export function errorResponse(error: ApiError): ApiResponse {
  return jsonResponse(error.statusCode, { error: { code: error.code, message: error.message, ...error.details } }, { ...error.headers });
}

/**
 * Routes one request. ApiErrors become their JSON error; any other error propagates (the handler logs it and
 * answers a bare 500).
 */
export async function routeApiRequest(request: ApiRequest, settings: ApiSettings, deps: RouterDependencies): Promise<ApiResponse> {
  try {
    return await dispatch(request, settings, deps);
  } catch (error) {
    if (error instanceof ApiError) return errorResponse(error);
    throw error;
  }
}

async function dispatch(request: ApiRequest, settings: ApiSettings, deps: RouterDependencies): Promise<ApiResponse> {
  const segments = pathSegments(request.rawPath);
  const method = request.method.toUpperCase();
  if (segments.length === 1 && segments[0] === 'uploads') {
    if (method !== 'POST') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Use POST /uploads.', { headers: { allow: 'POST' } });
    return createUpload(request, settings, deps.ports);
  }
  if (segments[0] === 'images' && segments.length >= 2) {
    if (method !== 'GET') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Use GET on /images/....', { headers: { allow: 'GET' } });
    const rest = segments.slice(1);
    const last = rest[rest.length - 1] ?? '';
    if (rest.length >= 2 && looksLikePreset(last)) return getPreset(rest.slice(0, -1).join('/'), last, settings, deps);
    return getImage(rest.join('/'), settings, deps.ports);
  }
  throw notFound('NO_ROUTE', 'No such route; the API has POST /uploads, GET /images/{key} and GET /images/{key}/{preset}.');
}

async function createUpload(request: ApiRequest, settings: ApiSettings, ports: ApiPorts): Promise<ApiResponse> {
  const upload = validateUpload(request.body, settings);
  const key = uploadKey(upload, randomUUID());
  const post = await ports.presignPost({
    bucket: settings.sourceBucket,
    key,
    contentType: upload.contentType,
    maxBytes: upload.bytes,
    expiresInSeconds: settings.uploadExpirySeconds,
  });
  return jsonResponse(201, {
    imageId: imageIdFor(settings.sourceBucket, key),
    bucket: settings.sourceBucket,
    key,
    upload: { method: 'POST', url: post.url, fields: post.fields, maxBytes: upload.bytes, expiresInSeconds: settings.uploadExpirySeconds },
    statusUrl: `${request.baseUrl}/images/${encodeKeyPath(key)}`,
  });
}

async function outputUrl(key: string, settings: ApiSettings, ports: ApiPorts): Promise<string> {
  if (settings.cdnBaseUrl !== undefined) return cdnOutputUrl(settings.cdnBaseUrl, key);
  return ports.presignGet(settings.function.destBucket, key, settings.readExpirySeconds);
}

/** Redirects to an output. Presigned URLs expire, so only a CDN URL may be cached by the client. */
async function redirect(key: string, settings: ApiSettings, ports: ApiPorts): Promise<ApiResponse> {
  const cache = settings.cdnBaseUrl === undefined ? 'no-store' : 'public, max-age=300';
  return { statusCode: 302, headers: { location: await outputUrl(key, settings, ports), 'cache-control': cache }, body: '' };
}

async function getImage(key: string, settings: ApiSettings, ports: ApiPorts): Promise<ApiResponse> {
  const imageId = imageIdFor(settings.sourceBucket, key);
  const item = await ports.getItem(imageId);
  if (item === undefined) {
    // The upload landed but the function has not recorded it yet: S3 knows the object, the table not.
    if (await ports.objectExists(settings.sourceBucket, key)) {
      return jsonResponse(200, { ImageID: imageId, OriginalFile: key, SourceBucket: settings.sourceBucket, Status: 'PENDING', Outputs: [] }, { 'retry-after': '1' });
    }
    throw notFound('NOT_FOUND', `No image ${key}: nothing was uploaded under that key.`);
  }
  const outputs = await Promise.all(item.Outputs.map(async (output) => ({ ...output, Url: await outputUrl(output.Key, settings, ports) })));
  return jsonResponse(200, { ...withoutLocks(item), Outputs: outputs });
}

/** The item of a source that can have outputs, or the error that says why it cannot. */
async function renderableItem(key: string, imageId: string, settings: ApiSettings, ports: ApiPorts): Promise<MetadataItem & { SourceETag: string }> {
  const item = await ports.getItem(imageId);
  if (item === undefined) {
    if (await ports.objectExists(settings.sourceBucket, key)) {
      throw new ApiError(409, 'PENDING', `${key} is still being processed; ask again shortly.`, { headers: { 'retry-after': '1' } });
    }
    throw notFound('NOT_FOUND', `No image ${key}: nothing was uploaded under that key.`);
  }
  if (item.Status === 'DELETED') throw notFound('NOT_FOUND', `${key} was deleted.`);
  if (item.Status === 'FAILED') {
    throw new ApiError(422, item.ErrorCode ?? 'FAILED', `${key} could not be processed: ${item.ErrorMessage ?? 'no reason recorded'}.`);
  }
  if (item.SourceETag === undefined) throw new ApiError(409, 'NOT_RENDERABLE', `${key} has no recorded source version; process it again (backfill) first.`);
  return item as MetadataItem & { SourceETag: string };
}

const outputOf = (item: MetadataItem, preset: string): OutputRecord | undefined => item.Outputs.find((output) => output.Size === preset);

/**
 * A preset of an image: a redirect to its output, rendered first when missing. A missing output is rendered
 * once: the request that takes the item's render lock renders and records it; concurrent ones wait for the
 * record (then redirect) or, after RENDER_WAIT_MS, answer 503 with Retry-After. The output is recorded with a
 * conditional write that requires the lock and the source version the render read, so a re-upload meanwhile
 * is never described by an output of the previous version.
 */
async function getPreset(key: string, presetName: string, settings: ApiSettings, deps: RouterDependencies): Promise<ApiResponse> {
  const { ports } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const preset = settings.presets.find((candidate) => candidate.name === presetName);
  const allowed = settings.presets.map((candidate) => candidate.name);
  if (preset === undefined) throw notFound('UNKNOWN_PRESET', `No preset "${presetName}"; the allowed ones are ${allowed.join(', ')}.`, { allowed });
  const imageId = imageIdFor(settings.sourceBucket, key);
  let item = await renderableItem(key, imageId, settings, ports);
  const existing = outputOf(item, preset.name);
  if (existing) return redirect(existing.Key, settings, ports);

  const token = deps.newToken?.() ?? randomUUID();
  const locked = await ports.acquireRenderLock(imageId, preset.name, item.SourceETag, { token, expiresAt: now() + RENDER_LOCK_MS }, now());
  if (locked === undefined) return awaitRender(key, imageId, preset.name, settings, ports, now, sleep);
  // The lock may have been taken just after another request finished the same render.
  const done = outputOf(locked, preset.name);
  if (done) {
    await ports.releaseRenderLock(imageId, preset.name, token);
    return redirect(done.Key, settings, ports);
  }
  item = { ...locked, SourceETag: item.SourceETag };
  let output: OutputRecord;
  try {
    output = await renderPreset(key, item, preset, settings, deps);
  } catch (error) {
    await ports.releaseRenderLock(imageId, preset.name, token).catch(() => undefined);
    throw error;
  }
  if (!(await ports.addRenderedOutput(imageId, preset.name, item.SourceETag, token, output))) {
    // The source was uploaded again (or the lock expired and was taken over) while this render ran.
    const now_ = await ports.getItem(imageId);
    const recorded = now_ === undefined ? undefined : outputOf(now_, preset.name);
    if (recorded) return redirect(recorded.Key, settings, ports);
    throw new ApiError(409, 'SOURCE_CHANGED', `${key} changed while ${preset.name} was rendered; ask again.`, { headers: { 'retry-after': '1' } });
  }
  return redirect(output.Key, settings, ports);
}

async function renderPreset(key: string, item: MetadataItem & { SourceETag: string }, preset: Preset, settings: ApiSettings, deps: RouterDependencies): Promise<OutputRecord> {
  const fn = settings.function;
  const render = deps.render ?? processImage;
  let source;
  try {
    // Only the version the item describes: a newer upload gets its own processing.
    source = await deps.ports.getObject(settings.sourceBucket, key, { ifMatch: item.SourceETag });
  } catch (error) {
    if (error instanceof ObjectNotFoundError) throw notFound('NOT_FOUND', `The source of ${key} no longer exists.`);
    if (error instanceof SourceChangedError) throw new ApiError(409, 'SOURCE_CHANGED', `${key} was uploaded again and is being processed; ask again shortly.`, { headers: { 'retry-after': '1' } });
    throw error;
  }
  if (source.contentLength !== undefined && source.contentLength > fn.maxBytes) {
    source.discard();
    throw new ApiError(422, 'TOO_LARGE', `The source has ${source.contentLength} bytes; the limit (MAX_BYTES) is ${fn.maxBytes}.`);
  }
  const body = await source.read();
  let processed: ProcessedImage;
  try {
    processed = await render(body, {
      sizes: [preset],
      format: preset.format ?? fn.format,
      fit: fn.fit,
      maxPixels: fn.maxPixels,
      maxBytes: fn.maxBytes,
      allowUpscale: fn.allowUpscale,
      quality: fn.quality,
    });
  } catch (error) {
    if (error instanceof ImageError) throw new ApiError(422, error.code, error.message);
    throw error;
  }
  const [rendered] = processed.outputs;
  if (rendered === undefined) throw new Error('the image core returned no output for one size');
  // Always the several-sizes layout, resized/{preset}/{key}: a preset is never the only size.
  const outputKey = outputKeyFor(key, rendered.size, 2, rendered.format, processed.original.format);
  await deps.ports.putObject({ bucket: fn.destBucket, key: outputKey, body: rendered.body, contentType: rendered.contentType, cacheControl: fn.cacheControl });
  return { Size: preset.name, Key: outputKey, Width: rendered.width, Height: rendered.height, Bytes: rendered.bytes, Format: rendered.format };
}

/** Another request holds the render lock: wait for its output to be recorded. */
async function awaitRender(
  key: string,
  imageId: string,
  preset: string,
  settings: ApiSettings,
  ports: ApiPorts,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
): Promise<ApiResponse> {
  const deadline = now() + settings.renderWaitMs;
  for (;;) {
    const item = await ports.getItem(imageId);
    const output = item === undefined ? undefined : outputOf(item, preset);
    if (output) return redirect(output.Key, settings, ports);
    if (item?.Status !== 'SUCCEEDED') throw notFound('NOT_FOUND', `${key} is no longer available.`);
    // The holder failed and freed its lock (or its lock expired): answer so the client asks again and renders.
    const lock = (item as unknown as Record<string, { ExpiresAt?: number } | undefined>)[renderLockAttribute(preset)];
    if ((lock?.ExpiresAt ?? 0) < now() || now() >= deadline) break;
    await sleep(POLL_MS);
  }
  throw new ApiError(503, 'RENDER_IN_PROGRESS', `${preset} of ${key} is being rendered; ask again shortly.`, { headers: { 'retry-after': '1' } });
}
