import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import sharp from 'sharp';
import { beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { awsApiPorts } from '../../lambda-src/api-aws-ports.js';
import { createApiHandler } from '../../lambda-src/api-handler.js';
import { parsePresets } from '../../lambda-src/core/api/presets.js';
import { renderLockAttribute } from '../../lambda-src/core/api/ports.js';
import { routeApiRequest, type ApiResponse, type RouterDependencies } from '../../lambda-src/core/api/router.js';
import { apiEnvironment, loadApiSettings, type ApiSettings } from '../../lambda-src/core/api/settings.js';
import { BASE_URL_RULE, functionEnvironment, loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { safeStem } from '../../lambda-src/core/api/upload.js';
import { processImage, type ProcessOptions } from '../../lambda-src/core/image.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { InvalidSettingError } from '../../lambda-src/core/errors.js';
import { MemoryApiPorts } from '../helpers/api-memory-ports.js';
import { photo } from '../helpers/images.js';

const ENV = {
  DEST_BUCKET: 'out',
  TABLE_NAME: 'meta',
  SOURCE_BUCKET: 'in',
  SIZES: 'thumb=100x100,medium=300x300',
  PRESETS: 'card=120x80:webp,wide=400x100',
  MAX_BYTES: String(1024 * 1024),
  UPLOAD_PREFIXES: 'avatars/',
};
const SIX_MB = 6 * 1024 * 1024;
const KEY = 'uploads/cat-1.jpg';
const IMAGE_ID = `s3://in/${KEY}`;

/** Every response any test here got: checked against Lambda's 6 MB response limit at the end. */
const seen: ApiResponse[] = [];

function request(method: string, rawPath: string, body?: unknown) {
  return { method, rawPath, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), baseUrl: 'https://api.test' };
}

describe('the HTTP API router, over in-memory S3 and DynamoDB', () => {
  let settings: ApiSettings;
  let ports: MemoryApiPorts;
  let renders: number;
  let deps: RouterDependencies;
  let sourceETag: string;

  const countingRender = (input: Buffer, options: ProcessOptions) => {
    renders += 1;
    return processImage(input, options);
  };
  const call = async (method: string, path: string, body?: unknown, extra: Partial<RouterDependencies> = {}): Promise<ApiResponse> => {
    const response = await routeApiRequest(request(method, path, body), settings, { ...deps, ...extra });
    seen.push(response);
    return response;
  };
  const json = (response: ApiResponse): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;
  const errorCode = (response: ApiResponse): unknown => (json(response).error as { code: string }).code;

  function succeeded(eTag: string): MetadataItem {
    return {
      ImageID: IMAGE_ID,
      OriginalFile: KEY,
      SourceBucket: 'in',
      Bucket: 'out',
      ResizedFile: `resized/thumb/${KEY}`,
      Outputs: [
        { Size: 'thumb', Key: `resized/thumb/${KEY}`, Width: 100, Height: 100, Bytes: 10, Format: 'jpeg' },
        { Size: 'medium', Key: `resized/medium/${KEY}`, Width: 300, Height: 300, Bytes: 20, Format: 'jpeg' },
      ],
      OriginalBytes: 100,
      OriginalFormat: 'jpeg',
      OriginalWidth: 640,
      OriginalHeight: 480,
      Status: 'SUCCEEDED',
      ProcessedAt: '2026-01-01T00:00:00.000Z',
      DurationMs: 5,
      SourceETag: eTag,
    };
  }

  beforeEach(async () => {
    settings = loadApiSettings(ENV);
    ports = new MemoryApiPorts();
    renders = 0;
    deps = { ports, render: countingRender };
    sourceETag = ports.put('in', KEY, await photo(640, 480));
    ports.items.set(IMAGE_ID, { ...succeeded(sourceETag) });
  });

  describe('POST /uploads', () => {
    it('hands out a presigned POST for a fresh key under uploads/, with the ImageID and status URL', async () => {
      const first = await call('POST', '/uploads', { filename: 'My Cat (1).JPG', contentType: 'image/jpeg', bytes: 5000 });
      const second = await call('POST', '/uploads', { filename: 'My Cat (1).JPG', contentType: 'image/jpeg', bytes: 5000 });
      expect(first.statusCode).toBe(201);
      const body = json(first) as { key: string; imageId: string; statusUrl: string; upload: { url: string; fields: Record<string, string>; maxBytes: number } };
      expect(body.key).toMatch(/^uploads\/My-Cat-1-[0-9a-f-]{36}\.jpg$/);
      expect(json(second).key).not.toBe(body.key);
      expect(body.imageId).toBe(`s3://in/${body.key}`);
      expect(body.statusUrl).toBe(`https://api.test/images/${body.key}`);
      expect(body.upload.maxBytes).toBe(5000);
      expect(ports.posts[0]).toEqual({ bucket: 'in', key: body.key, contentType: 'image/jpeg', maxBytes: 5000, expiresInSeconds: 300 });
    });

    it('puts the upload under a chosen prefix only when it is allowlisted', async () => {
      const ok = await call('POST', '/uploads', { filename: 'a.png', contentType: 'image/png', bytes: 1, prefix: 'avatars' });
      expect(json(ok).key).toMatch(/^avatars\/a-.*\.png$/);
      const refused = await call('POST', '/uploads', { filename: 'a.png', contentType: 'image/png', bytes: 1, prefix: '../resized/' });
      expect([refused.statusCode, errorCode(refused)]).toEqual([400, 'INVALID_PREFIX']);
    });

    it('refuses types that are not images, sizes over the limit and malformed bodies with a JSON 400', async () => {
      const cases: [unknown, string][] = [
        [{ filename: 'a.html', contentType: 'text/html', bytes: 10 }, 'UNSUPPORTED_TYPE'],
        [{ filename: 'a.svg', contentType: 'image/svg+xml', bytes: 10 }, 'UNSUPPORTED_TYPE'],
        [{ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 1024 * 1024 + 1 }, 'TOO_LARGE'],
        [{ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 0 }, 'INVALID_BODY'],
        [{ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 1.5 }, 'INVALID_BODY'],
        [{ contentType: 'image/jpeg', bytes: 10 }, 'INVALID_BODY'],
        ['{not json', 'INVALID_BODY'],
        ['[]', 'INVALID_BODY'],
      ];
      for (const [body, code] of cases) {
        const response = await call('POST', '/uploads', body);
        expect([response.statusCode, errorCode(response)], JSON.stringify(body)).toEqual([400, code]);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
      }
      expect(ports.posts).toHaveLength(0);
      const wrongMethod = await call('GET', '/uploads');
      expect([wrongMethod.statusCode, wrongMethod.headers.allow]).toEqual([405, 'POST']);
    });

    it('reduces file names to safe key parts', () => {
      expect(safeStem('../../etc/passwd')).toBe('passwd');
      expect(safeStem('C:\\photos\\été 2024.jpeg')).toBe('ete-2024');
      expect(safeStem('.jpg')).toBe('jpg');
      expect(safeStem('***')).toBe('image');
    });
  });

  describe('GET /images/{key}', () => {
    it('returns the item as JSON with a presigned URL per output, without render locks', async () => {
      ports.items.get(IMAGE_ID)![renderLockAttribute('card')] = { Token: 't', ExpiresAt: 1 };
      const response = await call('GET', `/images/${KEY}`);
      expect(response.statusCode).toBe(200);
      const body = json(response) as unknown as Omit<MetadataItem, 'Outputs'> & { Outputs: { Url: string }[] };
      expect(body.Status).toBe('SUCCEEDED');
      expect(body.Outputs.map((o) => o.Url)).toEqual([`https://s3.test/out/resized/thumb/${KEY}?X-Amz-Expires=3600`, `https://s3.test/out/resized/medium/${KEY}?X-Amz-Expires=3600`]);
      expect(Object.keys(body).some((name) => name.startsWith('RenderLock'))).toBe(false);
    });

    it('gives CDN URLs when CDN_BASE_URL is set', async () => {
      settings = loadApiSettings({ ...ENV, CDN_BASE_URL: 'https://cdn.example.com/' });
      const body = json(await call('GET', `/images/${KEY}`)) as { Outputs: { Url: string }[] };
      expect(body.Outputs[0]?.Url).toBe(`https://cdn.example.com/resized/thumb/${KEY}`);
    });

    it('says PENDING while the upload exists but has no item, and 404 when there is neither', async () => {
      ports.put('in', 'uploads/new.jpg', Buffer.from('x'));
      const pending = await call('GET', '/images/uploads/new.jpg');
      expect([pending.statusCode, json(pending).Status]).toEqual([200, 'PENDING']);
      const missing = await call('GET', '/images/uploads/none.jpg');
      expect([missing.statusCode, errorCode(missing)]).toEqual([404, 'NOT_FOUND']);
      const noRoute = await call('GET', '/nothing');
      expect([noRoute.statusCode, errorCode(noRoute)]).toEqual([404, 'NO_ROUTE']);
    });

    it('refuses keys that would escape their prefix', async () => {
      for (const path of [
        '/images/uploads/../secret.jpg',
        '/images/uploads/%2e%2e/secret.jpg',
        '/images/./uploads/a.jpg',
        '/images/uploads%2Fa.jpg',
        '/images/uploads%2fa.jpg',
        '/images/uploads%5Ca.jpg',
        '/images/uploads\\a.jpg',
        '/images/uploads/a%00.jpg',
        '/images/uploads//a.jpg',
        '/images/uploads/%E0%A4%A.jpg',
        `/images/uploads/../${KEY}/card`,
      ]) {
        const response = await call('GET', path);
        expect([response.statusCode, errorCode(response)], path).toEqual([400, 'INVALID_KEY']);
      }
    });
  });

  describe('GET /images/{key}/{preset}', () => {
    it('redirects to an existing output without rendering', async () => {
      const response = await call('GET', `/images/${KEY}/medium`);
      expect(response.statusCode).toBe(302);
      expect(response.headers.location).toBe(`https://s3.test/out/resized/medium/${KEY}?X-Amz-Expires=3600`);
      expect(response.body).toBe('');
      expect(renders).toBe(0);
    });

    it('renders a missing preset once with real sharp, stores it as the function would, records it, then redirects', async () => {
      const first = await call('GET', `/images/${KEY}/card`);
      expect(first.statusCode).toBe(302);
      const outputKey = 'resized/card/uploads/cat-1.webp';
      expect(first.headers.location).toBe(`https://s3.test/out/${outputKey}?X-Amz-Expires=3600`);
      const stored = ports.objects.get(`out/${outputKey}`);
      const meta = await sharp(stored!.body).metadata();
      expect([meta.format, meta.width, meta.height, stored!.contentType]).toEqual(['webp', 120, 80, 'image/webp']);
      const item = ports.items.get(IMAGE_ID)!;
      expect((item.Outputs as { Size: string }[]).map((o) => o.Size)).toEqual(['thumb', 'medium', 'card']);
      expect(item[renderLockAttribute('card')]).toBeUndefined();
      const second = await call('GET', `/images/${KEY}/card`);
      expect([second.statusCode, second.headers.location, renders]).toEqual([302, first.headers.location, 1]);
    });

    it('renders one missing preset once for twenty simultaneous requests, and the item stays consistent', async () => {
      const responses = await Promise.all(Array.from({ length: 20 }, () => call('GET', `/images/${KEY}/wide`, undefined, { sleep: () => new Promise((r) => setTimeout(r, 5)) })));
      expect(renders).toBe(1);
      expect(new Set(responses.map((r) => `${r.statusCode} ${r.headers.location}`))).toEqual(new Set(['302 https://s3.test/out/resized/wide/uploads/cat-1.png?X-Amz-Expires=3600']));
      const item = ports.items.get(IMAGE_ID)!;
      expect((item.Outputs as { Size: string }[]).filter((o) => o.Size === 'wide')).toHaveLength(1);
      expect(ports.puts.filter((p) => p.key.startsWith('resized/wide/'))).toHaveLength(1);
      expect(item[renderLockAttribute('wide')]).toBeUndefined();
    });

    it('takes over a lock whose holder died, and answers 503 with Retry-After while a live holder renders too long', async () => {
      let now = 1_000_000;
      const clock = { now: () => now, sleep: (ms: number) => { now += ms; return Promise.resolve(); } };
      ports.items.get(IMAGE_ID)![renderLockAttribute('card')] = { Token: 'dead', ExpiresAt: now - 1 };
      const takenOver = await call('GET', `/images/${KEY}/card`, undefined, clock);
      expect([takenOver.statusCode, renders]).toEqual([302, 1]);

      ports.items.get(IMAGE_ID)![renderLockAttribute('wide')] = { Token: 'alive', ExpiresAt: now + 60_000 };
      const waiting = await call('GET', `/images/${KEY}/wide`, undefined, clock);
      expect([waiting.statusCode, errorCode(waiting), waiting.headers['retry-after']]).toEqual([503, 'RENDER_IN_PROGRESS', '1']);
      expect(renders).toBe(1);
    });

    it('does not record an output rendered from a version that was replaced meanwhile', async () => {
      const render = async (input: Buffer, options: ProcessOptions) => {
        const result = await processImage(input, options);
        // A re-upload is processed while this render runs: the function replaces the item.
        ports.items.set(IMAGE_ID, { ...succeeded('newer-etag') });
        return result;
      };
      const response = await call('GET', `/images/${KEY}/card`, undefined, { render });
      expect([response.statusCode, errorCode(response)]).toEqual([409, 'SOURCE_CHANGED']);
      expect((ports.items.get(IMAGE_ID)!.Outputs as { Size: string }[]).map((o) => o.Size)).toEqual(['thumb', 'medium']);
    });

    it('lists the allowed presets for an unknown one, and maps FAILED, DELETED, pending and missing sources', async () => {
      const unknown = await call('GET', `/images/${KEY}/huge`);
      expect(unknown.statusCode).toBe(404);
      expect(json(unknown).error).toMatchObject({ code: 'UNKNOWN_PRESET', allowed: ['thumb', 'medium', 'card', 'wide'] });
      ports.items.set(IMAGE_ID, { ...succeeded(sourceETag), Status: 'FAILED', Outputs: [], ErrorCode: 'CORRUPT_IMAGE', ErrorMessage: 'bad' });
      expect(errorCode(await call('GET', `/images/${KEY}/card`))).toBe('CORRUPT_IMAGE');
      ports.items.set(IMAGE_ID, { ...succeeded(sourceETag), Status: 'DELETED', Outputs: [] });
      expect((await call('GET', `/images/${KEY}/card`)).statusCode).toBe(404);
      ports.items.delete(IMAGE_ID);
      expect([(await call('GET', `/images/${KEY}/card`)).statusCode]).toEqual([409]);
      expect((await call('GET', '/images/uploads/none.jpg/card')).statusCode).toBe(404);
      expect(renders).toBe(0);
    });

    it('answers 422 with the image core code when the source cannot be rendered', async () => {
      sourceETag = ports.put('in', KEY, Buffer.from('not an image at all'));
      ports.items.set(IMAGE_ID, { ...succeeded(sourceETag) });
      const response = await call('GET', `/images/${KEY}/card`);
      expect([response.statusCode, errorCode(response)]).toEqual([422, 'UNSUPPORTED_FORMAT']);
      expect(ports.items.get(IMAGE_ID)![renderLockAttribute('card')]).toBeUndefined();
    });
  });

  describe('the Lambda handler', () => {
    it('reads payload format 2.0 (named stage, base64 body) and answers 500 without detail when a port fails', async () => {
      const handler = createApiHandler({ env: ENV, ports, dependencies: { render: countingRender } });
      const upload = await handler({
        rawPath: '/prod/uploads',
        body: Buffer.from(JSON.stringify({ filename: 'a.jpg', contentType: 'image/jpeg', bytes: 10 })).toString('base64'),
        isBase64Encoded: true,
        requestContext: { http: { method: 'POST' }, domainName: 'abc.execute-api.eu-west-1.amazonaws.com', stage: 'prod', requestId: 'r1' },
      });
      seen.push(upload);
      expect(upload.statusCode).toBe(201);
      expect(json(upload).statusUrl).toMatch(/^https:\/\/abc\.execute-api\.eu-west-1\.amazonaws\.com\/prod\/images\/uploads\/a-/);

      ports.getItem = () => Promise.reject(new Error('secret internal detail'));
      const failed = await handler({ rawPath: `/images/${KEY}`, requestContext: { http: { method: 'GET' }, stage: '$default' } });
      seen.push(failed);
      expect(failed.statusCode).toBe(500);
      expect(failed.body).not.toMatch(/secret|at /);
      expect(json(failed).error).toMatchObject({ code: 'INTERNAL' });
    });

    it('answers 500 INTERNAL when its settings are invalid', async () => {
      const handler = createApiHandler({ env: { ...ENV, SOURCE_BUCKET: '' }, ports });
      const response = await handler({ rawPath: '/uploads', requestContext: { http: { method: 'POST' } } });
      expect([response.statusCode, errorCode(response)]).toEqual([500, 'INTERNAL']);
    });
  });

  // Last in the file's order (vitest runs a file's tests in sequence), so it sees every response above.
  it("keeps every response under Lambda's 6 MB limit: bodies are JSON text, never image bytes", () => {
    expectTypeOf<ApiResponse['body']>().toEqualTypeOf<string>();
    expect(seen.length).toBeGreaterThan(40);
    for (const response of seen) {
      expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(SIX_MB);
      if (response.statusCode === 302) expect(response.body).toBe('');
      else expect(() => JSON.parse(response.body) as unknown).not.toThrow();
    }
  });
});

describe('the presigned POST policy (the real presigner, offline)', () => {
  it('limits the size to 1..bytes, pins the key and the content type, and expires in 300 s', async () => {
    // Presigning is local computation: dummy credentials, and no request is sent.
    const s3 = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }));
    const ports = awsApiPorts({ s3, documents }, 'meta');
    const before = Date.now();
    const post = await ports.presignPost({ bucket: 'in', key: 'uploads/a-1.jpg', contentType: 'image/jpeg', maxBytes: 1024 * 1024, expiresInSeconds: 300 });
    const policy = JSON.parse(Buffer.from(post.fields.Policy ?? '', 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['content-length-range', 1, 1024 * 1024],
        ['eq', '$Content-Type', 'image/jpeg'],
        { bucket: 'in' },
        { key: 'uploads/a-1.jpg' },
      ]),
    );
    const expiresIn = (Date.parse(policy.expiration) - before) / 1000;
    expect(expiresIn).toBeGreaterThan(295);
    expect(expiresIn).toBeLessThanOrEqual(301);
    expect(post.fields).toMatchObject({ key: 'uploads/a-1.jpg', 'Content-Type': 'image/jpeg' });
    expect(post.fields['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
    s3.destroy();
  });
});

