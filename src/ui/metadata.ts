import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { formatBytes, formatDimensions, formatFailure, formatOutputLines } from './format.js';
import type { Output } from './output.js';

/** `metadata get`: the item as JSON, or described line by line. */
export function renderMetadataItem(output: Output, item: MetadataItem): void {
  if (output.json) output.result(item);
  else for (const line of describeItem(item)) output.info(line);
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
