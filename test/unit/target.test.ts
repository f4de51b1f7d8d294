import { describe, expect, it } from 'vitest';
import { resolveTarget, localTarget, hasEndpointOverrideInEnv } from '../../src/aws/target.js';
import { AwsClients } from '../../src/aws/clients.js';
import { UsageError } from '../../src/errors.js';

describe('resolveTarget', () => {
  it('prefers --region, then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(resolveTarget({ region: 'eu-west-1' }, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('eu-west-1');
    expect(resolveTarget({}, { AWS_REGION: 'us-east-2', AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('us-east-2');
    expect(resolveTarget({}, { AWS_DEFAULT_REGION: 'ap-south-1' }).region).toBe('ap-south-1');
    expect(resolveTarget({}, {}).region).toBeUndefined();
  });

  it('treats --endpoint-url and AWS_ENDPOINT_URL* as overrides', () => {
    expect(resolveTarget({ endpointUrl: 'http://127.0.0.1:9000' }, {})).toMatchObject({ kind: 'endpoint', endpointOverridden: true });
    expect(hasEndpointOverrideInEnv({ AWS_ENDPOINT_URL_S3: 'http://x' })).toBe(true);
    expect(resolveTarget({}, { AWS_ENDPOINT_URL: 'http://x:1' })).toMatchObject({ kind: 'endpoint', endpoint: undefined, endpointOverridden: true });
    expect(resolveTarget({}, {})).toMatchObject({ kind: 'aws', endpointOverridden: false });
  });

  it('rejects an endpoint that is not an http(s) URL', () => {
    expect(() => resolveTarget({ endpointUrl: 'localhost:4566' }, {})).toThrow(UsageError);
    expect(() => resolveTarget({ endpointUrl: 'not a url' }, {})).toThrow(UsageError);
  });

  it('uses dummy credentials and us-east-1 for the local stack', () => {
    const target = localTarget('http://127.0.0.1:4566', {}, {});
    expect(target).toMatchObject({ kind: 'local', region: 'us-east-1', endpoint: 'http://127.0.0.1:4566' });
    expect(target.credentials?.accessKeyId).toBe('test');
  });
});

describe('AwsClients', () => {
  it('switches S3 to path style and checksums to when-required under an endpoint override', async () => {
    const clients = new AwsClients(localTarget('http://127.0.0.1:4566', {}, {}));
    expect(clients.s3.config.forcePathStyle).toBe(true);
    expect(await clients.s3.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
    expect(await clients.s3.config.region()).toBe('us-east-1');
    clients.destroy();
  });

  it('keeps virtual-hosted S3 on real AWS', () => {
    const clients = new AwsClients(resolveTarget({ region: 'eu-west-1' }, {}));
    expect(clients.s3.config.forcePathStyle).toBe(false);
    clients.destroy();
  });
});
