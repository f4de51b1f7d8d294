import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { scanItemPages, type MetadataStatus } from '../aws/metadata-table.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import { renderGalleryPage } from '../ui/gallery-page.js';
import { checkExpires, outputAddresses } from './delivery.js';

export const DEFAULT_GALLERY_FILE = 'img-resizer-gallery.html';
export const DEFAULT_GALLERY_LIMIT = 50;
/** A day: long enough to look at the page, short enough not to hand out lasting links. */
export const DEFAULT_GALLERY_EXPIRES = 86_400;

export interface GalleryOptions {
  out?: string | undefined;
  limit?: number | undefined;
  status?: Exclude<MetadataStatus, 'DELETED'> | undefined;
  expires?: number | undefined;
}

export interface GalleryResult {
  exitCode: ExitCode;
  file: string;
  images: number;
  expiresAt: string | null;
}

/** Newest first by ProcessedAt; only the latest `limit` are kept while scanning, so memory stays small. */
export function latest(items: Iterable<MetadataItem>, limit: number): MetadataItem[] {
  return [...items].filter((i) => i.Status !== 'DELETED').sort((a, b) => b.ProcessedAt.localeCompare(a.ProcessedAt)).slice(0, limit);
}

export async function runGallery(context: AppContext, options: GalleryOptions = {}): Promise<GalleryResult> {
  const settings = await loadStackSettings(context.settingsFile);
  const limit = options.limit ?? DEFAULT_GALLERY_LIMIT;
  const expires = options.expires ?? DEFAULT_GALLERY_EXPIRES;
  checkExpires(expires);
  const clients = await context.clients();
  let kept: MetadataItem[] = [];
  for await (const page of scanItemPages(clients.documents, settings.table, options.status === undefined ? {} : { status: options.status })) {
    kept = latest([...kept, ...page], limit);
  }
  const now = new Date();
  const entries = await Promise.all(kept.map(async (item) => ({ item, addresses: await outputAddresses(clients.s3, item, expires, now) })));
  const expiresAt = entries.flatMap((e) => e.addresses).find((a) => a.expiresAt)?.expiresAt;
  const html = renderGalleryPage({ stackName: settings.stackName, generatedAt: now, entries, expiresAt, filter: options.status });
  const file = path.resolve(context.cwd, options.out ?? DEFAULT_GALLERY_FILE);
  await writeFile(file, html, 'utf8');
  const result: GalleryResult = { exitCode: ExitCode.Ok, file, images: entries.length, expiresAt: expiresAt?.toISOString() ?? null };
  return result;
}
