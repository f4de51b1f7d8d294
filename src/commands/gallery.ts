import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import type { GalleryOptions, GalleryResult } from '../operations/gallery.js';
import { action, parseChoice, parsePositiveInt } from './shared.js';

const GALLERY_STATUSES = ['SUCCEEDED', 'FAILED'] as const;

export async function executeGallery(context: AppContext, options: GalleryOptions = {}): Promise<GalleryResult> {
  const { runGallery } = await import('../operations/gallery.js');
  return runGallery(context, options);
}

export function galleryCommand(): Command {
  return new Command('gallery')
    .description('write one self-contained HTML page of the latest images (thumbnails, sizes, failures with their error)')
    .option('--out <file>', 'where to write the page (default img-resizer-gallery.html)')
    .addOption(new Option('--limit <n>', 'at most N images, newest first (default 50)').argParser(parsePositiveInt('--limit', 10_000)))
    .addOption(new Option('--status <status>', 'only SUCCEEDED or FAILED images').argParser(parseChoice('--status', GALLERY_STATUSES)))
    .addOption(new Option('--expires <seconds>', 'lifetime of presigned image links without a CDN (default 86400)').argParser(parsePositiveInt('--expires', 604_800)))
    .action(
      action(async (context: AppContext, flags: { out?: string; limit?: number; status?: (typeof GALLERY_STATUSES)[number]; expires?: number }) => {
        const result = await executeGallery(context, { out: flags.out, limit: flags.limit, status: flags.status, expires: flags.expires });
        return result.exitCode;
      }),
    );
}
