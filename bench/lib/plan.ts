/** How much a run measures: the full run (under ten minutes) or --quick (under a minute). */
import { LARGEST_PHOTO, type CorpusFile } from './corpus.js';

export interface Plan {
  quick: boolean;
  /** Timed passes per sharp engine (ours, bare, naive), after one warm-up pass. */
  rounds: number;
  /** Timed passes for the slow engines (Pillow, jimp), interleaved with the first of the sharp rounds. */
  slowRounds: number;
  /** Fresh processes per peak-memory case. */
  memoryRuns: number;
  /** Fresh processes for the cold-import figure. */
  coldRuns: number;
  /** Photographs uploaded per end-to-end run (the smallest of the corpus), and runs; undefined skips the part. */
  e2e: { photos: number; runs: number } | undefined;
}

export function makePlan(options: { quick: boolean; e2e: boolean }): Plan {
  if (options.quick) {
    return {
      quick: true,
      rounds: 3,
      slowRounds: 1,
      memoryRuns: 1,
      coldRuns: 3,
      // A tiny end-to-end run: the local stack starts in seconds once MiniStack is installed.
      e2e: options.e2e ? { photos: 4, runs: 1 } : undefined,
    };
  }
  return { quick: false, rounds: 5, slowRounds: 3, memoryRuns: 3, coldRuns: 7, e2e: options.e2e ? { photos: 18, runs: 3 } : undefined };
}

const JIMP_DECODES = new Set(['.jpg', '.jpeg', '.png', '.gif', '.bmp', '.tif', '.tiff']);

/** Indices of the `count` smallest files (by bytes) among `files`, in corpus order. */
export function smallest(files: readonly CorpusFile[], count: number, accept: (file: CorpusFile) => boolean = () => true): number[] {
  return files
    .map((file, index) => ({ file, index }))
    .filter(({ file }) => accept(file))
    .sort((a, b) => a.file.bytes - b.file.bytes)
    .slice(0, count)
    .map(({ index }) => index)
    .sort((a, b) => a - b);
}

export interface FileSets {
  /** Ours, bare sharp and naive: the whole corpus (quick: the smallest photographs). */
  sharp: number[];
  /** Pillow decodes everything the corpus holds; bounded in --quick. */
  pillow: number[];
  /** jimp decodes no WebP, and takes seconds per large photo: JPEG and PNG up to 2.5 MB. */
  jimp: number[];
  /** Warm-up for the slow engines: a few small files warm their JIT and caches without a full pass. */
  slowWarmup: number[];
  /** Index of the largest photograph, when the corpus has it and the plan times it. */
  largest: number | undefined;
}

export function chooseFiles(files: readonly CorpusFile[], plan: Plan): FileSets {
  const jimpCan = (file: CorpusFile): boolean => JIMP_DECODES.has(file.extension);
  const largestIndex = files.findIndex((f) => f.name === LARGEST_PHOTO);
  if (plan.quick) {
    const sharp = smallest(files, 6);
    return {
      sharp,
      pillow: sharp,
      jimp: smallest(files, 3, jimpCan),
      slowWarmup: smallest(files, 1),
      largest: undefined,
    };
  }
  const all = files.map((_, index) => index);
  return {
    sharp: all,
    pillow: all,
    jimp: smallest(files, files.length, (f) => jimpCan(f) && f.bytes <= 2.5 * 1024 * 1024),
    slowWarmup: smallest(files, 2),
    largest: largestIndex === -1 ? undefined : largestIndex,
  };
}
