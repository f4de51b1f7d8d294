import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { getItem, scanItemPages, type MetadataStatus } from '../aws/metadata-table.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { METADATA_STATUSES as STATUSES } from '../constants.js';
import { CliError, ExitCode } from '../errors.js';
import { explainMissing, onResource } from './stack-errors.js';

// The statuses are declared in constants.ts for the command's --status; they must be the table's.
const _statusesMatchTheTable = STATUSES satisfies readonly MetadataStatus[];

export interface MetadataListOptions {
  limit?: number | undefined;
  status?: MetadataStatus | undefined;
  /** Items per Scan page (DynamoDB's Limit); by default pages are as large as DynamoDB's 1 MB allows. */
  pageSize?: number | undefined;
}

export interface MetadataListResult {
  exitCode: ExitCode;
  count: number;
  pages: number;
  table: string;
  status: MetadataStatus | undefined;
  /** --limit cut the listing short. */
  limited: boolean;
  limit: number | undefined;
}

/**
 * Pages through the whole table (Scan) and prints as each page arrives: a table for people, or under --json one
 * array of plain items streamed element by element. Memory holds one page, however big the table.
 */
/** Where `metadata list` sends each page as it arrives (a renderer in src/ui). */
export interface MetadataListSink {
  /** One page's items (after --limit); resolves once the reader has room for more. */
  page(items: readonly MetadataItem[]): Promise<void>;
  /** The scan failed after `count` items were handed over. */
  failed(count: number): void;
}

/**
 * Pages through the whole table (Scan), handing each page to `sink` as it arrives. Memory holds one page,
 * however big the table.
 */
export async function runMetadataList(context: AppContext, options: MetadataListOptions, sink: MetadataListSink): Promise<MetadataListResult> {
  const settings = await loadStackSettings(context.settingsFile);
  const clients = await context.clients();
  const limit = options.limit;
  // Without a filter, Limit caps what a page returns, so a small --limit reads no more than it prints.
  const pageSize = options.pageSize ?? (limit !== undefined && options.status === undefined ? Math.min(limit, 1000) : undefined);
  let count = 0;
  let pages = 0;
  try {
    for await (const page of scanItemPages(clients.documents, settings.table, { status: options.status, pageSize })) {
      pages++;
      const batch = limit === undefined ? page : page.slice(0, limit - count);
      count += batch.length;
      // Read the next page only once the reader has taken this one: memory stays at about a page.
      await sink.page(batch);
      if (limit !== undefined && count >= limit) break;
    }
  } catch (error) {
    sink.failed(count);
    throw explainMissing(error, { kind: 'table', name: settings.table });
  }
  return { exitCode: ExitCode.Ok, count, pages, table: settings.table, status: options.status, limited: limit !== undefined && count >= limit, limit };
}

/** "photos/cat.jpg", or "s3://bucket/photos/cat.jpg" naming the source bucket explicitly. */
export function parseSourceKey(input: string, sourceBucket: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(input);
  if (match) return { bucket: match[1] ?? sourceBucket, key: match[2] ?? '' };
  return { bucket: sourceBucket, key: input };
}

/** The item of one source object, found through the same ImageID derivation the function uses. */
export async function runMetadataGet(context: AppContext, sourceKey: string): Promise<{ exitCode: ExitCode; item: MetadataItem }> {
  const settings = await loadStackSettings(context.settingsFile);
  const { bucket, key } = parseSourceKey(sourceKey, settings.sourceBucket);
  const imageId = imageIdFor(bucket, key);
  const clients = await context.clients();
  const item = await onResource({ kind: 'table', name: settings.table }, () => getItem(clients.documents, settings.table, imageId));
  if (!item) {
    throw new CliError('NOT_FOUND', `No metadata item for s3://${bucket}/${key} in table ${settings.table}.`, {
      suggestion: 'Check the key with `img-resizer metadata list`; an object that was never processed can be with `img-resizer backfill`.',
    });
  }
  return { exitCode: ExitCode.Ok, item };
}
