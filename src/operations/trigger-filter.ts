import { isOutputKey } from '../../lambda-src/core/keys.js';
import type { StackSettings } from '../config/settings.js';

export type TriggerFilterSettings = Pick<StackSettings, 'prefix' | 'suffix' | 'sourceBucket' | 'destBucket'>;

/**
 * Whether S3 invokes the function for this key: the trigger's prefix and suffix filters, never a "folder"
 * marker, and never the function's own outputs when it writes into the bucket it reads.
 */
export function triggerFires(key: string, settings: TriggerFilterSettings): boolean {
  if (key.endsWith('/')) return false;
  if (settings.prefix && !key.startsWith(settings.prefix)) return false;
  if (settings.suffix && !key.endsWith(settings.suffix)) return false;
  if (settings.sourceBucket === settings.destBucket && isOutputKey(key)) return false;
  return true;
}
