/** Pure helpers of the bench: statistics, interleaving order and number formatting. */

/** The median of the values (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? 0) + upper) / 2;
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/**
 * The median of per-round ratios a[i]/b[i]. Pairing the two measurements taken side by side in the same
 * round cancels most of the drift of a shared machine (another process hogging a core for a while).
 */
export function pairedRatio(numerators: readonly number[], denominators: readonly number[]): number {
  const count = Math.min(numerators.length, denominators.length);
  if (count === 0) throw new Error('paired ratio of no rounds');
  const ratios: number[] = [];
  for (let i = 0; i < count; i++) ratios.push((numerators[i] ?? 0) / (denominators[i] ?? 1));
  return median(ratios);
}

/** The items rotated left by `by` places: round r runs the engines in a different order than round r-1. */
export function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const shift = ((by % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** A deterministic pseudo-random generator (mulberry32): the same seed gives the same run order. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The items in an order drawn from `seed` (Fisher-Yates). Unlike a rotation, a shuffle changes which engine
 * runs just before which, so none always inherits the same neighbour's leftovers (a warm heap, a cold cache).
 */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

/** Images per second for `count` images processed in `ms` milliseconds. */
export function ratePerSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : Number.POSITIVE_INFINITY;
}

/** Three significant digits, without exponent notation for the magnitudes a bench prints. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;
}

const KIB = 1024;

export { formatBytes } from '../../src/ui/bytes.js';

/** Peak resident set size given in KiB (what getrusage and process.resourceUsage report on Linux), in MB. */
export function formatRssKib(kib: number): string {
  return `${(kib / KIB).toFixed(0)} MB`;
}
