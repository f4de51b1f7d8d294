/**
 * Addresses of outputs: the CDN URL the function stored in the item, or, without a CDN, a presigned GetObject
 * URL that expires. Plus the markup that uses them (`metadata get --html`) and the `url` command's use case.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { MetadataItem, OutputRecord } from '../../lambda-src/core/metadata.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { getItem } from '../aws/metadata-table.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { parseSourceKey } from './metadata.js';

export const DEFAULT_PRESIGN_SECONDS = 3600;
/** SigV4 presigned URLs live at most 7 days (less with temporary credentials: they end with the session). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface OutputAddress {
  output: OutputRecord;
  url: string;
  /** Presigned URLs only: when they stop working. */
  expiresAt?: Date;
}

export async function outputAddresses(s3: S3Client, item: Pick<MetadataItem, 'Bucket' | 'Outputs'>, expiresSeconds: number, now = new Date()): Promise<OutputAddress[]> {
  return Promise.all(
    item.Outputs.map(async (output): Promise<OutputAddress> => {
      if (output.Url !== undefined) return { output, url: output.Url };
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: item.Bucket, Key: output.Key }), { expiresIn: expiresSeconds });
      return { output, url, expiresAt: new Date(now.getTime() + expiresSeconds * 1000) };
    }),
  );
}

export function checkExpires(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new UsageError(`--expires ${seconds} is out of range.`, `Give 1 to ${MAX_PRESIGN_SECONDS} seconds (7 days, the most a presigned URL lives).`);
  }
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const MIME: Record<string, string> = { png: 'image/png', jpeg: 'image/jpeg', jpg: 'image/jpeg', webp: 'image/webp', avif: 'image/avif', gif: 'image/gif', tiff: 'image/tiff' };
/** Formats a browser may lack go first in a <picture>; the <img> carries the one every browser shows. */
const PREFERENCE = ['avif', 'webp', 'png', 'jpeg', 'jpg', 'gif', 'tiff'];

function srcset(addresses: readonly OutputAddress[]): string {
  return [...addresses].sort((a, b) => a.output.Width - b.output.Width).map((a) => `${a.url} ${a.output.Width}w`).join(', ');
}

/**
 * Markup for one source's outputs: an <img> with srcset/sizes (the widest output as the layout width), or a
 * <picture> with one <source> per extra format when outputs come in several formats.
 */
export function imageMarkup(addresses: readonly OutputAddress[], alt: string): string {
  if (addresses.length === 0) return '';
  const byFormat = new Map<string, OutputAddress[]>();
  for (const address of addresses) {
    const format = address.output.Format.toLowerCase();
    byFormat.set(format, [...(byFormat.get(format) ?? []), address]);
  }
  const formats = [...byFormat.keys()].sort((a, b) => rank(a) - rank(b));
  const fallbackFormat = formats.at(-1) ?? 'png';
  const fallback = byFormat.get(fallbackFormat) ?? [];
  const widest = [...addresses].sort((a, b) => b.output.Width - a.output.Width)[0];
  const smallest = [...fallback].sort((a, b) => a.output.Width - b.output.Width)[0];
  if (!widest || !smallest) return '';
  const sizes = `(max-width: ${widest.output.Width}px) 100vw, ${widest.output.Width}px`;
  const img =
    `<img src="${escapeHtml(smallest.url)}" srcset="${escapeHtml(srcset(fallback))}" sizes="${sizes}" ` +
    `width="${widest.output.Width}" height="${widest.output.Height}" alt="${escapeHtml(alt)}" loading="lazy" decoding="async">`;
  if (formats.length === 1) return img;
  const sources = formats
    .slice(0, -1)
    .map((format) => `  <source type="${MIME[format] ?? `image/${format}`}" srcset="${escapeHtml(srcset(byFormat.get(format) ?? []))}" sizes="${sizes}">`);
  return ['<picture>', ...sources, `  ${img}`, '</picture>'].join('\n');
}

function rank(format: string): number {
  const index = PREFERENCE.indexOf(format);
  return index === -1 ? PREFERENCE.length : index;
}

/** The item of a source key, or a typed NOT_FOUND. */
export async function requireItem(context: AppContext, sourceKey: string): Promise<{ item: MetadataItem; s3: S3Client }> {
  const settings = await loadStackSettings(context.settingsFile);
  const { bucket, key } = parseSourceKey(sourceKey, settings.sourceBucket);
  const clients = await context.clients();
  const item = await getItem(clients.documents, settings.table, imageIdFor(bucket, key));
  if (!item) {
    throw new CliError('NOT_FOUND', `No metadata item for s3://${bucket}/${key} in table ${settings.table}.`, {
      suggestion: 'Check the key with `img-resizer metadata list`.',
    });
  }
  return { item, s3: clients.s3 };
}

export interface UrlOptions {
  size?: string | undefined;
  expires?: number | undefined;
}

export interface UrlResult {
  exitCode: ExitCode;
  url: string;
  size: string;
  key: string;
  /** ISO 8601, presigned URLs only. */
  expiresAt?: string;
}

/** `img-resizer url`: one output's address. */
export async function runUrl(context: AppContext, sourceKey: string, options: UrlOptions = {}): Promise<UrlResult> {
  const expires = options.expires ?? DEFAULT_PRESIGN_SECONDS;
  checkExpires(expires);
  const { item, s3 } = await requireItem(context, sourceKey);
  if (item.Status !== 'SUCCEEDED' || item.Outputs.length === 0) {
    throw new CliError('NO_OUTPUTS', `s3://${item.SourceBucket}/${item.OriginalFile} has no outputs (status ${item.Status}${item.ErrorCode ? `, ${item.ErrorCode}` : ''}).`, {
      suggestion: 'See `img-resizer metadata get` for why.',
    });
  }
  const output = options.size === undefined ? item.Outputs[0] : item.Outputs.find((o) => o.Size === options.size);
  if (!output) {
    throw new UsageError(`No output of size "${options.size ?? ''}".`, `Sizes of this image: ${item.Outputs.map((o) => o.Size).join(', ')}.`);
  }
  const [address] = await outputAddresses(s3, { Bucket: item.Bucket, Outputs: [output] }, expires);
  if (!address) throw new Error('no address for the output');
  const result: UrlResult = { exitCode: ExitCode.Ok, url: address.url, size: output.Size, key: output.Key };
  if (address.expiresAt) result.expiresAt = address.expiresAt.toISOString();
  return result;
}

/** `metadata get --html`: the markup of the item's outputs, and when presigned links in it stop working. */
export interface ItemMarkup {
  html: string;
  /** ISO 8601; null when every link goes through the CDN. */
  expiresAt: string | null;
}

export async function itemMarkup(s3: S3Client, item: MetadataItem, expiresSeconds = DEFAULT_PRESIGN_SECONDS): Promise<ItemMarkup> {
  checkExpires(expiresSeconds);
  if (item.Outputs.length === 0) {
    throw new CliError('NO_OUTPUTS', `s3://${item.SourceBucket}/${item.OriginalFile} has no outputs (status ${item.Status}).`);
  }
  const addresses = await outputAddresses(s3, item, expiresSeconds);
  const html = imageMarkup(addresses, item.OriginalFile.split('/').at(-1) ?? item.OriginalFile);
  return { html, expiresAt: addresses.find((a) => a.expiresAt)?.expiresAt?.toISOString() ?? null };
}
