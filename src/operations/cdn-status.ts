/** Status's checks of the delivery chain: distribution → OAC → bucket policy → an output answering through the CDN. */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ObservedBucketPolicy } from '../provision/bucket-policy.js';
import { CDN_READ_SID, cdnReadStatement } from '../provision/bucket-policy.js';
import { fetchThroughCdn } from '../provision/cdn-address.js';
import { bucketOriginDomain, cdnBaseUrl, type ObservedCdn } from '../provision/cdn.js';
import { policiesEqual } from '../provision/policy.js';
import type { RunStepResult } from '../provision/runner.js';
import type { StackModel } from '../provision/stack.js';
import type { AwsTarget } from '../aws/target.js';
import { errorMessage } from '../errors.js';
import { outputUrl } from '../../lambda-src/core/metadata.js';
import type { LinkCheck } from './status.js';

function observedOf(results: readonly RunStepResult[], id: string): unknown {
  return results.find((r) => r.id === id)?.observed;
}

/** The chain's static links, from what the steps observed. Pure. */
export function checkCdnLinks(stack: StackModel, results: readonly RunStepResult[]): LinkCheck[] {
  const cdn = (observedOf(results, 'cdn') as ObservedCdn | undefined);
  const distribution = cdn?.distribution?.distribution;
  const links: LinkCheck[] = [];
  if (!distribution) return [{ link: 'CDN distribution', ok: false, detail: 'does not exist (run `img-resizer init --cdn`)' }];
  const config = distribution.DistributionConfig;
  const enabled = config?.Enabled === true;
  const status = distribution.Status ?? 'unknown';
  links.push({ link: 'CDN enabled and deployed', ok: enabled && status === 'Deployed', detail: `${enabled ? 'enabled' : 'disabled'}, ${status}` });
  const origins = config?.Origins?.Items ?? [];
  const expected = bucketOriginDomain(stack.settings.destBucket, stack.region);
  links.push({
    link: 'CDN origin → destination bucket',
    ok: origins.length === 1 && origins[0]?.DomainName === expected,
    detail: origins.map((o) => o.DomainName ?? '?').join(', ') || 'no origin',
  });
  const oacId = cdn.oac?.Id;
  const attached = origins[0]?.OriginAccessControlId;
  links.push({
    link: 'origin access control attached',
    ok: oacId !== undefined && attached === oacId,
    detail: oacId === undefined ? 'no origin access control' : attached === oacId ? oacId : `origin uses ${attached === undefined || attached === '' ? 'none' : attached}`,
  });
  const policyId = stack.settings.sourceBucket === stack.settings.destBucket ? 'source-bucket-policy' : 'dest-bucket-policy';
  const policy = observedOf(results, policyId) as ObservedBucketPolicy | undefined;
  const statement = policy?.document?.Statement.find((s) => s.Sid === CDN_READ_SID);
  const scoped = statement !== undefined && distribution.ARN !== undefined && policiesEqual({ Statement: [statement] }, { Statement: [cdnReadStatement(stack.destBucketArn, distribution.ARN)] });
  links.push({
    link: 'bucket policy → distribution',
    ok: scoped,
    detail: statement === undefined ? `no ${CDN_READ_SID} statement on ${stack.settings.destBucket}` : scoped ? `${CDN_READ_SID}: resized* for ${distribution.ARN ?? '?'}` : `${CDN_READ_SID} is not scoped to resized* and this distribution`,
  });
  return links;
}

/** HEAD of one output through the CDN: the whole chain working, not just configured. */
export async function probeCdn(s3: S3Client, target: AwsTarget, stack: StackModel, results: readonly RunStepResult[]): Promise<LinkCheck> {
  const link = 'an output through the CDN';
  const domain = (observedOf(results, 'cdn') as ObservedCdn | undefined)?.distribution?.distribution.DomainName;
  if (!domain) return { link, ok: false, detail: 'no distribution' };
  try {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: stack.settings.destBucket, Prefix: 'resized', MaxKeys: 1 }));
    const key = listed.Contents?.[0]?.Key;
    if (key === undefined) return { link, ok: true, detail: 'no output yet to try' };
    const url = outputUrl(cdnBaseUrl(target, stack.settings, domain), key);
    const response = await fetchThroughCdn(url, 'HEAD');
    return { link, ok: response.status === 200, detail: `HEAD ${url} → ${response.status}` };
  } catch (error) {
    return { link, ok: false, detail: errorMessage(error) };
  }
}
