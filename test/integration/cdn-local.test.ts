import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetDistributionCommand, ListOriginAccessControlsCommand } from '@aws-sdk/client-cloudfront';
import type { AwsClients } from '../../src/aws/clients.js';
import { getBucketPolicy } from '../../src/aws/bucket-policy.js';
import { executeInit } from '../../src/commands/init.js';
import { executeStatus } from '../../src/commands/status.js';
import { executeDestroy } from '../../src/commands/destroy.js';
import { ExitCode } from '../../src/errors.js';
import { CDN_READ_SID, TLS_ONLY_SID } from '../../src/provision/bucket-policy.js';
import { fetchThroughCdn } from '../../src/provision/cdn-address.js';
import { parsePolicyDocument } from '../../src/provision/policy.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { imageIdFor } from '../../lambda-src/core/image-id.js';
import { localTestContext } from '../helpers/context.js';
import { deployTestStack, testArtifacts, type DeployedTestStack } from '../helpers/deploy.js';
import { photo } from '../helpers/images.js';
import { poll } from '../helpers/poll.js';

let stack: DeployedTestStack;
let clients: AwsClients;
let item: MetadataItem;
const SOURCE_KEY = 'cdn/garden photo.jpg';

async function policySids(bucket: string): Promise<string[]> {
  const doc = parsePolicyDocument((await getBucketPolicy(clients.s3, bucket)) ?? undefined) as { Statement?: { Sid?: string }[] } | undefined;
  return (doc?.Statement ?? []).map((s) => s.Sid ?? '').sort();
}

beforeAll(async () => {
  stack = await deployTestStack({ cdn: true, sizes: 'small=120x80,large=400x300', waitCdn: true, cdnWait: { intervalMs: 200 } });
  clients = await stack.context.clients();
  await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.sourceBucket, Key: SOURCE_KEY, Body: await photo(800, 600), ContentType: 'image/jpeg' }));
  item = await poll('the item', async () => {
    const got = await clients.documents.send(new GetCommand({ TableName: stack.settings.table, Key: { ImageID: imageIdFor(stack.settings.sourceBucket, SOURCE_KEY) } }));
    const found = got.Item as MetadataItem | undefined;
    return found?.Status === 'SUCCEEDED' ? found : undefined;
  });
}, 240_000);
afterAll(() => {
  stack.context.close();
});

