import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DetectLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import sharp from 'sharp';
import { thumbHashToAverageRGBA, thumbHashToApproximateAspectRatio } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { createFunctionClients } from '../../lambda-src/aws-ports.js';
import { ImageRefusedError, REKOGNITION_MAX_BYTES, type ContentAnalysisPort } from '../../lambda-src/core/content-analysis.js';
import { imageInsight, previewPixels } from '../../lambda-src/core/insight.js';
import type { LabelRecord, MetadataItem, ModerationLabelRecord } from '../../lambda-src/core/metadata.js';
import { NewerItemError, processRecord, type PutObjectRequest, type RecordPorts, type SourceObject } from '../../lambda-src/core/process-record.js';
import { InvalidSettingError } from '../../lambda-src/core/errors.js';
import { loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { photo, solid } from '../helpers/images.js';

/** S3, DynamoDB and Rekognition in memory: every call recorded. */
class MemoryPorts implements RecordPorts {
  readonly objects = new Map<string, Buffer>();
  readonly puts: PutObjectRequest[] = [];
  readonly deletes: string[] = [];
  readonly items = new Map<string, MetadataItem>();
  readonly analysed: { call: 'labels' | 'moderation'; image: Buffer }[] = [];
  labels: LabelRecord[] = [{ Name: 'Dog', Confidence: 97.5, Parents: ['Animal', 'Pet'] }];
  moderationLabels: ModerationLabelRecord[] = [];
  failure: Error | undefined;

  getObject(bucket: string, key: string): Promise<SourceObject> {
    const body = this.objects.get(`${bucket}/${key}`) ?? Buffer.alloc(0);
    return Promise.resolve({
      contentLength: body.length,
      eTag: createHash('md5').update(body).digest('hex'),
      lastModified: new Date('2025-01-01T00:00:00Z'),
      read: () => Promise.resolve(body),
      discard: () => undefined,
    });
  }

  putObject(request: PutObjectRequest): Promise<void> {
    this.puts.push(request);
    return Promise.resolve();
  }

  deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) this.deletes.push(`${bucket}/${key}`);
    return Promise.resolve();
  }

  putItem(item: MetadataItem): Promise<void> {
    this.items.set(item.ImageID, item);
    return Promise.resolve();
  }

  readonly contentAnalysis: ContentAnalysisPort = {
    detectLabels: (image) => {
      this.analysed.push({ call: 'labels', image });
      return this.failure ? Promise.reject(this.failure) : Promise.resolve(this.labels);
    },
    detectModerationLabels: (image) => {
      this.analysed.push({ call: 'moderation', image });
      return this.failure ? Promise.reject(this.failure) : Promise.resolve(this.moderationLabels);
    },
  };
}

const ENV = { DEST_BUCKET: 'resized', TABLE_NAME: 'images', SOURCE_BUCKET: 'uploads' };
const record = (key: string) => ({ bucket: 'uploads', key, rawKey: key, eventName: 'ObjectCreated:Put', size: undefined, eTag: undefined, sequencer: undefined });

async function run(env: Record<string, string>, image: Buffer, ports = new MemoryPorts()) {
  ports.objects.set('uploads/a.jpg', image);
  const result = await processRecord(record('a.jpg'), loadFunctionSettings({ ...ENV, ...env }), ports);
  return { result, ports, item: ports.items.get('s3://uploads/a.jpg') };
}

describe('placeholder, dominant colour and perceptual hash on every item', () => {
  it('writes Placeholder (a ThumbHash of the image), DominantColor and PerceptualHash', async () => {
    const { item } = await run({ SIZES: 'wide=400x200', FIT: 'inside' }, await solid(800, 400, { r: 30, g: 120, b: 200 }, 'png'));
    expect(item).toMatchObject({ Status: 'SUCCEEDED', DominantColor: '#1e78c8' });
    expect(item?.PerceptualHash).toMatch(/^[0-9a-f]{16}$/);
    const hash = Buffer.from(item?.Placeholder ?? '', 'base64');
    expect(hash.length).toBeGreaterThan(4);
    expect(hash.length).toBeLessThan(40);
    const average = thumbHashToAverageRGBA(hash);
    expect(Math.round(average.r * 255)).toBeCloseTo(30, -1);
    expect(Math.round(average.b * 255)).toBeCloseTo(200, -1);
    expect(thumbHashToApproximateAspectRatio(hash)).toBeCloseTo(2, 0);
  });

  it('the dominant colour is the fullest colour, not the mean', async () => {
    // Two thirds red, one third blue: the mean would be purple.
    const image = await sharp({ create: { width: 90, height: 60, channels: 3, background: { r: 250, g: 10, b: 10 } } })
      .composite([{ input: await solid(30, 60, { r: 0, g: 0, b: 255 }, 'png'), left: 60, top: 0 }])
      .png()
      .toBuffer();
    const insight = imageInsight(await previewPixels(image));
    expect(insight.dominantColor).toBe('#fa0a0a');
  });

  it('ignores transparent pixels for the colour, and the hash sees a pattern drawn only in alpha', async () => {
    const raw = Buffer.alloc(64 * 64 * 4, 255);
    for (let i = 0; i < 64 * 64; i += 1) raw[i * 4 + 3] = (i % 64) < 32 ? 0 : 255; // white, left half transparent
    const overlay = await sharp(raw, { raw: { width: 64, height: 64, channels: 4 } }).png().toBuffer();
    const insight = imageInsight(await previewPixels(overlay));
    expect(insight.dominantColor).toBe('#ffffff');
    const flipped = imageInsight(await previewPixels(await sharp(overlay).flop().png().toBuffer()));
    // Mirrored, the alpha pattern gives a far hash: alpha counts (over white both would be blank and equal).
    expect(insight.perceptualHash).not.toBe(flipped.perceptualHash);
  });
});