describe('API settings and presets', () => {
  it('reads presets after the sizes, with optional formats', () => {
    expect(parsePresets('card=600x400:webp, hero=1600X900:JPG', [{ name: 'thumb', width: 200, height: 200 }])).toEqual([
      { name: 'thumb', width: 200, height: 200 },
      { name: 'card', width: 600, height: 400, format: 'webp' },
      { name: 'hero', width: 1600, height: 900, format: 'jpeg' },
    ]);
  });

  it('refuses bad presets and settings, naming the variable', () => {
    for (const spec of ['thumb=10x10', 'card', 'card=0x10', 'card=10x10:bmp', 'Card=10x10', 'a=1x1,a=2x2']) {
      expect(() => loadApiSettings({ ...ENV, SIZES: 'thumb=1x1', PRESETS: spec }), spec).toThrow(/PRESETS/);
    }
    expect(() => loadApiSettings({ ...ENV, SOURCE_BUCKET: undefined })).toThrow(InvalidSettingError);
    expect(() => loadApiSettings({ ...ENV, UPLOAD_PREFIX: '../x' })).toThrow(/UPLOAD_PREFIX/);
    expect(() => loadApiSettings({ ...ENV, UPLOAD_PREFIX: 'resized/' })).toThrow(/outputs/);
    expect(() => loadApiSettings({ ...ENV, CDN_BASE_URL: 'http://cdn.example.com' })).toThrow(/https/);
    expect(loadApiSettings({ ...ENV, UPLOAD_PREFIX: 'in' }).uploadPrefixes).toEqual(['in/', 'avatars/']);
  });

  it('reads CDN_BASE_URL by one rule in the function and the API handler: https, http only on the local stack', () => {
    const readers = {
      function: (url: string) => loadFunctionSettings({ ...ENV, CDN_BASE_URL: url }).cdnBaseUrl,
      api: (url: string) => loadApiSettings({ ...ENV, CDN_BASE_URL: url }).cdnBaseUrl,
    };
    for (const [caller, read] of Object.entries(readers)) {
      expect(read('https://d111.cloudfront.net/'), caller).toBe('https://d111.cloudfront.net');
      expect(read('https://img.example.com/images'), caller).toBe('https://img.example.com/images');
      // The local CloudFront emulator's address (src/provision/cdn-address.ts), and loopback.
      expect(read('http://d111.cloudfront.localhost:4566'), caller).toBe('http://d111.cloudfront.localhost:4566');
      expect(read('http://127.0.0.1:4566/'), caller).toBe('http://127.0.0.1:4566');
      for (const refused of ['http://example.com', 'http://localhost.example.com', 'https://img.example.com/?x=1', 'https://u:p@img.example.com', 'ftp://img.example.com']) {
        expect(() => read(refused), `${caller} ${refused}`).toThrow(InvalidSettingError);
        expect(() => read(refused), `${caller} ${refused}`).toThrow(`CDN_BASE_URL: "${refused}" is not ${BASE_URL_RULE.expected}.`);
      }
    }
    expect(BASE_URL_RULE.expected).toMatch(/https/);
    // API_BASE_URL, the API's own address, by the same rule.
    expect(loadApiSettings({ ...ENV, API_BASE_URL: 'http://api.localhost:4566/' }).baseUrl).toBe('http://api.localhost:4566');
    expect(() => loadApiSettings({ ...ENV, API_BASE_URL: 'http://api.example.com' })).toThrow(`API_BASE_URL: "http://api.example.com" is not ${BASE_URL_RULE.expected}.`);
  });

  it('builds the API function environment from the function one, validated', () => {
    const fn = functionEnvironment({ destBucket: 'out', table: 'meta', sourceBucket: 'in', sizes: 'thumb=200x200' });
    const env = apiEnvironment(fn, { presets: 'card=600x400:webp', uploadPrefixes: ['avatars/'], renderWaitMs: 5000 });
    expect(env).toMatchObject({ SOURCE_BUCKET: 'in', SIZES: 'thumb=200x200', PRESETS: 'card=600x400:webp', UPLOAD_PREFIXES: 'avatars/', RENDER_WAIT_MS: '5000' });
    expect(env.CDN_BASE_URL).toBeUndefined();
    expect(() => apiEnvironment(fn, { presets: 'thumb=1x1' })).toThrow(/PRESETS/);
    expect(() => apiEnvironment(functionEnvironment({ destBucket: 'out', table: 'meta' }), {})).toThrow(/SOURCE_BUCKET/);
  });
});
