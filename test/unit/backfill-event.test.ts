import { describe, expect, it } from 'vitest';
import { synthesizeS3Event } from '../../src/operations/s3-event.js';

/** The example record of AWS's documentation ("Event message structure", S3 User Guide), structure 2.1. */
const AWS_EXAMPLE = {
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-west-2',
      eventTime: '1970-01-01T00:00:00.000Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AIDAJDPLRKLG7UEXAMPLE' },
      requestParameters: { sourceIPAddress: '172.16.0.1' },
      responseElements: { 'x-amz-request-id': 'C3D13FE58DE4C810', 'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'testConfigRule',
        bucket: { name: 'amzn-s3-demo-bucket', ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: 'arn:aws:s3:::amzn-s3-demo-bucket' },
        object: { key: 'HappyFace.jpg', size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
      },
    },
  ],
};

/** Every property path with the type of its value, e.g. "Records.0.s3.object.size:number". */
function shape(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => shape(v, `${prefix}${i}.`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => shape(v, `${prefix}${k}.`));
  }
  return [`${prefix.slice(0, -1)}:${typeof value}`];
}

describe('synthesizeS3Event', () => {
  const now = new Date('2025-02-03T04:05:06.789Z');
  const event = synthesizeS3Event(
    { key: 'photos/été 2024/a+b (1).jpg', bytes: 12_345, eTag: '0123456789abcdef0123456789abcdef' },
    { bucket: 'src-bucket', region: 'eu-west-1', partition: 'aws', principalId: 'img-resizer-backfill', configurationId: 'img-resizer-backfill', now },
  );

  it('has exactly the shape of the record S3 sends', () => {
    expect(shape(event).sort()).toEqual(shape(AWS_EXAMPLE).sort());
  });

  it('carries the object, bucket, region and time', () => {
    const record = event.Records[0]!;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: '2025-02-03T04:05:06.789Z',
      eventName: 'ObjectCreated:Put',
    });
    expect(record.s3.bucket).toEqual({ name: 'src-bucket', ownerIdentity: { principalId: 'img-resizer-backfill' }, arn: 'arn:aws:s3:::src-bucket' });
    expect(record.s3.object.size).toBe(12_345);
    expect(record.s3.object.eTag).toBe('0123456789abcdef0123456789abcdef');
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]{16,}$/);
  });

  it('encodes the key as S3 does: form encoding, space as "+", slashes kept', () => {
    const key = event.Records[0]!.s3.object.key;
    expect(key).toBe('photos/%C3%A9t%C3%A9+2024/a%2Bb+%281%29.jpg');
    expect(decodeURIComponent(key.replace(/\+/g, ' '))).toBe('photos/été 2024/a+b (1).jpg');
  });
});
