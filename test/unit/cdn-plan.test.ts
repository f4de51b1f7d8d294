import { describe, expect, it } from 'vitest';
import type { Distribution } from '@aws-sdk/client-cloudfront';
import type { StackSettings } from '../../src/config/settings.js';
import {
  applyShape,
  desiredShape,
  planCdn,
  planCdnRemoval,
  type ObservedCdn,
} from '../../src/provision/cdn.js';
import {
  CDN_READ_SID,
  TLS_ONLY_SID,
  cdnReadStatement,
  desiredStatements,
  mergePolicy,
  planBucketPolicy,
  planBucketPolicyRemoval,
  tlsOnlyStatement,
} from '../../src/provision/bucket-policy.js';
import { localCdnBaseUrl } from '../../src/provision/cdn-address.js';
import { outputUrl } from '../../lambda-src/core/metadata.js';

const settings: StackSettings = {
  stackName: 'shop',
  sourceBucket: 'shop-src',
  destBucket: 'shop-dest',
  table: 'shop-metadata',
  functionName: 'shop-resize',
  roleName: 'shop-role',
  layerName: 'shop-sharp',
  sizes: 'thumbnail=200x200',
  format: 'png',
  fit: 'cover',
  arch: 'x86_64',
  memory: 1024,
  timeout: 60,
  cdn: true,
  cdnPriceClass: 'PriceClass_100',
};

function deployed(overrides: Partial<StackSettings> = {}, status = 'Deployed', enabled = true): ObservedCdn {
  const config = applyShape({}, desiredShape({ ...settings, ...overrides }, 'eu-west-1', 'OAC1'), 'ref', 'img-resizer stack shop');
  const distribution: Distribution = {
    Id: 'E123',
    ARN: 'arn:aws:cloudfront::111122223333:distribution/E123',
    DomainName: 'd111.cloudfront.net',
    Status: status,
    LastModifiedTime: new Date(),
    InProgressInvalidationBatches: 0,
    DistributionConfig: { ...config, Enabled: enabled },
  };
  return { oac: { Id: 'OAC1', Name: 'img-resizer-shop', Description: '', SigningBehavior: 'always', SigningProtocol: 'sigv4', OriginAccessControlOriginType: 's3' }, distribution: { distribution, etag: 'ETAG1' } };
}

