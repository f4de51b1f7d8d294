import type { MetadataItem } from '../../lambda-src/core/metadata.js';

/** 1234 → "1.2 kB", in decimal units as S3's console shows them. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '-';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit] ?? ''}`;
}

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
  const nameWidth = Math.max(0, ...outputs.map((o) => o.Size.length));
  const keyWidth = Math.max(0, ...outputs.map((o) => o.Key.length));
  return outputs.map(
    (o) => `${indent}${o.Size.padEnd(nameWidth)}  ${o.Key.padEnd(keyWidth)}  ${formatDimensions(o.Width, o.Height).padEnd(9)}  ${formatBytes(o.Bytes)}`,
  );
}

/** "CORRUPT_IMAGE: Input buffer has corrupt header" */
export function formatFailure(item: Pick<MetadataItem, 'ErrorCode' | 'ErrorMessage'>): string {
  const code = item.ErrorCode ?? 'FAILED';
  return item.ErrorMessage ? `${code}: ${item.ErrorMessage}` : code;
}

export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}
