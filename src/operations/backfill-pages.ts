import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { batchGetItems } from '../aws/metadata-table.js';
import type { ListedObject } from '../aws/objects.js';
import type { StackSettings } from '../config/settings.js';
import { onResource } from './stack-errors.js';
import { triggerFires, type TriggerFilterSettings } from './trigger-filter.js';

/** One listed page, sorted out: the objects the trigger would process, and their items in the table (by ImageID). */
export interface BackfillPage<T> {
  candidates: ListedObject[];
  known: Map<string, T>;
}

export interface BackfillPagesOptions {
  documents: DynamoDBDocumentClient;
  settings: TriggerFilterSettings & Pick<StackSettings, 'table'>;
  /** The item attributes to read for each candidate. */
  attributes: readonly string[];
  /** Checked as each page arrives: once true, no further page is sorted out or yielded (the listing is closed). */
  stopped: () => boolean;
  /** Counted per page: every listed object, and those the trigger would never process. */
  counts: { listed: number; excluded: number };
}

/**
 * Backfill's listing loop, shared by `--via direct` and `--via queue`: for each page of the source bucket's
 * listing, keeps the keys the trigger fires for (counting the rest as excluded) and reads their items from the
 * table in batches of 100 (their previous ProcessedAt also tells a fresh item from an old one later).
 */
export async function* backfillPages<T extends Partial<MetadataItem>>(
  pages: AsyncIterable<ListedObject[]>,
  bucket: string,
  options: BackfillPagesOptions,
): AsyncGenerator<BackfillPage<T>> {
  const { settings, counts } = options;
  for await (const page of pages) {
    if (options.stopped()) return;
    counts.listed += page.length;
    const candidates = page.filter((object) => triggerFires(object.key, settings));
    counts.excluded += page.length - candidates.length;
    const known = candidates.length === 0
      ? new Map<string, T>()
      : await onResource({ kind: 'table', name: settings.table }, () =>
        batchGetItems<T>(options.documents, settings.table, candidates.map((o) => imageIdFor(bucket, o.key)), { attributes: options.attributes }),
      );
    yield { candidates, known };
  }
}
