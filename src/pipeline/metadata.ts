import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { getItem, scanItemPages, type MetadataStatus } from '../aws/metadata-table.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { formatBytes, formatDimensions, formatFailure, formatOutputLines, formatOutputsBrief, plural } from './format.js';
import { JsonArrayWriter } from './json-array-writer.js';
import { explainMissing, onResource } from './stack-errors.js';

export const METADATA_STATUSES = ['SUCCEEDED', 'FAILED'] as const satisfies readonly MetadataStatus[];

export interface MetadataListOptions {
  limit?: number | undefined;
  status?: MetadataStatus | undefined;
  /** JSON array or table; follows --json unless given (a composing command may want the table). */
  json?: boolean | undefined;
  /** Items per Scan page (DynamoDB's Limit); by default pages are as large as DynamoDB's 1 MB allows. */
  pageSize?: number | undefined;
}

export interface MetadataListResult {
  exitCode: ExitCode;
  count: number;
  pages: number;
}

/** ISO time as "2024-05-01 12:00:00" (UTC), short enough for a table. */
export function formatProcessedAt(iso: string | undefined): string {
  if (!iso) return '-';
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1] ?? ''} ${match[2] ?? ''}` : iso;
}

export const LIST_HEADERS = ['File', 'Status', 'Original', 'Outputs', 'Processed at (UTC)'];

export function listRow(item: MetadataItem): string[] {
  return [
    item.OriginalFile,
    item.Status,
    formatDimensions(item.OriginalWidth, item.OriginalHeight),
    item.Status === 'SUCCEEDED' ? formatOutputsBrief(item) : item.ErrorCode ?? '-',
    formatProcessedAt(item.ProcessedAt),
  ];
}

/**
 * A table printed as rows arrive: the first batch decides the column widths (capped, so one long key cannot
 * push the rest off screen) and later cells are cut to fit, keeping memory flat however long the listing.
 */
export class StreamingTable {
  private widths: number[] | undefined;

  constructor(
    private readonly headers: readonly string[],
    private readonly writeLine: (line: string) => void,
    private readonly maxWidth = 48,
  ) {}

  get started(): boolean {
    return this.widths !== undefined;
  }

  add(rows: readonly (readonly string[])[]): void {
    if (rows.length === 0) return;
    if (!this.widths) {
      this.widths = this.headers.map((h, i) =>
        Math.min(this.maxWidth, Math.max(h.length, ...rows.map((r) => codePoints(r[i] ?? '').length))),
      );
      this.writeLine(this.format(this.headers));
      this.writeLine(this.format(this.widths.map((w) => '-'.repeat(w))));
    }
    for (const row of rows) this.writeLine(this.format(row));
  }

  private format(cells: readonly string[]): string {
    const widths = this.widths ?? [];
    return cells
      .map((cell, i) => fit(cell, widths[i] ?? cell.length, i === cells.length - 1))
      .join('  ')
      .trimEnd();
  }
}

/** Code points, so an accented letter or CJK character counts as one (terminal width is close enough). */
function codePoints(text: string): string[] {
  return Array.from(text);
}

/** Pads or cuts to a width counted in code points (keys may hold any Unicode); the last column runs free. */
function fit(text: string, width: number, last: boolean): string {
  if (last) return text;
  const chars = codePoints(text);
  if (chars.length > width) return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
  return text + ' '.repeat(width - chars.length);
}

/**
 * Pages through the whole table (Scan) and prints as each page arrives: a table for people, or under --json one
 * array of plain items streamed element by element. Memory holds one page, however big the table.
 */
export async function runMetadataList(context: AppContext, options: MetadataListOptions = {}): Promise<MetadataListResult> {
  const { output } = context;
  const settings = await loadStackSettings(context.settingsFile);
  const clients = await context.clients();
  const limit = options.limit;
  // Without a filter, Limit caps what a page returns, so a small --limit reads no more than it prints.
  const pageSize = options.pageSize ?? (limit !== undefined && options.status === undefined ? Math.min(limit, 1000) : undefined);

  const asJson = options.json ?? output.json;
  const json = asJson ? new JsonArrayWriter((text) => { output.line(text); }) : undefined;
  const table = asJson ? undefined : new StreamingTable(LIST_HEADERS, (line) => { output.info(line); });
  let count = 0;
  let pages = 0;
  try {
    for await (const page of scanItemPages(clients.documents, settings.table, { status: options.status, pageSize })) {
      pages++;
      const batch = limit === undefined ? page : page.slice(0, limit - count);
      if (json) for (const item of batch) json.write(item);
      else table?.add(batch.map(listRow));
      count += batch.length;
      if (limit !== undefined && count >= limit) break;
      // Read the next page only once the reader has taken this one: memory stays at about a page.
      await output.drained();
    }
  } catch (error) {
    // A half-printed array is still closed, so what did arrive parses; before the first item, the error itself
    // becomes the run's JSON document (main() prints it).
    if (json && json.written > 0) json.close();
    throw explainMissing(error, { kind: 'table', name: settings.table });
  }
  json?.close();
  if (!json && count === 0) {
    output.info(options.status ? `No ${options.status} items in ${settings.table}.` : `No items in ${settings.table} yet.`);
  }
  output.note(`${plural(count, 'item')} from table ${settings.table}${limit !== undefined && count >= limit ? ` (--limit ${limit})` : ''}`);
  return { exitCode: ExitCode.Ok, count, pages };
}

/** "photos/cat.jpg", or "s3://bucket/photos/cat.jpg" naming the source bucket explicitly. */
export function parseSourceKey(input: string, sourceBucket: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(input);
  if (match) return { bucket: match[1] ?? sourceBucket, key: match[2] ?? '' };
  return { bucket: sourceBucket, key: input };
}

/** The item of one source object, found through the same ImageID derivation the function uses. */
export interface MetadataGetOptions {
  /** Print an <img srcset sizes> (or <picture>) of the outputs instead of the item. */
  html?: boolean | undefined;
  /** Lifetime of presigned URLs (stacks without a CDN), seconds. */
  expires?: number | undefined;
}

export async function runMetadataGet(context: AppContext, sourceKey: string, options: MetadataGetOptions = {}): Promise<{ exitCode: ExitCode; item: MetadataItem }> {
  const { output } = context;
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
  const { printMarkup, urlLines } = await import('../operations/delivery.js');
  if (options.html) {
    await printMarkup(context, clients.s3, item, options.expires);
    return { exitCode: ExitCode.Ok, item };
  }
  if (output.json) output.result(item);
  else for (const line of [...describeItem(item), ...(await urlLines(clients.s3, item, options.expires))]) output.info(line);
  return { exitCode: ExitCode.Ok, item };
}

export function describeItem(item: MetadataItem): string[] {
  const lines = [
    `s3://${item.SourceBucket}/${item.OriginalFile}`,
    `  Status      ${item.Status}`,
    `  Original    ${formatDimensions(item.OriginalWidth, item.OriginalHeight)} ${item.OriginalFormat ?? ''}, ${formatBytes(item.OriginalBytes)}`,
    `  Processed   ${item.ProcessedAt} in ${item.DurationMs} ms`,
  ];
  if (item.Status === 'FAILED') lines.push(`  Error       ${formatFailure(item)}`);
  if (item.Outputs.length > 0) {
    lines.push(`  Outputs     in s3://${item.Bucket}/`);
    lines.push(...formatOutputLines(item, '    '));
  }
  return lines;
}