describe('CDN plan', () => {
  it('creates the OAC and the distribution when neither exists, and waits only with --wait-cdn', () => {
    const plan = planCdn(settings, 'eu-west-1', { oac: undefined, distribution: undefined }, { wait: false });
    expect(plan.action).toBe('create');
    expect(plan.ops).toEqual([
      { kind: 'create-oac', name: 'img-resizer-shop' },
      { kind: 'create-distribution', origin: 'shop-dest.s3.eu-west-1.amazonaws.com', priceClass: 'PriceClass_100', aliases: [] },
    ]);
    expect(planCdn(settings, 'eu-west-1', { oac: undefined, distribution: undefined }, { wait: true }).ops.at(-1)).toEqual({ kind: 'wait-cdn-deployed', status: 'InProgress' });
  });

  it('is a no-op when the distribution matches, and says when it is still deploying', () => {
    expect(planCdn(settings, 'eu-west-1', deployed(), { wait: false })).toMatchObject({ action: 'no-op', reason: 'Deployed at d111.cloudfront.net' });
    expect(planCdn(settings, 'eu-west-1', deployed({}, 'InProgress'), { wait: false })).toMatchObject({ action: 'no-op', reason: expect.stringMatching(/^InProgress: CloudFront is deploying/) as unknown });
    expect(planCdn(settings, 'eu-west-1', deployed({}, 'InProgress'), { wait: true }).ops).toEqual([{ kind: 'wait-cdn-deployed', status: 'InProgress' }]);
  });

  it('updates changed settings, one line per field', () => {
    const observed = deployed();
    const changed = { ...settings, cdnPriceClass: 'PriceClass_All' as const, cdnAliases: 'img.example.com', cdnCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc' };
    const plan = planCdn(changed, 'eu-west-1', observed, { wait: false });
    expect(plan.ops).toEqual([
      {
        kind: 'update-distribution',
        changes: [
          { field: 'priceClass', from: 'PriceClass_100', to: 'PriceClass_All' },
          { field: 'aliases', from: '(none)', to: 'img.example.com' },
          { field: 'certificateArn', from: '(none)', to: 'arn:aws:acm:us-east-1:111122223333:certificate/abc' },
        ],
      },
    ]);
  });

  it('notices a drifted behaviour (HTTP allowed, no compression, OAC detached)', () => {
    const observed = deployed();
    const config = observed.distribution!.distribution.DistributionConfig!;
    config.DefaultCacheBehavior = { ...config.DefaultCacheBehavior!, ViewerProtocolPolicy: 'allow-all', Compress: false };
    config.Origins!.Items![0]!.OriginAccessControlId = '';
    const fields = planCdn(settings, 'eu-west-1', observed, { wait: false }).ops.flatMap((op) => (op.kind === 'update-distribution' ? op.changes.map((c) => c.field) : []));
    expect(fields).toEqual(['oacId', 'viewerProtocolPolicy', 'compress']);
  });

  it('leaves things alone when the CDN is off', () => {
    expect(planCdn({ ...settings, cdn: undefined }, 'eu-west-1', { oac: undefined, distribution: undefined }, { wait: false })).toMatchObject({ action: 'no-op' });
  });
});

describe('CDN removal plan', () => {
  it('disables, waits, deletes the distribution, then the OAC', () => {
    expect(planCdnRemoval(deployed(), { wait: true }).ops).toEqual([
      { kind: 'disable-distribution', id: 'E123' },
      { kind: 'wait-cdn-deployed', status: 'Enabled' },
      { kind: 'delete-distribution', id: 'E123' },
      { kind: 'delete-oac', id: 'OAC1' },
    ]);
  });

  it('with --no-wait only disables, and says how to finish', () => {
    const plan = planCdnRemoval(deployed(), { wait: false });
    expect(plan.ops).toEqual([{ kind: 'disable-distribution', id: 'E123' }]);
    expect(plan.reason).toMatch(/run `img-resizer destroy` again/);
    // Still deploying the disable: kept, with the same advice.
    expect(planCdnRemoval(deployed({}, 'InProgress', false), { wait: false })).toMatchObject({ action: 'no-op', kept: true, reason: expect.stringMatching(/again once it is Deployed/) as unknown });
    // Deployed disabled: a rerun deletes even with --no-wait.
    expect(planCdnRemoval(deployed({}, 'Deployed', false), { wait: false }).ops.map((op) => op.kind)).toEqual(['delete-distribution', 'delete-oac']);
  });

  it('is a no-op when everything is gone', () => {
    expect(planCdnRemoval({ oac: undefined, distribution: undefined }, { wait: true })).toMatchObject({ action: 'no-op', reason: 'already gone' });
  });
});

describe('bucket policy statements', () => {
  const bucketArn = 'arn:aws:s3:::shop-dest';
  const distributionArn = 'arn:aws:cloudfront::111122223333:distribution/E123';
  const operators = { Sid: 'OperatorRead', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/reader' }, Action: 's3:GetObject', Resource: `${bucketArn}/*` };

  it('renders TLS-only and a read statement scoped to resized* and the distribution', () => {
    expect(tlsOnlyStatement(bucketArn)).toEqual({
      Sid: TLS_ONLY_SID,
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucketArn, `${bucketArn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    expect(cdnReadStatement(bucketArn, distributionArn)).toEqual({
      Sid: CDN_READ_SID,
      Effect: 'Allow',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
      Resource: `${bucketArn}/resized*`,
      Condition: { StringEquals: { 'AWS:SourceArn': distributionArn } },
    });
    expect(desiredStatements({ bucketArn, adopted: true, cdnReadArn: undefined })).toEqual([]);
  });

  it('adds ours next to the operator\'s statements, keeps theirs, and converges', () => {
    const ours = desiredStatements({ bucketArn, adopted: false, cdnReadArn: distributionArn });
    const current = { Version: '2012-10-17', Statement: [operators] };
    const plan = planBucketPolicy(ours, { bucketExists: true, adopted: false, document: current });
    expect(plan.ops).toEqual([
      { kind: 'add-policy-statement', sid: TLS_ONLY_SID },
      { kind: 'add-policy-statement', sid: CDN_READ_SID },
    ]);
    const merged = mergePolicy(current, ours);
    expect(merged?.Statement.map((s) => s.Sid)).toEqual(['OperatorRead', TLS_ONLY_SID, CDN_READ_SID]);
    expect(planBucketPolicy(ours, { bucketExists: true, adopted: false, document: merged })).toMatchObject({ action: 'no-op' });
  });

  it('replaces a read statement naming another distribution, removes it when the CDN is off', () => {
    const old = mergePolicy(undefined, desiredStatements({ bucketArn, adopted: false, cdnReadArn: 'arn:aws:cloudfront::111122223333:distribution/EOLD' }));
    expect(planBucketPolicy(desiredStatements({ bucketArn, adopted: false, cdnReadArn: distributionArn }), { bucketExists: true, adopted: false, document: old }).ops).toEqual([
      { kind: 'replace-policy-statement', sid: CDN_READ_SID },
    ]);
    expect(planBucketPolicy(desiredStatements({ bucketArn, adopted: false, cdnReadArn: undefined }), { bucketExists: true, adopted: false, document: old }).ops).toEqual([
      { kind: 'remove-policy-statement', sid: CDN_READ_SID },
    ]);
  });

  it('removal takes only our statements, and deletes the policy only when nothing else is left', () => {
    const mixed = mergePolicy({ Version: '2012-10-17', Statement: [operators] }, desiredStatements({ bucketArn, adopted: false, cdnReadArn: distributionArn }));
    expect(planBucketPolicyRemoval({ bucketExists: true, adopted: false, document: mixed }).ops).toEqual([
      { kind: 'remove-policy-statement', sid: TLS_ONLY_SID },
      { kind: 'remove-policy-statement', sid: CDN_READ_SID },
    ]);
    expect(mergePolicy(mixed, [])?.Statement).toEqual([operators]);
    const onlyOurs = mergePolicy(undefined, desiredStatements({ bucketArn, adopted: false, cdnReadArn: undefined }));
    expect(planBucketPolicyRemoval({ bucketExists: true, adopted: false, document: onlyOurs }).ops.at(-1)).toEqual({ kind: 'delete-bucket-policy' });
    expect(planBucketPolicyRemoval({ bucketExists: false, adopted: false, document: undefined })).toMatchObject({ action: 'no-op', reason: 'already gone' });
  });
});

describe('CDN addresses', () => {
  it('are the local form on an emulator and the domain on AWS; keys are percent-encoded per segment', () => {
    expect(localCdnBaseUrl({ kind: 'local', endpoint: 'http://127.0.0.1:4566' }, 'd111abc.cloudfront.net')).toBe('http://d111abc.cloudfront.localhost:4566');
    expect(localCdnBaseUrl({ kind: 'aws', endpoint: undefined }, 'd111abc.cloudfront.net')).toBeUndefined();
    expect(outputUrl('https://img.example.com', 'resized/thumb/a b/ü.png')).toBe('https://img.example.com/resized/thumb/a%20b/%C3%BC.png');
  });
});
