import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DetectLabelsCommand, RekognitionClient, type DetectLabelsCommandInput } from '@aws-sdk/client-rekognition';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rekognitionPort } from '../../lambda-src/aws-ports.js';
import { REKOGNITION_MAX_BYTES } from '../../lambda-src/core/content-analysis.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { processRecord, type PutObjectRequest, type RecordPorts, type SourceObject } from '../../lambda-src/core/process-record.js';
import { loadFunctionSettings } from '../../lambda-src/core/settings.js';
import { freePort } from '../../src/local/ministack.js';
import { startMoto, stopMoto, type MotoServer } from '../../src/local/moto.js';
import { captureInputs } from '../helpers/request-recorder.js';
import { corpusFiles, readCorpusFile } from '../helpers/corpus.js';

/**
 * The Rekognition wire protocol against moto's server (MiniStack has no Rekognition). moto's labels are
 * canned: this proves the request, the response parsing and the stored shape, not the labels' truth. S3 and
 * DynamoDB are in memory here; their wire protocol has its own tests on MiniStack.
 */
describe('labels over the Rekognition wire protocol (moto)', () => {
  let moto: MotoServer;
  let logDir: string;
  let client: RekognitionClient;

  beforeAll(async () => {
    logDir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-moto-'));
    moto = await startMoto({ port: await freePort(), logDir, startTimeoutMs: 120_000 });
    client = new RekognitionClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  afterAll(async () => {
    client.destroy();
    stopMoto(moto);
    await rm(logDir, { recursive: true, force: true });
  });

  it('sends the largest output (under 5 MB, not the 16 MB source) and stores Labels as {Name, Confidence, Parents}', async () => {
    // captureInputs is typed for the CLI's clients; the Rekognition client has the same middleware stack.
    const sent = captureInputs<DetectLabelsCommandInput>(client as unknown as Parameters<typeof captureInputs>[0], 'DetectLabelsCommand');
    const largest = (await corpusFiles()).find((file) => file.name === 'Elephants_5640x3172.jpg');
    if (!largest) throw new Error('the corpus lacks Elephants_5640x3172.jpg');
    const source = await readCorpusFile(largest);
    expect(source.length).toBeGreaterThan(REKOGNITION_MAX_BYTES);

    const items: MetadataItem[] = [];
    const puts: PutObjectRequest[] = [];
    const ports: RecordPorts = {
      getObject: (): Promise<SourceObject> =>
        Promise.resolve({
          contentLength: source.length,
          eTag: createHash('md5').update(source).digest('hex'),
          lastModified: new Date('2025-01-01T00:00:00Z'),
          read: () => Promise.resolve(source),
          discard: () => undefined,
        }),
      putObject: (request) => {
        puts.push(request);
        return Promise.resolve();
      },
      putItem: (item) => {
        items.push(item);
        return Promise.resolve();
      },
      contentAnalysis: rekognitionPort(client),
    };
    const settings = loadFunctionSettings({
      DEST_BUCKET: 'resized',
      TABLE_NAME: 'images',
      SOURCE_BUCKET: 'uploads',
      SIZES: 'large=2048x2048,thumb=200x200',
      OUTPUT_FORMAT: 'jpeg',
      FIT: 'inside',
      LABELS: 'on',
    });
    const result = await processRecord(
      { bucket: 'uploads', key: 'elephants.jpg', rawKey: 'elephants.jpg', eventName: 'ObjectCreated:Put', size: undefined, eTag: undefined, sequencer: undefined },
      settings,
      ports,
    );
    expect(result.status).toBe('SUCCEEDED');

    expect(sent).toHaveLength(1);
    const bytes = sent[0]?.Image?.Bytes;
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes!.length).toBeLessThan(REKOGNITION_MAX_BYTES);
    expect(await sharp(bytes).metadata()).toMatchObject({ format: 'jpeg', width: 2048 });
    expect(Buffer.from(bytes!).equals(puts.find((put) => put.key.includes('/large/'))!.body)).toBe(true);
    expect(sent[0]).toMatchObject({ MinConfidence: 70, MaxLabels: 10 });

    const labels = items[0]?.Labels;
    expect(labels?.length).toBeGreaterThan(0);
    for (const label of labels ?? []) {
      expect(Object.keys(label).sort()).toEqual(['Confidence', 'Name', 'Parents']);
      expect(typeof label.Name).toBe('string');
      expect(label.Confidence).toBeGreaterThan(0);
      expect(label.Confidence).toBeLessThanOrEqual(100);
      expect(Array.isArray(label.Parents)).toBe(true);
    }
    // Sorted most confident first.
    expect([...(labels ?? [])].sort((a, b) => b.Confidence - a.Confidence)).toEqual(labels);
  });

  it('moto answers DetectLabels on a raw call too (the server honours the JSON 1.1 protocol)', async () => {
    const response = await client.send(new DetectLabelsCommand({ Image: { Bytes: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).jpeg().toBuffer() } }));
    expect(response.Labels?.[0]?.Name).toBeTypeOf('string');
  });
});
