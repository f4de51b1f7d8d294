// aws-sdk-client-mock here because the local emulator deploys a distribution instantly: on AWS a create, an
// update or a disable leaves it InProgress for minutes, and only a mock can show the loop polling through that.
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFrontClient, GetDistributionCommand, type DistributionConfig } from '@aws-sdk/client-cloudfront';
import { waitForDeployed } from '../../src/aws/cloudfront.js';
import { CliError } from '../../src/errors.js';

const config: DistributionConfig = {
  CallerReference: 'ref',
  Comment: 'img-resizer stack shop',
  Enabled: true,
  Origins: { Quantity: 0, Items: [] },
  DefaultCacheBehavior: { TargetOriginId: 'destination-bucket', ViewerProtocolPolicy: 'redirect-to-https' },
};

function distribution(status: string) {
  return { ETag: `E-${status}`, Distribution: { Id: 'E123', ARN: 'arn', DomainName: 'd1.cloudfront.net', Status: status, LastModifiedTime: new Date(), InProgressInvalidationBatches: 0, DistributionConfig: config } };
}

describe('waiting for a distribution to deploy', () => {
  it('polls while InProgress, reports progress, and returns the Deployed distribution with its ETag', async () => {
    const cloudfront = mockClient(CloudFrontClient);
    cloudfront
      .on(GetDistributionCommand)
      .resolvesOnce(distribution('InProgress'))
      .resolvesOnce(distribution('InProgress'))
      .resolves(distribution('Deployed'));
    const progress: string[] = [];
    const slept: number[] = [];
    const result = await waitForDeployed(new CloudFrontClient({ region: 'us-east-1' }), 'E123', {
      intervalMs: 20_000,
      progress: (text) => progress.push(text),
      sleep: (ms) => {
        slept.push(ms);
        return Promise.resolve();
      },
    });
    expect(result?.etag).toBe('E-Deployed');
    expect(progress).toEqual(['distribution E123 InProgress, waited 0 s', 'distribution E123 InProgress, waited 20 s']);
    expect(slept).toEqual([20_000, 20_000]);
    expect(cloudfront.commandCalls(GetDistributionCommand)).toHaveLength(3);
    cloudfront.restore();
  });

  it('gives up with a typed error that says a rerun continues', async () => {
    const cloudfront = mockClient(CloudFrontClient);
    cloudfront.on(GetDistributionCommand).resolves(distribution('InProgress'));
    const waiting = waitForDeployed(new CloudFrontClient({ region: 'us-east-1' }), 'E123', { intervalMs: 1_000, timeoutMs: 3_000, sleep: () => Promise.resolve() });
    await expect(waiting).rejects.toBeInstanceOf(CliError);
    await expect(waiting).rejects.toMatchObject({ code: 'CDN_DEPLOY_TIMEOUT', suggestion: expect.stringMatching(/run the command again/) as unknown });
    cloudfront.restore();
  });

  it('returns nothing when the distribution disappears while waiting', async () => {
    const cloudfront = mockClient(CloudFrontClient);
    const gone = Object.assign(new Error('gone'), { name: 'NoSuchDistribution' });
    cloudfront.on(GetDistributionCommand).resolvesOnce(distribution('InProgress')).rejects(gone);
    expect(await waitForDeployed(new CloudFrontClient({ region: 'us-east-1' }), 'E123', { sleep: () => Promise.resolve() })).toBeUndefined();
    cloudfront.restore();
  });
});
