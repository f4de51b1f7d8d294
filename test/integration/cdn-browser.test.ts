import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { BrowserContext } from 'playwright-core';
import type { AwsClients } from '../../src/aws/clients.js';
import { executeGallery } from '../../src/commands/gallery.js';
import { executeUrl } from '../../src/commands/url.js';
import { runMetadataGet } from '../../src/commands/metadata.js';
import { fetchThroughCdn } from '../../src/provision/cdn-address.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';
import { imagesOf, launchChromium } from '../helpers/chromium.js';

let stack: DeployedTestStack;
let clients: AwsClients;
let browser: BrowserContext;
const items = new Map<string, MetadataItem>();
const GOOD = ['browser/one.jpg', 'browser/two.png'];
const BROKEN = 'browser/broken.jpg';

function waitForItem(key: string): Promise<MetadataItem> {
  return poll(`the item for ${key}`, async () => {
    const got = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, key) } }));
    const item = got.Item as MetadataItem | undefined;
    return item && item.Status !== 'DELETED' ? item : undefined;
  }, 90_000);
}

beforeAll(async () => {
  stack = await deployTestStack({ cdn: true, sizes: 'small=160x120,large=480x360' });
  clients = await stack.context.clients();
  const bodies: [string, Buffer, string][] = [
    [GOOD[0]!, await photo(900, 700, 'jpeg'), 'image/jpeg'],
    [GOOD[1]!, await photo(640, 480, 'png'), 'image/png'],
    [BROKEN, Buffer.from('this is not a JPEG at all'), 'image/jpeg'],
  ];
  for (const [key, body, type] of bodies) {
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: key, Body: body, ContentType: type }));
  }
  for (const key of [...GOOD, BROKEN]) items.set(key, await waitForItem(key));
  browser = await launchChromium();
}, 240_000);
afterAll(async () => {
  await browser.close();
  stack.context.close();
});

describe('delivery in a browser (headless Chromium, local stack)', () => {
  it('`url` prints an address that answers 200 through the local distribution', async () => {
    const test = await localTestContext({}, stack.cwd);
    const result = await executeUrl(test.context, GOOD[0]!, { size: 'large' });
    test.context.close();
    expect(test.stdout().trim()).toBe(result.url);
    expect(result.expiresAt).toBeUndefined();
    const response = await fetchThroughCdn(result.url);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
  });

  it('a page pasting `metadata get --html` shows the image at an output\'s natural width', async () => {
    const test = await localTestContext({}, stack.cwd);
    await runMetadataGet(test.context, GOOD[0]!, { html: true });
    test.context.close();
    const markup = test.stdout().trim();
    expect(markup).toMatch(/^<img src="http:\/\/d[a-z0-9]+\.cloudfront\.localhost:\d+\/resized\/small\/[^"]+" srcset="[^"]+ 160w, [^"]+ 480w" sizes="\(max-width: 480px\) 100vw, 480px"/);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-markup-'));
    const file = path.join(dir, 'page.html');
    await writeFile(file, `<!doctype html><html><body><h1>Pasted</h1>\n${markup}\n</body></html>`);
    const images = await imagesOf(browser, file);
    expect(images).toHaveLength(1);
    const [image] = images;
    const outputs = items.get(GOOD[0]!)!.Outputs;
    const loaded = outputs.find((o) => o.Url === image!.currentSrc);
    expect(image!.complete).toBe(true);
    expect(loaded).toBeDefined();
    expect(image!.naturalWidth).toBe(loaded!.Width);
  });

  it('the gallery shows every output through the CDN at its width, and the failure with its code', async () => {
    const test = await localTestContext({}, stack.cwd);
    const result = await executeGallery(test.context, { out: 'gallery.html' });
    test.context.close();
    expect(result.images).toBe(3);
    expect(result.expiresAt).toBeNull();
    const html = await readFile(result.file, 'utf8');
    // Newest first.
    const order = [...items.values()].sort((a, b) => b.ProcessedAt.localeCompare(a.ProcessedAt)).map((i) => i.OriginalFile);
    expect(order.map((key) => html.indexOf(`<div class="source">${key}</div>`))).toEqual([...order.map((key) => html.indexOf(`<div class="source">${key}</div>`))].sort((a, b) => a - b));
    const broken = items.get(BROKEN)!;
    expect(broken.Status).toBe('FAILED');
    expect(html).toContain(`<code class="error-code">${broken.ErrorCode ?? ''}</code>`);

    const images = await imagesOf(browser, result.file);
    expect(images).toHaveLength(4);
    for (const image of images) {
      expect(image.complete).toBe(true);
      expect(image.naturalWidth).toBe(image.widthAttribute);
      expect(image.currentSrc).toMatch(/\.cloudfront\.localhost:\d+\/resized\//);
    }
    expect(images.map((i) => i.naturalWidth).sort((a, b) => a - b)).toEqual([160, 160, 480, 480]);
  });

  it('gallery --status FAILED lists only the failure', async () => {
    const test = await localTestContext({}, stack.cwd);
    const result = await executeGallery(test.context, { out: 'failed.html', status: 'FAILED' });
    test.context.close();
    expect(result.images).toBe(1);
    const html = await readFile(result.file, 'utf8');
    expect(html).toContain(BROKEN);
    expect(html).not.toContain(GOOD[0]!);
  });
});
