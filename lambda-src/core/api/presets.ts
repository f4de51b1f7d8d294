import { InvalidSettingError } from '../errors.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../settings.js';
import { MAX_DIMENSION, type SizeSpec } from '../sizes.js';

/** A size the API renders on demand: a size, and the format when it is not the function's. */
export interface Preset extends SizeSpec {
  format?: OutputFormat;
}

/** Presets are an allowlist: every one may cost a render and an object per source, so their number is bounded. */
export const MAX_PRESETS = 20;
const NAME = /^[a-z0-9_-]{1,64}$/;
const ITEM = /^([^=]*)=\s*(\d+)\s*[xX]\s*(\d+)\s*(?::\s*([A-Za-z]+))?$/;

/**
 * Parses PRESETS: comma-separated `name=WxH[:format]`, e.g. `card=600x400:webp,hero=1600x900`. The function's
 * sizes are presets too (in the function's format); a preset may not reuse a size's name, since its output key
 * would then be the size's.
 * @throws InvalidSettingError quoting the offending part.
 */
export function parsePresets(spec: string | undefined, sizes: readonly SizeSpec[], variable = 'PRESETS'): Preset[] {
  const presets: Preset[] = sizes.map((size) => ({ name: size.name, width: size.width, height: size.height }));
  const items = (spec ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length + presets.length > MAX_PRESETS) {
    throw new InvalidSettingError(`${items.length} presets and ${presets.length} sizes given; at most ${MAX_PRESETS} in all.`, variable);
  }
  for (const item of items) {
    const match = ITEM.exec(item);
    if (!match) throw new InvalidSettingError(`"${item}" is not a preset; write name=WIDTHxHEIGHT[:format], e.g. card=600x400:webp.`, variable);
    const name = (match[1] ?? '').trim();
    if (!NAME.test(name)) {
      throw new InvalidSettingError(`Preset name "${name}" is not allowed; use 1-64 lower-case letters, digits, "_" or "-".`, variable);
    }
    if (presets.some((preset) => preset.name === name)) {
      throw new InvalidSettingError(`Preset name "${name}" is taken (by a size or another preset); each needs its own name.`, variable);
    }
    const width = Number(match[2]);
    const height = Number(match[3]);
    if (width < 1 || height < 1 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
      throw new InvalidSettingError(`Preset "${name}" is ${width}x${height}; each side must be between 1 and ${MAX_DIMENSION} pixels.`, variable);
    }
    const formatText = match[4]?.toLowerCase();
    const format = formatText === 'jpg' ? 'jpeg' : formatText;
    if (format !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(format)) {
      throw new InvalidSettingError(`Preset "${name}" has format "${formatText}"; use one of ${OUTPUT_FORMATS.join(', ')}.`, variable);
    }
    presets.push({ name, width, height, ...(format === undefined ? {} : { format: format as OutputFormat }) });
  }
  return presets;
}

