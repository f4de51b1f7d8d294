import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { batchGetItems, getItem, scanItemPages, type MetadataStatus } from '../aws/metadata-table.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { METADATA_STATUSES as STATUSES } from '../constants.js';
import { CliError, ExitCode } from '../errors.js';
import type { DuplicateReport, HashedItem } from './duplicates.js';
import type { ItemMarkup, OutputAddress } from './delivery.js';
import { explainMissing, onResource } from './stack-errors.js';

// The statuses are declared in constants.ts for the command's --status; they must be the table's.
const _statusesMatchTheTable = STATUSES satisfies readonly MetadataStatus[];

export interface MetadataListOptions {
  limit?: number | undefined;
  status?: MetadataStatus | undefined;
  /** Only items Rekognition labelled so (a label's name or one of its parents, regardless of case). */
  label?: string | undefined;
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
  const pageSize = options.pageSize ?? (limit !== undefined && options.status === undefined && options.label === undefined ? Math.min(limit, 1000) : undefined);
  const label = options.label;
  let count = 0;
  let pages = 0;
  try {
    for await (const page of scanItemPages(clients.documents, settings.table, { status: options.status, pageSize })) {
      pages++;
      // Labels are a list of maps, which a FilterExpression cannot search by name: filtered here, page by page.
      const matching = label === undefined ? page : page.filter((item) => hasLabel(item, label));
      const batch = limit === undefined ? matching : matching.slice(0, limit - count);
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

/** Whether Rekognition gave the item this label, by name or as a parent of one (--label Animal matches a Dog). */
export function hasLabel(item: Pick<MetadataItem, 'Labels'>, label: string): boolean {
  const wanted = label.toLowerCase();
  return (item.Labels ?? []).some((entry) => entry.Name.toLowerCase() === wanted || entry.Parents.some((parent) => parent.toLowerCase() === wanted));
}

export interface MetadataDuplicatesOptions {
  /** Bits two perceptual hashes may differ by and still group (default DEFAULT_DUPLICATE_DISTANCE). */
  distance?: number | undefined;
}

export interface DuplicatesResult extends DuplicateReport {
  exitCode: ExitCode;
  table: string;
  /** s3://bucket/key of each grouped ImageID (read back for the groups' members only). */
  sources: Record<string, string>;
}

/**
 * `metadata duplicates`: streams the table projected to ImageID and PerceptualHash (one page in memory, plus
 * the grouping's ~150 bytes an item) and groups near-duplicates.
 */
export async function runMetadataDuplicates(context: AppContext, options: MetadataDuplicatesOptions): Promise<DuplicatesResult> {
  const settings = await loadStackSettings(context.settingsFile);
  const clients = await context.clients();
  const { findDuplicates } = await import('./duplicates.js');
  async function* hashedItems(): AsyncGenerator<HashedItem> {
    for await (const page of scanItemPages(clients.documents, settings.table, { attributes: ['ImageID', 'PerceptualHash'] })) yield* page;
  }
  try {
    const report = await findDuplicates(hashedItems(), options.distance === undefined ? {} : { distance: options.distance });
    const members = report.groups.flatMap((group) => group.members.map((member) => member.imageId));
    const found = await batchGetItems<Pick<MetadataItem, 'ImageID' | 'SourceBucket' | 'OriginalFile'>>(clients.documents, settings.table, members, {
      attributes: ['ImageID', 'SourceBucket', 'OriginalFile'],
    });
    const sources: Record<string, string> = {};
    for (const [imageId, item] of found) sources[imageId] = `s3://${item.SourceBucket}/${item.OriginalFile}`;
    return { exitCode: ExitCode.Ok, table: settings.table, sources, ...report };
  } catch (error) {
    throw explainMissing(error, { kind: 'table', name: settings.table });
  }
}

/** "photos/cat.jpg", or "s3://bucket/photos/cat.jpg" naming the source bucket explicitly. */
export function parseSourceKey(input: string, sourceBucket: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(input);
  if (match) return { bucket: match[1] ?? sourceBucket, key: match[2] ?? '' };
  return { bucket: sourceBucket, key: input };
}

export interface MetadataGetOptions {
  /** Make the <img srcset sizes> (or <picture>) of the outputs, for `metadata get --html`. */
  html?: boolean | undefined;
  /** Lifetime of presigned URLs (stacks without a CDN), seconds. */
  expires?: number | undefined;
}

export interface MetadataGetResult {
  exitCode: ExitCode;
  item: MetadataItem;
  /** Each output's address (the CDN's, or presigned): for people, not the --json document. */
  addresses: OutputAddress[];
  /** With `html`: the markup of the outputs. */
  markup?: ItemMarkup;
}

/** The item of one source object, found through the same ImageID derivation the function uses. */
export async function runMetadataGet(context: AppContext, sourceKey: string, options: MetadataGetOptions = {}): Promise<MetadataGetResult> {
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
  // Loaded only once there is an item: presigning needs the S3 client, which a failed lookup never does.
  const delivery = await import('./delivery.js');
  if (options.html) return { exitCode: ExitCode.Ok, item, addresses: [], markup: await delivery.itemMarkup(clients.s3, item, options.expires) };
  const expires = options.expires ?? delivery.DEFAULT_PRESIGN_SECONDS;
  delivery.checkExpires(expires);
  const addresses = context.output.json || item.Outputs.length === 0 ? [] : await delivery.outputAddresses(clients.s3, item, expires);
  return { exitCode: ExitCode.Ok, item, addresses };
}