describe('init --cdn on the local stack', () => {
  it('creates the distribution, then the bucket policies, before the function', () => {
    const ids = stack.result.steps.map((s) => `${s.id}:${s.status}`);
    expect(ids.slice(0, 6)).toEqual([
      'identity:unchanged',
      'source-bucket:applied',
      'dest-bucket:applied',
      'cdn:applied',
      'source-bucket-policy:applied',
      'dest-bucket-policy:applied',
    ]);
    expect(stack.result.steps.find((s) => s.id === 'cdn')?.changes.join('\n')).toMatch(/create distribution: origin .*\.s3\.us-east-1\.amazonaws\.com/);
  });

  it('configures the distribution: one OAC-signed S3 origin, HTTPS redirect, HTTP/2+3, compression, managed policies', async () => {
    const cdn = stack.result.steps.find((s) => s.id === 'cdn');
    expect(cdn?.detail).toBe('Deployed');
    const url = new URL(item.Outputs[0]?.Url ?? '');
    const label = url.hostname.split('.')[0] ?? '';
    const oacs = await clients.cloudfront.send(new ListOriginAccessControlsCommand({}));
    const oac = oacs.OriginAccessControlList?.Items?.find((o) => o.Name === `img-resizer-${stack.settings.stackName}`);
    expect(oac).toMatchObject({ SigningBehavior: 'always', SigningProtocol: 'sigv4', OriginAccessControlOriginType: 's3' });
    const { Distribution } = await clients.cloudfront.send(new GetDistributionCommand({ Id: await distributionId() }));
    const config = Distribution?.DistributionConfig;
    expect(Distribution?.DomainName).toBe(`${label}.cloudfront.net`);
    expect(config?.Origins?.Items).toHaveLength(1);
    expect(config?.Origins?.Items?.[0]).toMatchObject({ DomainName: `${stack.settings.destBucket}.s3.us-east-1.amazonaws.com`, OriginAccessControlId: oac?.Id });
    expect(config?.DefaultCacheBehavior).toMatchObject({
      ViewerProtocolPolicy: 'redirect-to-https',
      Compress: true,
      CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
      ResponseHeadersPolicyId: '67f7725c-6f97-4210-82d7-5512b31e9d03',
    });
    expect(config).toMatchObject({ HttpVersion: 'http2and3', PriceClass: 'PriceClass_100', Enabled: true });
  });

  it('writes the TLS-only statement on both buckets and the scoped read statement on the destination only', async () => {
    expect(await policySids(stack.settings.sourceBucket)).toEqual([TLS_ONLY_SID]);
    expect(await policySids(stack.settings.destBucket)).toEqual([CDN_READ_SID, TLS_ONLY_SID].sort());
  });

  it('serves each output through the distribution with its bytes, Content-Type, Cache-Control and nosniff', async () => {
    expect(item.Outputs).toHaveLength(2);
    for (const output of item.Outputs) {
      expect(output.Url).toMatch(/^http:\/\/d[a-z0-9]+\.cloudfront\.localhost:\d+\/resized\//);
      const response = await fetchThroughCdn(output.Url ?? '');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('image/png');
      expect(response.headers['cache-control']).toBe('public, max-age=86400');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      const viaCdn = response.body;
      const direct = await clients.s3.send(new GetObjectCommand({ Bucket: stack.settings.destBucket, Key: output.Key }));
      expect(viaCdn.equals(Buffer.from(await direct.Body!.transformToByteArray()))).toBe(true);
    }
  });

  it('does not reach source objects, or destination objects outside resized*', async () => {
    const base = new URL(item.Outputs[0]?.Url ?? '').origin;
    await clients.s3.send(new PutObjectCommand({ Bucket: stack.settings.destBucket, Key: 'private/notes.txt', Body: 'secret' }));
    expect((await fetchThroughCdn(`${base}/private/notes.txt`)).status).toBe(403);
    expect((await fetchThroughCdn(`${base}/${encodeURI(SOURCE_KEY)}`)).status).toBe(403);
  });

  it('a second init changes nothing', async () => {
    const again = await localTestContext({}, stack.cwd);
    const result = await executeInit(again.context, { artifacts: await testArtifacts() });
    again.context.close();
    expect(result.steps.filter((s) => s.action !== 'no-op').map((s) => `${s.id}: ${s.reason}`)).toEqual([]);
    expect(again.recorder.mutating()).toEqual([]);
  });

  it('status checks the chain; with the read statement removed the CDN answers 403 and status exits 3', async () => {
    const ok = await localTestContext({}, stack.cwd);
    const good = await executeStatus(ok.context);
    ok.context.close();
    expect(good.links.filter((l) => !l.ok)).toEqual([]);
    expect(good.links.map((l) => l.link)).toEqual(expect.arrayContaining(['CDN enabled and deployed', 'CDN origin → destination bucket', 'origin access control attached', 'bucket policy → distribution', 'an output through the CDN']));
    expect(good.exitCode).toBe(ExitCode.Ok);

    const doc = parsePolicyDocument((await getBucketPolicy(clients.s3, stack.settings.destBucket)) ?? undefined) as { Statement: { Sid?: string }[] };
    const without = { ...doc, Statement: doc.Statement.filter((s) => s.Sid !== CDN_READ_SID) };
    await clients.s3.send(new PutBucketPolicyCommand({ Bucket: stack.settings.destBucket, Policy: JSON.stringify(without) }));
    expect((await fetchThroughCdn(item.Outputs[0]?.Url ?? '')).status).toBe(403);

    const drift = await localTestContext({}, stack.cwd);
    const drifted = await executeStatus(drift.context);
    drift.context.close();
    expect(drifted.exitCode).toBe(ExitCode.Drift);
    expect(drifted.links.filter((l) => !l.ok).map((l) => l.link)).toEqual(['bucket policy → distribution', 'an output through the CDN']);

    const fix = await localTestContext({}, stack.cwd);
    const fixed = await executeInit(fix.context, { artifacts: await testArtifacts() });
    fix.context.close();
    expect(fixed.steps.find((s) => s.id === 'dest-bucket-policy')?.changes).toEqual([`add statement ${CDN_READ_SID}`]);
    expect((await fetchThroughCdn(item.Outputs[0]?.Url ?? '')).status).toBe(200);
  });
});

describe('a changed CDN setting', () => {
  it('updates the distribution in place (with its ETag), field by field, then converges again', async () => {
    const id = await distributionId();
    const test = await localTestContext({}, stack.cwd);
    const result = await executeInit(test.context, { artifacts: await testArtifacts(), cdnPriceClass: 'PriceClass_All' });
    test.context.close();
    expect(result.steps.filter((s) => s.action !== 'no-op').map((s) => `${s.id}: ${s.changes.join('; ')}`)).toEqual(['cdn: priceClass PriceClass_100 → PriceClass_All']);
    expect(test.recorder.mutating().map((r) => `${r.service}:${r.operation}`)).toEqual(['cloudfront:UpdateDistribution']);
    const { Distribution } = await clients.cloudfront.send(new GetDistributionCommand({ Id: id }));
    expect(Distribution?.DistributionConfig?.PriceClass).toBe('PriceClass_All');
    const again = await localTestContext({}, stack.cwd);
    const second = await executeInit(again.context, { artifacts: await testArtifacts() });
    again.context.close();
    expect(second.upToDate).toBe(true);
  });
});

async function distributionId(): Promise<string> {
  const url = new URL(item.Outputs[0]?.Url ?? '');
  const label = url.hostname.split('.')[0] ?? '';
  const { findDistribution } = await import('../../src/aws/cloudfront.js');
  const found = await findDistribution(clients.cloudfront, `img-resizer stack ${stack.settings.stackName}`);
  expect(found?.distribution.DomainName).toBe(`${label}.cloudfront.net`);
  return found?.distribution.Id ?? '';
}

describe('destroy with a CDN', () => {
  it('--no-wait disables and leaves the distribution; a second destroy deletes it, the OAC and our statements', async () => {
    const id = await distributionId();
    const first = await localTestContext({}, stack.cwd);
    const partial = await executeDestroy(first.context, { noWait: true, keepBuckets: true });
    first.context.close();
    expect(partial.steps.find((s) => s.id === 'cdn')?.changes).toEqual([`disable distribution ${id}`]);
    const disabled = await clients.cloudfront.send(new GetDistributionCommand({ Id: id }));
    expect(disabled.Distribution?.DistributionConfig?.Enabled).toBe(false);

    const second = await localTestContext({}, stack.cwd);
    const done = await executeDestroy(second.context, { keepBuckets: true, cdnWait: { intervalMs: 200 } });
    second.context.close();
    expect(done.steps.find((s) => s.id === 'cdn')?.changes.join('\n')).toMatch(new RegExp(`delete distribution ${id}[\\s\\S]*delete origin access control`));
    await expect(clients.cloudfront.send(new GetDistributionCommand({ Id: id }))).rejects.toThrow();
    // Kept buckets lose only the stack's statements (here: all there were, so the policy goes).
    expect(await policySids(stack.settings.destBucket)).toEqual([]);
  });
});
