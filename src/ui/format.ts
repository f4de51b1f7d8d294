import type { MetadataItem } from '../../lambda-src/core/metadata.js';

import { formatBytes } from './bytes.js';
import stringWidth from 'string-width';
import { padCells } from './table.js';

export { formatBytes };
export { plural } from './plural.js';

export function formatDimensions(width: number | undefined, height: number | undefined): string {
  return width === undefined || height === undefined ? '-' : `${width}x${height}`;
}

/** "thumbnail 200x133, medium 800x533" */
export function formatOutputsBrief(item: Pick<MetadataItem, 'Outputs'>): string {
  const outputs = item.Outputs;
  if (outputs.length === 0) return '-';
  return outputs.map((o) => `${o.Size} ${formatDimensions(o.Width, o.Height)}`).join(', ');
}

/** One line per output: size name, key, dimensions, bytes. */
export function formatOutputLines(item: Pick<MetadataItem, 'Outputs'>, indent = '    '): string[] {
  const outputs = item.Outputs;
  const nameWidth = Math.max(0, ...outputs.map((o) => stringWidth(o.Size)));
  const keyWidth = Math.max(0, ...outputs.map((o) => stringWidth(o.Key)));
  return outputs.map(
    (o) => `${indent}${padCells(o.Size, nameWidth)}  ${padCells(o.Key, keyWidth)}  ${formatDimensions(o.Width, o.Height).padEnd(9)}  ${formatBytes(o.Bytes)}`,
  );
}

/** "CORRUPT_IMAGE: Input buffer has corrupt header" */
export function formatFailure(item: Pick<MetadataItem, 'ErrorCode' | 'ErrorMessage'>): string {
  const code = item.ErrorCode ?? 'FAILED';
  return item.ErrorMessage ? `${code}: ${item.ErrorMessage}` : code;
}

