import { InvalidSettingError } from './errors.js';

export { InvalidSettingError } from './errors.js';

/** One output size: a name (used in output keys) and the box the image is fitted into. */
export interface SizeSpec {
  name: string;
  width: number;
  height: number;
}

/** The original design's single size. */
export const DEFAULT_SIZE_SPEC = 'thumbnail=200x200';
/** Every size is another encode per upload; ten is plenty for responsive images and bounds the function's time. */
export const MAX_SIZES = 10;
export const MAX_DIMENSION = 10_000;
const NAME = /^[a-z0-9_-]{1,64}$/;
const ITEM = /^([^=]*)=\s*(\d+)\s*[xX]\s*(\d+)$/;

/**
 * Parses a size spec: comma-separated `name=WxH`, e.g. `thumb=200x200,medium=800x800`. Names are lower-case
 * letters, digits, `_` and `-` (they become part of object keys) and must be unique.
 * @throws InvalidSettingError with a message that quotes the offending part.
 */
export function parseSizeSpec(spec: string): SizeSpec[] {
  const items = spec.split(',').map((item) => item.trim());
  if (items.length === 1 && items[0] === '') {
    throw new InvalidSettingError('The size list is empty; give at least one size such as thumbnail=200x200.');
  }
  if (items.length > MAX_SIZES) {
    throw new InvalidSettingError(`${items.length} sizes given; at most ${MAX_SIZES} are allowed.`);
  }
  const sizes: SizeSpec[] = [];
  for (const item of items) {
    const match = ITEM.exec(item);
    if (!match) {
      throw new InvalidSettingError(`"${item}" is not a size; write name=WIDTHxHEIGHT, e.g. thumbnail=200x200.`);
    }
    const name = (match[1] ?? '').trim();
    if (!NAME.test(name)) {
      throw new InvalidSettingError(
        `Size name "${name}" is not allowed; use 1-64 lower-case letters, digits, "_" or "-" (it becomes part of the output key).`,
      );
    }
    if (sizes.some((size) => size.name === name)) {
      throw new InvalidSettingError(`Size name "${name}" appears twice; each size needs its own name.`);
    }
    const width = Number(match[2]);
    const height = Number(match[3]);
    for (const [label, value] of [['width', width], ['height', height]] as const) {
      if (value < 1 || value > MAX_DIMENSION) {
        throw new InvalidSettingError(`Size "${name}" has ${label} ${value}; it must be between 1 and ${MAX_DIMENSION} pixels.`);
      }
    }
    sizes.push({ name, width, height });
  }
  return sizes;
}

/** The canonical spec text of a list of sizes (what parseSizeSpec reads back). */
export function formatSizeSpec(sizes: readonly SizeSpec[]): string {
  return sizes.map((size) => `${size.name}=${size.width}x${size.height}`).join(',');
}
