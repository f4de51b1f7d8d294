import type { S3ObjectRecord } from './event.js';
import { imageIdFor } from './image-id.js';
import { outputKeyFor } from './keys.js';
import { deletedItem, type MetadataItem } from './metadata.js';
import { NewerItemError, processRecord, skipReason, sourceIsGone, type RecordPorts, type RecordResult } from './process-record.js';
import { storedSequencer } from './sequencer.js';
import type { FunctionSettings } from './settings.js';

/**
 * The output keys a source may have: each size's key with the source's own extension (an output in the
 * source's format) and with the output format's (a converted one). Used when no SUCCEEDED item lists them.
 */
export function candidateOutputKeys(sourceKey: string, settings: Pick<FunctionSettings, 'sizes' | 'format'>): string[] {
  const keys = new Set<string>();
  for (const size of settings.sizes) {
    keys.add(outputKeyFor(sourceKey, size, settings.sizes.length, 'same', 'same'));
    if (settings.format !== 'original') keys.add(outputKeyFor(sourceKey, size, settings.sizes.length, settings.format, 'unknown'));
  }
  return [...keys];
}

function outputsOf(previous: MetadataItem | undefined, sourceKey: string, settings: Pick<FunctionSettings, 'sizes' | 'format'>): string[] {
  if (previous?.Status === 'SUCCEEDED') return previous.Outputs.map((output) => output.Key);
  // No item lists them (none yet, a FAILED one, or a crash between the outputs and the item): the keys the
  // current settings would have written.
  return candidateOutputKeys(sourceKey, settings);
}

/**
 * Processes an ObjectRemoved record: marks the item DELETED (the ordering rule of every item write applies, so
 * a removal older than the recorded upload changes nothing), then removes the outputs. The item is marked
 * rather than deleted so that it keeps the removal's sequencer: a late event of the upload before the removal
 * is then refused instead of resurrecting the image. If the key exists again once the outputs are gone, it was
 * re-uploaded meanwhile (its event may be processed already): it is processed now, so a delete followed by a
 * re-upload always ends with the new image, whatever order the work finishes in.
 */
export async function removeRecord(
  record: S3ObjectRecord,
  settings: FunctionSettings,
  ports: RecordPorts,
  clock: () => number = Date.now,
): Promise<RecordResult> {
  const startedAt = clock();
  const base = { bucket: record.bucket, key: record.key };
  const elapsed = (): number => Math.max(0, Math.round(clock() - startedAt));
  // The bucket and key checks of a creation apply as they are (the loop guard, folder markers).
  const skip = skipReason({ ...record, eventName: undefined }, settings);
  if (skip !== undefined) return { ...base, status: 'SKIPPED', imageId: undefined, reason: skip, durationMs: elapsed() };
  const imageId = imageIdFor(record.bucket, record.key);
  if (settings.keepOnDelete) {
    return { ...base, status: 'SKIPPED', imageId, reason: 'removals are ignored (KEEP_ON_DELETE=true)', durationMs: elapsed() };
  }
  if (!ports.markDeleted || !ports.deleteObjects) throw new Error('The function was built without the ports removals need.');

  const item = deletedItem(
    {
      imageId,
      bucket: record.bucket,
      key: record.key,
      destBucket: settings.destBucket,
      sequencer: record.sequencer === undefined ? undefined : storedSequencer(record.sequencer),
    },
    { startedAt, finishedAt: clock() },
  );
  let previous: MetadataItem | undefined;
  try {
    previous = await ports.markDeleted(item);
  } catch (error) {
    if (error instanceof NewerItemError) {
      return { ...base, status: 'SKIPPED', imageId, reason: `superseded: ${error.message}`, durationMs: elapsed() };
    }
    throw error;
  }
  const outputs = outputsOf(previous, record.key, settings);
  await ports.deleteObjects(settings.destBucket, outputs);
  if (!(await sourceIsGone(record, ports))) {
    const reprocessed = await processRecord({ ...record, eventName: 'ObjectCreated:Put', eTag: undefined }, settings, ports, clock, true);
    if (reprocessed.status !== 'SKIPPED') return reprocessed;
  }
  return { ...base, status: 'DELETED', imageId, outputs, durationMs: elapsed(), item };
}
