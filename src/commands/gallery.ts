import { Command, Option } from 'commander';
import type { AppContext } from '../context.js';
import type { GalleryOptions, GalleryResult } from '../operations/gallery.js';
import { commandAction, optionalChoice, optionalNumber, optionalString, parseChoice, parsePositiveInt } from './shared.js';

const GALLERY_STATUSES = ['SUCCEEDED', 'FAILED'] as const;

/** The command's whole work once its flags are valid: the operation writes the page, then one line says where. */
export async function executeGallery(context: AppContext, options: GalleryOptions = {}): Promise<GalleryResult> {
  const { runGallery } = await import('../operations/gallery.js');
  const result = await runGallery(context, options);
  if (context.output.json) context.output.result(result);
  else {
    const images = `${result.images} image${result.images === 1 ? '' : 's'}`;
    context.output.success(`Wrote ${result.file}: ${images}${result.expiresAt ? `, links valid until ${result.expiresAt}` : ''}.`);
  }
  return result;
}

export function galleryCommand(): Command {
  return new Command('gallery')
    .description('write one self-contained HTML page of the latest images (thumbnails, sizes, failures with their error)')
    .option('--out <file>', 'where to write the page (default img-resizer-gallery.html)')
    .addOption(new Option('--limit <n>', 'at most N images, newest first (default 50)').argParser(parsePositiveInt('--limit', 10_000)))
    .addOption(new Option('--status <status>', 'only SUCCEEDED or FAILED images').argParser(parseChoice('--status', GALLERY_STATUSES)))
    .addOption(new Option('--expires <seconds>', 'lifetime of presigned image links without a CDN (default 86400)').argParser(parsePositiveInt('--expires', 604_800)))
    .action(
      commandAction((context, { options }) =>
        executeGallery(context, {
          out: optionalString(options, 'out'),
          limit: optionalNumber(options, 'limit'),
          status: optionalChoice(options, 'status', GALLERY_STATUSES),
          expires: optionalNumber(options, 'expires'),
        }),
      ),
    );
}
