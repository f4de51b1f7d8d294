import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { BrowserContext } from 'playwright-core';
import type { AwsClients } from '../../src/aws/clients.js';
import { executeGallery } from '../../src/commands/gallery.js';
import { runMetadataGet } from '../../src/commands/metadata.js';
import { executeUrl } from '../../src/commands/url.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { imagesOf, launchChromium } from '../helpers/chromium.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';

let stack: DeployedTestStack;
let clients: AwsClients;
let item: MetadataItem;
const KEY = 'plain/sunset.jpg';

beforeAll(async () => {
  stack = await deployTestStack({ sizes: 'thumb=100x100' });
  clients = await stack.context.clients();
  await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: KEY, Body: await photo(500, 400), ContentType: 'image/jpeg' }));
  item = await poll('the SUCCEEDED item', async () => {
    const got = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, KEY) } }));
    const found = got.Item as MetadataItem | undefined;
    return found?.Status === 'SUCCEEDED' ? found : undefined;
  }, 90_000);
}, 180_000);
afterAll(() => {
  stack.context.close();
});

describe('delivery without a CDN', () => {
  it('stores no URL in the item, and `url` presigns one that answers 200 and expires when it says', async () => {
    expect(item.Outputs[0]).not.toHaveProperty('Url');
    const test = await localTestContext({}, stack.cwd);
    const before = Date.now();
    const result = await executeUrl(test.context, KEY, { expires: 600 });
    test.context.close();
    expect(result.url).toContain('X-Amz-Expires=600');
    expect(Date.parse(result.expiresAt ?? '') - before).toBeGreaterThanOrEqual(599_000);
    const response = await fetch(result.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
  });

  it('`metadata get` says the URLs are presigned and until when', async () => {
    const test = await localTestContext({}, stack.cwd);
    await runMetadataGet(test.context, KEY);
    test.context.close();
    expect(test.stdout()).toMatch(/URLs {8}presigned, valid until \d{4}-\d\d-\d\dT/);
    expect(test.stdout()).toMatch(/thumb {2}http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/);
  });

  it('the gallery states when its links stop working, and Chromium shows the thumbnail', async () => {
    const test = await localTestContext({}, stack.cwd);
    const result = await executeGallery(test.context, { out: 'gallery.html' });
    test.context.close();
    expect(result.expiresAt).not.toBeNull();
    expect(await readFile(result.file, 'utf8')).toContain(`stop working at ${result.expiresAt ?? ''}`);
    let browser: BrowserContext | undefined;
    try {
      browser = await launchChromium();
      const images = await imagesOf(browser, result.file);
      expect(images.map((i) => [i.complete, i.naturalWidth])).toEqual([[true, 100]]);
    } finally {
      await browser?.close();
    }
  });
});
