import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import type { OutputAddress } from '../operations/delivery.js';
import type { DuplicatesResult, MetadataGetResult, MetadataListResult, MetadataListSink } from '../operations/metadata.js';
import { formatBytes, formatDimensions, formatFailure, formatOutputLines, formatOutputsBrief, plural } from './format.js';
import { JsonArrayWriter } from './json-array-writer.js';
import type { Output } from './output.js';

/** `metadata get`: the item as JSON, or described line by line with its outputs' URLs; with --html, the markup. */
export function renderMetadataItem(output: Output, result: Pick<MetadataGetResult, 'item' | 'addresses' | 'markup'>): void {
  if (result.markup) {
    if (output.json) output.result(result.markup);
    else output.line(result.markup.html);
    return;
  }
  if (output.json) output.result(result.item);
  else for (const line of [...describeItem(result.item), ...urlLines(result.addresses)]) output.info(line);
}

/** Each output's address, and when presigned ones stop working. */
export function urlLines(addresses: readonly OutputAddress[]): string[] {
  if (addresses.length === 0) return [];
  const width = Math.max(...addresses.map((a) => a.output.Size.length));
  const expiresAt = addresses.find((a) => a.expiresAt)?.expiresAt;
  return [
    expiresAt ? `  URLs        presigned, valid until ${expiresAt.toISOString()} (no CDN)` : '  URLs        through the CDN',
    ...addresses.map((a) => `    ${a.output.Size.padEnd(width)}  ${a.url}`),
  ];
}

export function describeItem(item: MetadataItem): string[] {
  const lines = [
    `s3://${item.SourceBucket}/${item.OriginalFile}`,
    `  Status      ${item.Status}`,
    `  Original    ${formatDimensions(item.OriginalWidth, item.OriginalHeight)} ${item.OriginalFormat ?? ''}, ${formatBytes(item.OriginalBytes)}`,
    `  Processed   ${item.ProcessedAt} in ${item.DurationMs} ms`,
  ];
  if (item.Status === 'FAILED') lines.push(`  Error       ${formatFailure(item)}`);
  if (item.ModerationLabels?.length) lines.push(`  Moderation  ${item.ModerationLabels.map((label) => `${label.Name} ${label.Confidence.toFixed(1)}%`).join(', ')}`);
  if (item.Outputs.length > 0) {
    lines.push(`  Outputs     in s3://${item.Bucket}/`);
    lines.push(...formatOutputLines(item, '    '));
  }
  if (item.Placeholder !== undefined) lines.push(`  Placeholder ${item.Placeholder} (ThumbHash)`);
  if (item.DominantColor !== undefined) lines.push(`  Colour      ${item.DominantColor}`);
  if (item.PerceptualHash !== undefined) lines.push(`  pHash       ${item.PerceptualHash}`);
  if (item.Labels?.length) lines.push(`  Labels      ${item.Labels.map((label) => `${label.Name} ${label.Confidence.toFixed(1)}%`).join(', ')}`);
  if (item.LabelsUnavailable !== undefined) lines.push(`  Labels      unavailable: ${item.LabelsUnavailable}`);
  if (item.Warnings?.length) {
    lines.push('  Warnings');
    for (const warning of item.Warnings) lines.push(`    ${warning}`);
  }
  return lines;
}

/** `metadata duplicates`: each group of near-duplicates, or the report as JSON. */
export function renderDuplicates(output: Output, result: DuplicatesResult): void {
  if (output.json) {
    output.result({
      table: result.table,
      distance: result.distance,
      scanned: result.scanned,
      unhashed: result.unhashed,
      groups: result.groups.map((group) => group.members.map((member) => ({ ...member, source: result.sources[member.imageId] ?? null }))),
    });
    return;
  }
  if (result.groups.length === 0) {
    output.info(`No near-duplicates within ${plural(result.distance, 'bit')} among ${plural(result.scanned - result.unhashed, 'hashed item')} of ${result.table}.`);
  }
  for (const [index, group] of result.groups.entries()) {
    output.info(`Group ${index + 1} (${plural(group.members.length, 'image')})`);
    for (const member of group.members) {
      const distance = member.distance === 0 ? 'first' : `${member.distance} bits`;
      output.info(`  ${member.perceptualHash}  ${distance.padEnd(8)}  ${result.sources[member.imageId] ?? member.imageId}`);
    }
  }
  if (result.unhashed > 0) output.info(`${plural(result.unhashed, 'item')} without a perceptual hash (FAILED, or processed before hashes) left out.`);
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
 * `metadata list`, printed as pages arrive: a table for people, or (json) one array of plain items streamed
 * element by element. `finish` closes it and says how many there were.
 */
export function metadataListRenderer(output: Output, json: boolean): { sink: MetadataListSink; finish: (result: MetadataListResult) => void } {
  const array = json ? new JsonArrayWriter((text) => { output.line(text); }) : undefined;
  const table = json ? undefined : new StreamingTable(LIST_HEADERS, (line) => { output.info(line); });
  return {
    sink: {
      page: async (items) => {
        if (array) for (const item of items) array.write(item);
        else table?.add(items.map(listRow));
        await output.drained();
      },
      // A half-printed array is still closed, so what did arrive parses; before the first item, the error itself
      // becomes the run's JSON document (main() prints it).
      failed: () => { if (array && array.written > 0) array.close(); },
    },
    finish: (result) => {
      array?.close();
      if (!array && result.count === 0) {
        output.info(result.status ? `No ${result.status} items in ${result.table}.` : `No items in ${result.table} yet.`);
      }
      output.note(`${plural(result.count, 'item')} from table ${result.table}${result.limited ? ` (--limit ${result.limit ?? result.count})` : ''}`);
    },
  };
}
