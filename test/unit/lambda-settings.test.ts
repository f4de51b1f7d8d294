import { describe, expect, it } from 'vitest';
import { parseS3Event } from '../../lambda-src/core/event.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { decodeS3EventKey, encodeS3EventKey, isOutputKey, outputKeyFor } from '../../lambda-src/core/keys.js';
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_PIXELS,
  FUNCTION_ENV,
  functionEnvironment,
  loadFunctionSettings,
} from '../../lambda-src/core/settings.js';
import { DEFAULT_SIZE_SPEC, InvalidSettingError, formatSizeSpec, parseSizeSpec } from '../../lambda-src/core/sizes.js';

describe('size specs', () => {
  it('parses name=WxH lists and writes them back canonically', () => {
    const sizes = parseSizeSpec(' thumb=200x200, medium = 800X600 ,large_2=1600x1600');
    expect(sizes).toEqual([
      { name: 'thumb', width: 200, height: 200 },
      { name: 'medium', width: 800, height: 600 },
      { name: 'large_2', width: 1600, height: 1600 },
    ]);
    expect(formatSizeSpec(sizes)).toBe('thumb=200x200,medium=800x600,large_2=1600x1600');
    expect(parseSizeSpec(DEFAULT_SIZE_SPEC)).toEqual([{ name: 'thumbnail', width: 200, height: 200 }]);
  });

  it.each([
    ['', /empty/],
    ['200x200', /not a size/],
    ['Thumb=200x200', /name "Thumb" is not allowed/],
    ['a/b=10x10', /not allowed/],
    ['a=10x10,a=20x20', /appears twice/],
    ['a=0x10', /width 0/],
    ['a=10x10001', /height 10001/],
    ['a=10x-1', /not a size/],
    [Array.from({ length: 11 }, (_, i) => `s${i}=10x10`).join(','), /at most 10/],
  ])('rejects %j with a clear message', (spec, message) => {
    expect(() => parseSizeSpec(spec)).toThrow(InvalidSettingError);
    expect(() => parseSizeSpec(spec)).toThrow(message);
  });
});

describe('event keys', () => {
  it.each([
    ['my+photo.jpg', 'my photo.jpg'],
    ['a%2Bb.jpg', 'a+b.jpg'],
    ['caf%C3%A9%2F%E5%86%99%E7%9C%9F.png', 'café/写真.png'],
    ['100%25+sure.jpg', '100% sure.jpg'],
    ['photos/2024/cat.jpg', 'photos/2024/cat.jpg'],
    ['%F0%9F%90%B1.webp', '🐱.webp'],
  ])('decodes %s as %s, and encoding gives it back', (raw, key) => {
    expect(decodeS3EventKey(raw)).toBe(key);
    expect(decodeS3EventKey(encodeS3EventKey(key))).toBe(key);
  });

  it('encodes as S3 does: spaces as +, slashes kept, reserved characters escaped', () => {
    expect(encodeS3EventKey("my photos/a+b (1)!*'.jpg")).toBe('my+photos/a%2Bb+%281%29%21%2A%27.jpg');
    expect(encodeS3EventKey('café.jpg')).toBe('caf%C3%A9.jpg');
  });

  it('does not crash on malformed escapes and keeps keys an emulator left unencoded', () => {
    expect(decodeS3EventKey('100%.jpg')).toBe('100%.jpg');
    expect(decodeS3EventKey('a%ZZb+c%20d.jpg')).toBe('a%ZZb c d.jpg');
    expect(decodeS3EventKey('my photo.jpg')).toBe('my photo.jpg');
    expect(decodeS3EventKey('café+au+lait.jpg')).toBe('café+au+lait.jpg');
  });

  it('names outputs as the contract says', () => {
    const thumb = { name: 'thumbnail', width: 200, height: 200 };
    expect(outputKeyFor('photos/cat.jpg', thumb, 1, 'png', 'jpeg')).toBe('resized-photos/cat.png');
    expect(outputKeyFor('photos/cat.jpg', thumb, 1, 'jpeg', 'jpeg')).toBe('resized-photos/cat.jpg');
    expect(outputKeyFor('IMG_1.JPEG', thumb, 1, 'jpeg', 'jpeg')).toBe('resized-IMG_1.JPEG');
    expect(outputKeyFor('photos/cat.png', { name: 'medium', width: 8, height: 8 }, 3, 'jpeg', 'png')).toBe('resized/medium/photos/cat.jpg');
    expect(outputKeyFor('scan', thumb, 1, 'webp', 'tiff')).toBe('resized-scan.webp');
    expect(outputKeyFor('v1.2/.hidden', thumb, 1, 'avif', 'png')).toBe('resized-v1.2/.hidden.avif');
    expect(outputKeyFor('anim.gif', thumb, 1, 'gif', 'gif')).toBe('resized-anim.gif');
  });

  it('recognises its own outputs', () => {
    expect(isOutputKey('resized-cat.png')).toBe(true);
    expect(isOutputKey('resized/thumb/cat.png')).toBe(true);
    expect(isOutputKey('photos/resized-cat.png')).toBe(false);
    expect(isOutputKey('resizedcat.png')).toBe(false);
  });

  it('derives the image ID from bucket and decoded key alone', () => {
    expect(imageIdFor('uploads', 'my photo.jpg')).toBe('s3://uploads/my photo.jpg');
  });
});

