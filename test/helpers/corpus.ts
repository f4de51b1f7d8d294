import { readFile } from 'node:fs/promises';
import { ensureCorpus, type CorpusFile } from '../../bench/lib/corpus.js';

/**
 * The corpus of real photographs the bench uses (fetched once by ../shared/corpus/fetch-photos.sh into the
 * cache directory), for tests that need real photos rather than made-up pixels.
 */
export async function corpusFiles(): Promise<CorpusFile[]> {
  const corpus = await ensureCorpus(undefined, () => undefined);
  return corpus.files;
}

export async function readCorpusFile(file: CorpusFile): Promise<Buffer> {
  return readFile(file.path);
}
