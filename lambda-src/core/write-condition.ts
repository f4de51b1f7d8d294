import type { MetadataItem } from './metadata.js';

/** A DynamoDB condition on replacing an item, ready for PutItem (document client values). */
export interface ItemWriteCondition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  /** Absent when the expression has no values (DynamoDB rejects an empty map). */
  ExpressionAttributeValues?: Record<string, string>;
}

/**
 * When a write of `item` may replace the stored item of the same source, so that the outcome does not depend on
 * the order events arrive or finish in:
 * - With a sequencer (every S3 event, and a redrive of one): the stored item must have no `Sequencer` (written
 *   before sequencers were stored, or from an event without one) or one not greater. Equal passes: a retry or a
 *   duplicate of the same event rewrites its own item.
 * - Without one (the backfill's synthesized events): order by the source's Last-Modified. It replaces an item
 *   that is strictly older, or from the same second when that item has no sequencer or describes the same
 *   object (same ETag); a same-second tie with an item an S3 event ordered goes to that item, since only the
 *   sequencer can tell which upload came last. Without a Last-Modified either (the object could not be read),
 *   it replaces only items no event ordered.
 */
export function itemWriteCondition(item: Pick<MetadataItem, 'Sequencer' | 'SourceLastModified' | 'SourceETag'>): ItemWriteCondition {
  if (item.Sequencer !== undefined) {
    return {
      ConditionExpression: 'attribute_not_exists(#sequencer) OR #sequencer <= :sequencer',
      ExpressionAttributeNames: { '#sequencer': 'Sequencer' },
      ExpressionAttributeValues: { ':sequencer': item.Sequencer },
    };
  }
  if (item.SourceLastModified === undefined) {
    return {
      ConditionExpression: 'attribute_not_exists(#sequencer)',
      ExpressionAttributeNames: { '#sequencer': 'Sequencer' },
    };
  }
  const sameObject = item.SourceETag === undefined ? '' : ' OR #eTag = :eTag';
  return {
    ConditionExpression: `attribute_not_exists(#lastModified) OR #lastModified < :lastModified OR (#lastModified = :lastModified AND (attribute_not_exists(#sequencer)${sameObject}))`,
    ExpressionAttributeNames: {
      '#sequencer': 'Sequencer',
      '#lastModified': 'SourceLastModified',
      ...(item.SourceETag === undefined ? {} : { '#eTag': 'SourceETag' }),
    },
    ExpressionAttributeValues: {
      ':lastModified': item.SourceLastModified,
      ...(item.SourceETag === undefined ? {} : { ':eTag': item.SourceETag }),
    },
  };
}
