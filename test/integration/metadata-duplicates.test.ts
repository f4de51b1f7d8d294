import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { runMetadataDuplicates, runMetadataList } from '../../src/commands/metadata.js';
import { ExitCode } from '../../src/errors.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';

/** Items as the function writes them, with hand-set hashes: the grouping's own accuracy is unit-tested on photos. */
function item(sourceBucket: string, key: string, extra: Partial<MetadataItem>): MetadataItem {
  return {
    ImageID: `s3://${sourceBucket}/${key}`,
    OriginalFile: key,
    SourceBucket: sourceBucket,
    Bucket: 'dest',
    Status: 'SUCCEEDED',
    Outputs: [],
    ProcessedAt: '2026-01-01T00:00:00.000Z',
    DurationMs: 10,
    ...extra,
  };
}

describe('metadata duplicates and list --label over the table', () => {
  let stack: DeployedTestStack;

  beforeAll(async () => {
    stack = await deployTestStack();
    const clients = await stack.context.clients();
    const bucket = stack.settings.sourceBucket;
    const items = [
      item(bucket, 'dog.jpg', { PerceptualHash: 'f0f0f0f0f0f0f0f0', Labels: [{ Name: 'Dog', Confidence: 97, Parents: ['Animal'] }] }),
      // 3 bits from dog.jpg: a re-encode.
      item(bucket, 'dog-small.jpg', { PerceptualHash: 'f0f0f0f0f0f0f0f7', Labels: [{ Name: 'Dog', Confidence: 95, Parents: ['Animal'] }] }),
      // 32 bits from both: another photo.
      item(bucket, 'cat.jpg', { PerceptualHash: '0f0f0f0f0f0f0f0f', Labels: [{ Name: 'Cat', Confidence: 93, Parents: ['Animal'] }] }),
      item(bucket, 'broken.jpg', { Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE' }),
    ];
    await clients.documents.send(new BatchWriteCommand({ RequestItems: { [stack.settings.table]: items.map((Item) => ({ PutRequest: { Item } })) } }));
  });

  it('groups the near-duplicates, names their source objects, and counts the unhashed', async () => {
    const json = await localTestContext({ json: true }, stack.cwd);
    const result = await runMetadataDuplicates(json.context, {});
    expect(result).toMatchObject({ exitCode: ExitCode.Ok, scanned: 4, unhashed: 1, distance: 16 });
    const printed = JSON.parse(json.stdout()) as { groups: { source: string; distance: number }[][] };
    // Members come in the table's reading order; distances are from the first one read.
    expect(printed.groups).toHaveLength(1);
    const [group = []] = printed.groups;
    expect(group.map((member) => member.source).sort()).toEqual([`s3://${stack.settings.sourceBucket}/dog-small.jpg`, `s3://${stack.settings.sourceBucket}/dog.jpg`]);
    expect(group.map((member) => member.distance)).toEqual([0, 3]);
    json.context.close();

    const people = await localTestContext({}, stack.cwd);
    await runMetadataDuplicates(people.context, { distance: 2 });
    expect(people.stdout()).toContain('No near-duplicates within 2 bits');
    people.context.close();
  });

  it('--label keeps the items with that label or parent label', async () => {
    const json = await localTestContext({ json: true }, stack.cwd);
    await runMetadataList(json.context, { label: 'dog' });
    expect((JSON.parse(json.stdout()) as MetadataItem[]).map((i) => i.OriginalFile).sort()).toEqual(['dog-small.jpg', 'dog.jpg']);
    json.context.close();
    const animals = await localTestContext({ json: true }, stack.cwd);
    await runMetadataList(animals.context, { label: 'Animal', limit: 2 });
    expect(JSON.parse(animals.stdout())).toHaveLength(2);
    animals.context.close();
  });
});
