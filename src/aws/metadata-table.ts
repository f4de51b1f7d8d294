import { setTimeout as delay } from 'node:timers/promises';
import { BatchGetCommand, GetCommand, paginateScan, type DynamoDBDocumentClient, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { CliError } from '../errors.js';

/** BatchGetItem takes at most 100 keys per request. */
export const BATCH_GET_LIMIT = 100;

export type MetadataStatus = MetadataItem['Status'];

export interface BatchGetOptions {
  /** Attributes to read; all when absent. */
  attributes?: readonly string[];
  /** Waits between retries of unprocessed keys (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Retries of UnprocessedKeys before giving up. */
  maxRounds?: number;
}

/**
 * Reads many items by ImageID in batches of 100, strongly consistent, retrying UnprocessedKeys (DynamoDB returns
 * them when a batch exceeds its throughput or response size) with backoff. Missing items are simply absent.
 */
export async function batchGetItems<T extends Partial<MetadataItem> = MetadataItem>(
  documents: DynamoDBDocumentClient,
  table: string,
  imageIds: Iterable<string>,
  options: BatchGetOptions = {},
): Promise<Map<string, T>> {
  const sleep = options.sleep ?? delay;
  const maxRounds = options.maxRounds ?? 8;
  const unique = [...new Set(imageIds)];
  const found = new Map<string, T>();
  const projection = projectionOf(options.attributes);

  for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] = unique.slice(start, start + BATCH_GET_LIMIT).map((id) => ({ ImageID: id }));
    for (let round = 0; keys.length > 0; round++) {
      if (round > 0) {
        if (round > maxRounds) {
          throw new CliError('TABLE_BUSY', `DynamoDB left ${keys.length} keys of ${table} unread after ${maxRounds} retries.`, {
            suggestion: 'The table is throttling reads; try again in a moment.',
          });
        }
        await sleep(Math.min(100 * 2 ** round, 5_000));
      }
      const response = await documents.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ...projection } } }),
      );
      for (const item of response.Responses?.[table] ?? []) {
        const id = item.ImageID as unknown;
        if (typeof id === 'string') found.set(id, item as T);
      }
      keys = response.UnprocessedKeys?.[table]?.Keys ?? [];
    }
  }
  return found;
}

/** One item by ImageID, strongly consistent. */
export async function getItem(documents: DynamoDBDocumentClient, table: string, imageId: string): Promise<MetadataItem | undefined> {
  const response = await documents.send(new GetCommand({ TableName: table, Key: { ImageID: imageId }, ConsistentRead: true }));
  return response.Item as MetadataItem | undefined;
}

export interface ScanOptions {
  status?: MetadataStatus | undefined;
  /** Items DynamoDB evaluates per page (before the filter); its own 1 MB page limit applies too. */
  pageSize?: number | undefined;
  /** Only these attributes of each item (say, ImageID and PerceptualHash for `metadata duplicates`). */
  attributes?: readonly string[] | undefined;
}

/**
 * The whole table, one Scan page at a time, so callers can print as pages arrive and hold one page in memory.
 * A status filter is a FilterExpression: DynamoDB still reads every item but returns only the matching ones.
 */
export async function* scanItemPages(
  documents: DynamoDBDocumentClient,
  table: string,
  options: ScanOptions = {},
): AsyncGenerator<MetadataItem[]> {
  const projection = projectionOf(options.attributes);
  const input: ScanCommandInput = { TableName: table, ...projection };
  if (options.status !== undefined) {
    input.FilterExpression = '#status = :status';
    input.ExpressionAttributeNames = { ...projection.ExpressionAttributeNames, '#status': 'Status' };
    input.ExpressionAttributeValues = { ':status': options.status };
  }
  const pages = paginateScan({ client: documents, ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }) }, input);
  for await (const page of pages) {
    yield (page.Items ?? []) as MetadataItem[];
  }
}

/** "Status" and friends are DynamoDB reserved words, so every projected name goes through a placeholder. */
function projectionOf(attributes: readonly string[] | undefined): {
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
} {
  if (!attributes || attributes.length === 0) return {};
  const names: Record<string, string> = {};
  const placeholders = attributes.map((name, index) => {
    names[`#a${index}`] = name;
    return `#a${index}`;
  });
  return { ProjectionExpression: placeholders.join(', '), ExpressionAttributeNames: names };
}
