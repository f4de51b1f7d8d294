const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/**
 * The one byte formatter. Convention: binary multiples (1 KB = 1024 bytes, 1 MB = 2^20), written KB/MB/GB as
 * Lambda states its size limits and the AWS consoles show sizes, to three significant digits:
 * 999 → "999 B", 153600 → "150 KB", 5 MiB → "5.00 MB", 1234567 → "1.18 MB". Unknown sizes print "-".
 */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '-';
  if (Math.abs(bytes) < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const decimals = Math.abs(value) < 10 ? 2 : Math.abs(value) < 100 ? 1 : 0;
  return `${value.toFixed(decimals)} ${UNITS[unit] ?? ''}`;
}