describe('labels and moderation (opt-in)', () => {
  it('makes no Rekognition call and writes no label attribute when neither is on', async () => {
    const { ports, item } = await run({}, await photo(300, 200));
    expect(ports.analysed).toEqual([]);
    expect(item).not.toHaveProperty('Labels');
    expect(item).not.toHaveProperty('ModerationLabels');
  });

  it('stores Labels from the largest JPEG/PNG output under 5 MB, never the source', async () => {
    const source = await photo(1200, 800);
    const { ports, item, result } = await run({ LABELS: 'on', LABELS_MAX: '5', SIZES: 'big=1000x1000,small=100x100', OUTPUT_FORMAT: 'jpeg', FIT: 'inside' }, source);
    expect(result.status).toBe('SUCCEEDED');
    expect(item?.Labels).toEqual([{ Name: 'Dog', Confidence: 97.5, Parents: ['Animal', 'Pet'] }]);
    expect(ports.analysed).toHaveLength(1);
    const sent = ports.analysed[0]!.image;
    expect(sent.length).toBeLessThanOrEqual(REKOGNITION_MAX_BYTES);
    expect(sent.equals(source)).toBe(false);
    expect(await sharp(sent).metadata()).toMatchObject({ width: 1000, height: 667, format: 'jpeg' });
  });

  it('shows Rekognition a JPEG made from the largest output when the outputs are WebP', async () => {
    const { ports } = await run({ LABELS: 'on', SIZES: 'big=600x600', OUTPUT_FORMAT: 'webp' }, await photo(800, 800));
    expect(await sharp(ports.analysed[0]!.image).metadata()).toMatchObject({ format: 'jpeg', width: 600 });
  });

  it('caps the labels at LABELS_MAX', async () => {
    const ports = new MemoryPorts();
    ports.labels = Array.from({ length: 8 }, (_, i) => ({ Name: `L${i}`, Confidence: 99 - i, Parents: [] }));
    const { item } = await run({ LABELS: 'on', LABELS_MAX: '3' }, await photo(300, 200), ports);
    expect(item?.Labels?.map((label) => label.Name)).toEqual(['L0', 'L1', 'L2']);
  });

  it('a moderation label over the threshold gives FAILED/MODERATED, no output written, earlier outputs removed, labels kept', async () => {
    const ports = new MemoryPorts();
    ports.moderationLabels = [
      { Name: 'Explicit', Confidence: 91.2, ParentName: '' },
      { Name: 'Suggestive', Confidence: 60, ParentName: '' },
    ];
    const { result, item } = await run({ LABELS: 'on', MODERATION: 'on', MODERATION_MIN_CONFIDENCE: '85', SIZES: 'a=200x200,b=100x100' }, await photo(300, 200), ports);
    expect(result).toMatchObject({ status: 'FAILED', errorCode: 'MODERATED' });
    expect(item).toMatchObject({
      Status: 'FAILED',
      ErrorCode: 'MODERATED',
      Outputs: [],
      ModerationLabels: [{ Name: 'Explicit', Confidence: 91.2, ParentName: '' }],
      Labels: [{ Name: 'Dog', Confidence: 97.5, Parents: ['Animal', 'Pet'] }],
    });
    expect(item?.ErrorMessage).toContain('Explicit (91.2%)');
    expect(ports.puts).toEqual([]);
    expect(ports.deletes.sort()).toEqual(['resized/resized/a/a.png', 'resized/resized/b/a.png']);
  });

  it('a moderated item refused as older than the stored one reprocesses the current object once (its outputs were just deleted)', async () => {
    // The stored item is a newer, clean upload's: the rejected version's deletes may have removed its outputs.
    class NewerCleanVersion extends MemoryPorts {
      refused = 0;
      override putItem(item: MetadataItem): Promise<void> {
        if (this.refused > 0) return super.putItem(item);
        this.refused += 1;
        this.moderationLabels = [];
        return Promise.reject(new NewerItemError());
      }
    }
    const ports = new NewerCleanVersion();
    ports.moderationLabels = [{ Name: 'Explicit', Confidence: 91.2, ParentName: '' }];
    ports.objects.set('uploads/a.jpg', await photo(300, 200));
    const settings = loadFunctionSettings({ ...ENV, MODERATION: 'on', SIZES: 'a=200x200,b=100x100' });
    const result = await processRecord({ ...record('a.jpg'), eTag: 'older', sequencer: '0A' }, settings, ports);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(ports.deletes.sort()).toEqual(['resized/resized/a/a.png', 'resized/resized/b/a.png']);
    expect(ports.puts.map((put) => put.key).sort()).toEqual(['resized/a/a.png', 'resized/b/a.png']);
    const item = ports.items.get('s3://uploads/a.jpg');
    expect(item).toMatchObject({ Status: 'SUCCEEDED' });
    expect(item?.Sequencer).toMatch(/0A$/);
    expect(item?.PerceptualHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a transient Rekognition error is thrown (Lambda retries) with nothing written', async () => {
    const ports = new MemoryPorts();
    ports.failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await expect(run({ LABELS: 'on', MODERATION: 'on' }, await photo(300, 200), ports)).rejects.toThrow('Rate exceeded');
    expect(ports.puts).toEqual([]);
    expect(ports.items.size).toBe(0);
  });

  it('an image Rekognition refuses still SUCCEEDS, its labels recorded as unavailable', async () => {
    const ports = new MemoryPorts();
    ports.failure = new ImageRefusedError('Rekognition refused the image (InvalidImageFormatException: bad)');
    const { result, item } = await run({ LABELS: 'on', MODERATION: 'on' }, await photo(300, 200), ports);
    expect(result.status).toBe('SUCCEEDED');
    expect(item?.LabelsUnavailable).toContain('InvalidImageFormatException');
    expect(item).not.toHaveProperty('Labels');
    expect(ports.puts).toHaveLength(1);
  });
});

describe('LABELS and MODERATION settings', () => {
  it('are off unless switched on, with defaults when on', () => {
    expect(loadFunctionSettings(ENV)).not.toHaveProperty('labels');
    expect(loadFunctionSettings({ ...ENV, LABELS: 'on', MODERATION: 'true' })).toMatchObject({
      labels: { minConfidence: 70, maxLabels: 10 },
      moderation: { minConfidence: 80 },
    });
    expect(loadFunctionSettings({ ...ENV, LABELS: 'off', LABELS_MIN_CONFIDENCE: '90' })).not.toHaveProperty('labels');
  });

  it('reject bad values naming the variable', () => {
    expect(() => loadFunctionSettings({ ...ENV, LABELS: 'maybe' })).toThrow(InvalidSettingError);
    expect(() => loadFunctionSettings({ ...ENV, LABELS: 'on', LABELS_MIN_CONFIDENCE: '101' })).toThrow(/LABELS_MIN_CONFIDENCE/);
    expect(() => loadFunctionSettings({ ...ENV, MODERATION: 'on', MODERATION_MIN_CONFIDENCE: 'high' })).toThrow(/MODERATION_MIN_CONFIDENCE/);
    expect(() => loadFunctionSettings({ ...ENV, LABELS: 'on', LABELS_MAX: '0' })).toThrow(/LABELS_MAX/);
  });
});

describe('the Rekognition client endpoint', () => {
  it('the SDK itself honours AWS_ENDPOINT_URL_REKOGNITION from the environment (a request arrives there)', async () => {
    const received: string[] = [];
    const server = createServer((request, response) => {
      received.push(String(request.headers['x-amz-target']));
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end('{"Labels":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const saved = process.env.AWS_ENDPOINT_URL_REKOGNITION;
    process.env.AWS_ENDPOINT_URL_REKOGNITION = `http://127.0.0.1:${port}`;
    try {
      // No endpoint in the client's configuration: the SDK reads the variable itself.
      const client = new RekognitionClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      await client.send(new DetectLabelsCommand({ Image: { Bytes: Buffer.from('x') } }));
      client.destroy();
      expect(received).toEqual(['RekognitionService.DetectLabels']);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_REKOGNITION;
      else process.env.AWS_ENDPOINT_URL_REKOGNITION = saved;
      server.close();
    }
  });

  it('the function clients use it too when given an env', async () => {
    const clients = createFunctionClients({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_REKOGNITION: 'http://127.0.0.1:5998' });
    expect(await clients.rekognition?.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 5998 });
  });
});
