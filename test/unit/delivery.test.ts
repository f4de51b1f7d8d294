import { describe, expect, it } from 'vitest';
import { resolveInitSettings, type Prompter } from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';
import { imageMarkup, type OutputAddress } from '../../src/operations/delivery.js';
import { latest } from '../../src/operations/gallery.js';
import { renderGalleryPage } from '../../src/ui/gallery-page.js';
import { succeededItem, type MetadataItem, type OutputRecord } from '../../lambda-src/core/metadata.js';
import { functionEnvironment, loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { notificationFor } from '../../lambda-src/core/notification.js';

const base = { locate: () => Promise.resolve({ account: '123456789012', region: 'eu-west-1' }), env: {} };

function output(size: string, width: number, format = 'webp'): OutputRecord {
  return { Size: size, Key: `resized/${size}/a.${format}`, Width: width, Height: Math.round(width * 0.75), Bytes: 1000, Format: format };
}

function address(record: OutputRecord): OutputAddress {
  return { output: record, url: `https://cdn.example.com/${record.Key}` };
}

function item(overrides: Partial<MetadataItem>): MetadataItem {
  return { ImageID: 's3://src/a.jpg', OriginalFile: 'a.jpg', SourceBucket: 'src', Bucket: 'dest', Outputs: [], Status: 'SUCCEEDED', ProcessedAt: '2026-01-01T00:00:00.000Z', DurationMs: 5, ...overrides };
}

describe('delivery settings', () => {
  it('are absent unless asked for, and init --cdn fills in the price class', async () => {
    const { settings } = await resolveInitSettings({ ...base, flags: {}, file: undefined });
    expect(settings).not.toHaveProperty('cdn');
    const { settings: withCdn } = await resolveInitSettings({ ...base, flags: { cdn: true, cacheControl: 'public, max-age=31536000, immutable' }, file: undefined });
    expect(withCdn).toMatchObject({ cdn: true, cdnPriceClass: 'PriceClass_100', cacheControl: 'public, max-age=31536000, immutable' });
    const { settings: fromEnv } = await resolveInitSettings({ ...base, env: { IMG_RESIZER_CDN: 'yes', IMG_RESIZER_CDN_PRICE_CLASS: 'PriceClass_All' }, flags: {}, file: undefined });
    expect(fromEnv).toMatchObject({ cdn: true, cdnPriceClass: 'PriceClass_All' });
  });

  it('interactive init asks whether to use a CDN', async () => {
    const asked: string[] = [];
    const prompter: Prompter = {
      input: (_message, defaultValue) => Promise.resolve(defaultValue),
      select: (_message, _choices, defaultValue) => Promise.resolve(defaultValue),
      confirm: (message) => { asked.push(message); return Promise.resolve(true); },
    };
    const { settings, sources } = await resolveInitSettings({ ...base, flags: {}, file: undefined, prompter });
    expect(asked).toEqual(['Serve the resized images through a CloudFront CDN?']);
    expect(settings.cdn).toBe(true);
    expect(sources.cdn).toBe('prompt');
  });

  it('rejects aliases without a certificate, a certificate outside us-east-1, and a multi-line Cache-Control', async () => {
    const attempt = (flags: Parameters<typeof resolveInitSettings>[0]['flags']) => resolveInitSettings({ ...base, flags, file: undefined });
    await expect(attempt({ cdn: true, cdnAliases: 'img.example.com' })).rejects.toThrow(/need a certificate/);
    await expect(attempt({ cdn: true, cdnAliases: 'img.example.com', cdnCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' })).rejects.toThrow(UsageError);
    await expect(attempt({ cacheControl: 'public\nx' })).rejects.toThrow(/--cache-control: "public\nx" is not one line of at most 256 characters/);
    const { settings } = await attempt({ cdn: true, cdnAliases: 'img.example.com', cdnCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
    expect(settings.cdnAliases).toBe('img.example.com');
  });
});

describe('the function with a CDN', () => {
  it('writes a Url per output from CDN_BASE_URL, and none without it', () => {
    const outputs = [{ size: { name: 'thumb', width: 200, height: 200 }, key: 'resized/thumb/my photo.png', width: 200, height: 150, bytes: 10, format: 'png' as const }];
    const source = { imageId: 's3://src/my photo.jpg', bucket: 'src', key: 'my photo.jpg', destBucket: 'dest' };
    const original = { width: 800, height: 600, format: 'jpeg', bytes: 100, warnings: [] } as unknown as Parameters<typeof succeededItem>[1];
    const timing = { startedAt: 0, finishedAt: 1 };
    expect(succeededItem(source, original, outputs, timing, 'https://d1.cloudfront.net').Outputs[0]?.Url).toBe('https://d1.cloudfront.net/resized/thumb/my%20photo.png');
    expect(succeededItem(source, original, outputs, timing).Outputs[0]).not.toHaveProperty('Url');
    expect(notificationFor(succeededItem(source, original, outputs, timing, 'https://d1.cloudfront.net')).outputs[0]?.url).toBe('https://d1.cloudfront.net/resized/thumb/my%20photo.png');
    expect(notificationFor(succeededItem(source, original, outputs, timing)).outputs[0]).not.toHaveProperty('url');
  });

  it('takes CDN_BASE_URL as the API handler does: an origin, maybe a path, trailing slashes dropped', () => {
    const env = functionEnvironment({ destBucket: 'dest', table: 't', cdnBaseUrl: 'https://img.example.com' });
    expect(loadFunctionSettings(env).cdnBaseUrl).toBe('https://img.example.com');
    expect(loadFunctionSettings({ ...env, CDN_BASE_URL: 'https://img.example.com/' }).cdnBaseUrl).toBe('https://img.example.com');
    expect(loadFunctionSettings({ ...env, CDN_BASE_URL: 'https://img.example.com/images/' }).cdnBaseUrl).toBe('https://img.example.com/images');
    expect(() => functionEnvironment({ destBucket: 'dest', table: 't', cdnBaseUrl: 'img.example.com' })).toThrow(/CDN_BASE_URL/);
    expect(() => functionEnvironment({ destBucket: 'dest', table: 't', cdnBaseUrl: 'https://img.example.com/?x=1' })).toThrow(/CDN_BASE_URL/);
    // https on AWS; plain http only for the local stack's hosts (its CloudFront emulator is http://<id>.cloudfront.localhost:<port>).
    expect(loadFunctionSettings({ ...env, CDN_BASE_URL: 'http://d1.cloudfront.localhost:4566' }).cdnBaseUrl).toBe('http://d1.cloudfront.localhost:4566');
    expect(() => functionEnvironment({ destBucket: 'dest', table: 't', cdnBaseUrl: 'http://img.example.com' })).toThrow(/^CDN_BASE_URL: "http:\/\/img\.example\.com" is not an https URL/);
  });
});

describe('markup for a page', () => {
  it('is an <img> with srcset by width and sizes capped at the widest output', () => {
    const html = imageMarkup([output('large', 800, 'png'), output('small', 200, 'png')].map(address), 'A "red" barn');
    expect(html).toBe(
      '<img src="https://cdn.example.com/resized/small/a.png" srcset="https://cdn.example.com/resized/small/a.png 200w, https://cdn.example.com/resized/large/a.png 800w" ' +
        'sizes="(max-width: 800px) 100vw, 800px" width="800" height="600" alt="A &quot;red&quot; barn" loading="lazy" decoding="async">',
    );
  });

  it('is a <picture> with the newer formats as sources when outputs come in several formats', () => {
    const html = imageMarkup([output('small', 200, 'jpeg'), output('small', 200, 'avif'), output('large', 800, 'jpeg'), output('large', 800, 'avif')].map(address), 'x');
    const lines = html.split('\n');
    expect(lines[0]).toBe('<picture>');
    expect(lines[1]).toMatch(/^ {2}<source type="image\/avif" srcset="[^"]+small\/a\.avif 200w, [^"]+large\/a\.avif 800w"/);
    expect(lines[2]).toMatch(/^ {2}<img src="[^"]+small\/a\.jpeg" srcset="[^"]+a\.jpeg 200w, [^"]+a\.jpeg 800w"/);
    expect(lines[3]).toBe('</picture>');
  });
});

describe('the gallery page', () => {
  it('sorts newest first and drops DELETED items', () => {
    const items = [item({ OriginalFile: 'old', ProcessedAt: '2026-01-01T00:00:00.000Z' }), item({ OriginalFile: 'new', ProcessedAt: '2026-02-01T00:00:00.000Z' }), item({ OriginalFile: 'gone', Status: 'DELETED', ProcessedAt: '2026-03-01T00:00:00.000Z' })];
    expect(latest(items, 10).map((i) => i.OriginalFile)).toEqual(['new', 'old']);
    expect(latest(items, 1).map((i) => i.OriginalFile)).toEqual(['new']);
  });

  it('shows failures with code and message, escapes names, and states when presigned links expire', () => {
    const failed = item({ OriginalFile: '<script>.jpg', Status: 'FAILED', ErrorCode: 'CORRUPT_IMAGE', ErrorMessage: 'Input buffer has corrupt header' });
    const ok = item({ OriginalFile: 'a.jpg', Outputs: [output('small', 200)] });
    const html = renderGalleryPage({
      stackName: 'shop',
      generatedAt: new Date('2026-01-01T00:00:00Z'),
      entries: [{ item: ok, addresses: ok.Outputs.map(address) }, { item: failed, addresses: [] }],
      expiresAt: new Date('2026-01-02T00:00:00Z'),
      filter: undefined,
    });
    expect(html).toContain('<code class="error-code">CORRUPT_IMAGE</code> Input buffer has corrupt header');
    expect(html).toContain('&lt;script&gt;.jpg');
    expect(html).not.toContain('<script>');
    expect(html).toContain('stop working at 2026-01-02T00:00:00.000Z');
    expect(html).toContain('<img src="https://cdn.example.com/resized/small/a.webp" width="200" height="150"');
  });
});
