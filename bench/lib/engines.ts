/** What the parent and the image worker agree on: engine names, sizes, and the worker's configuration. */

/**
 * idle / idle-sharp: a node process doing nothing (without / with sharp loaded), the memory baselines.
 * bare-1: sharp decode and resize to 200x200, the floor. ours-*: the image core. naive-3: one sharp
 * pipeline per size. jimp-1: jimp's decode, cover and PNG encode.
 */
export const ENGINES = ['idle', 'idle-sharp', 'bare-1', 'ours-1', 'ours-1-nodc', 'ours-1600', 'ours-3', 'naive-3', 'jimp-1', 'handler-1'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface ServeConfig {
  files: string[];
  engines: EngineName[];
  /** The bundled image core (exports processImage and parseSizeSpec). */
  core?: string | undefined;
  /** sharp.concurrency (libvips threads per image) to set before anything runs; sharp's default when absent. */
  sharpConcurrency?: number | undefined;
}

export interface PeakConfig {
  file: string;
  engine: EngineName;
  core?: string | undefined;
}

export interface Size {
  name: string;
  width: number;
  height: number;
}

/** The contract's default size, and the three sizes of the image-core issue. */
export const THUMBNAIL: Size = { name: 'thumbnail', width: 200, height: 200 };
export const THREE_SIZES: readonly Size[] = [
  { name: 'small', width: 200, height: 200 },
  { name: 'medium', width: 800, height: 800 },
  { name: 'large', width: 1600, height: 1600 },
];
export const LARGE_ONLY: readonly Size[] = [{ name: 'large', width: 1600, height: 1600 }];

/** The contract's size syntax: name=WxH,... */
export function sizeSpec(sizes: readonly Size[]): string {
  return sizes.map((s) => `${s.name}=${s.width}x${s.height}`).join(',');
}