describe('function settings', () => {
  const required = { DEST_BUCKET: 'dest', TABLE_NAME: 'images' };

  it('applies the defaults', () => {
    expect(loadFunctionSettings(required)).toEqual({
      destBucket: 'dest',
      table: 'images',
      sourceBucket: undefined,
      sizes: [{ name: 'thumbnail', width: 200, height: 200 }],
      format: 'png',
      fit: 'cover',
      maxPixels: DEFAULT_MAX_PIXELS,
      maxBytes: DEFAULT_MAX_BYTES,
      allowUpscale: false,
      quality: undefined,
      cacheControl: 'public, max-age=86400',
      background: { r: 255, g: 255, b: 255 },
      notifyTopicArn: undefined,
      keepOnDelete: false,
    });
  });

  it.each([
    [{}, 'DEST_BUCKET'],
    [{ DEST_BUCKET: 'd' }, 'TABLE_NAME'],
    [{ ...required, SIZES: 'x' }, 'SIZES'],
    [{ ...required, OUTPUT_FORMAT: 'bmp' }, 'OUTPUT_FORMAT'],
    [{ ...required, FIT: 'stretch' }, 'FIT'],
    [{ ...required, MAX_PIXELS: '1e9' }, 'MAX_PIXELS'],
    [{ ...required, MAX_BYTES: '0' }, 'MAX_BYTES'],
    [{ ...required, ALLOW_UPSCALE: 'maybe' }, 'ALLOW_UPSCALE'],
    [{ ...required, OUTPUT_QUALITY: '101' }, 'OUTPUT_QUALITY'],
    [{ ...required, NOTIFY_TOPIC_ARN: 'my-topic' }, 'NOTIFY_TOPIC_ARN'],
    [{ ...required, NOTIFY_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:events.fifo' }, 'NOTIFY_TOPIC_ARN'],
    [{ ...required, KEEP_ON_DELETE: 'sometimes' }, 'KEEP_ON_DELETE'],
  ])('names the bad variable (%j)', (env, variable) => {
    expect(() => loadFunctionSettings(env)).toThrow(InvalidSettingError);
    expect(() => loadFunctionSettings(env)).toThrow(new RegExp(`^${variable}: `));
  });

  it('reads the notification topic and the removal switch', () => {
    expect(loadFunctionSettings({ ...required, NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:img-events', KEEP_ON_DELETE: 'true' })).toMatchObject({
      notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:img-events',
      keepOnDelete: true,
    });
    expect(functionEnvironment({ destBucket: 'd', table: 't', notifyTopicArn: 'arn:aws:sns:eu-west-1:123456789012:e', keepOnDelete: false })).toMatchObject({
      NOTIFY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:e',
      KEEP_ON_DELETE: 'false',
    });
  });

  it('builds the environment init deploys, and reads it back', () => {
    const env = functionEnvironment({
      destBucket: 'dest',
      table: 'images',
      sourceBucket: 'src',
      sizes: 'a=10x10, b=20x30',
      format: 'webp',
      fit: 'inside',
      quality: 70,
      allowUpscale: true,
    });
    expect(env).toEqual({
      [FUNCTION_ENV.destBucket]: 'dest',
      [FUNCTION_ENV.table]: 'images',
      [FUNCTION_ENV.sourceBucket]: 'src',
      [FUNCTION_ENV.sizes]: 'a=10x10,b=20x30',
      [FUNCTION_ENV.format]: 'webp',
      [FUNCTION_ENV.fit]: 'inside',
      [FUNCTION_ENV.allowUpscale]: 'true',
      [FUNCTION_ENV.quality]: '70',
      MALLOC_ARENA_MAX: '2',
    });
    expect(loadFunctionSettings(env)).toMatchObject({ sourceBucket: 'src', format: 'webp', fit: 'inside', quality: 70, allowUpscale: true });
    expect(() => functionEnvironment({ destBucket: 'd', table: 't', sizes: 'nope' })).toThrow(InvalidSettingError);
  });
});

describe('S3 events', () => {
  const record = (key: string, extra: Record<string, unknown> = {}) => ({
    eventSource: 'aws:s3',
    eventName: 'ObjectCreated:Put',
    s3: { bucket: { name: 'uploads' }, object: { key, size: 10, eTag: 'abc', sequencer: '01' } },
    ...extra,
  });

  it('reads every record and decodes its key', () => {
    const parsed = parseS3Event({ Records: [record('my+photo.jpg'), record('a%2Bb.png')] });
    expect(parsed.ignored).toEqual([]);
    expect(parsed.records.map((r) => [r.bucket, r.rawKey, r.key, r.eTag])).toEqual([
      ['uploads', 'my+photo.jpg', 'my photo.jpg', 'abc'],
      ['uploads', 'a%2Bb.png', 'a+b.png', 'abc'],
    ]);
  });

  it('ignores test events, other shapes and malformed records without throwing', () => {
    expect(parseS3Event({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'uploads' })).toEqual({ records: [], ignored: ['s3:TestEvent'] });
    expect(parseS3Event('hello').records).toEqual([]);
    expect(parseS3Event({ detail: {} }).records).toEqual([]);
    const mixed = parseS3Event({ Records: [record('ok.jpg'), { eventSource: 'aws:sqs' }, null, record('')] });
    expect(mixed.records.map((r) => r.key)).toEqual(['ok.jpg']);
    expect(mixed.ignored).toHaveLength(3);
  });
});
