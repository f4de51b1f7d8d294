/**
 * The CDN: a CloudFront distribution whose only origin is the destination bucket, read through an Origin
 * Access Control (SigV4, always signing), so the bucket stays private. The bucket-policy step grants that
 * distribution, by ARN, read access to `resized*`.
 */
import type { CloudFrontClient, Distribution, DistributionConfig, OriginAccessControlSummary } from '@aws-sdk/client-cloudfront';
import {
  createDistribution,
  createOriginAccessControl,
  deleteDistribution,
  deleteOriginAccessControl,
  findDistribution,
  findOriginAccessControl,
  getDistribution,
  updateDistribution,
  waitForDeployed,
  type ObservedDistribution,
  type WaitOptions,
} from '../aws/cloudfront.js';
import type { AwsTarget } from '../aws/target.js';
import { cdnAliasList, DEFAULT_CDN_PRICE_CLASS, type StackSettings } from '../config/settings.js';
import { CliError } from '../errors.js';
import { localCdnBaseUrl } from './cdn-address.js';
import { noop, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';

/** AWS managed policies (same IDs in every account): CachingOptimized and SecurityHeadersPolicy. */
export const CACHING_OPTIMIZED_POLICY_ID = '658327ea-f89d-4fab-a63d-7e88639e58f6';
/** Sends X-Content-Type-Options: nosniff, plus HSTS, X-Frame-Options, Referrer-Policy and X-XSS-Protection. */
export const SECURITY_HEADERS_POLICY_ID = '67f7725c-6f97-4210-82d7-5512b31e9d03';
export const ORIGIN_ID = 'destination-bucket';

/** The distribution's Comment: how the stack finds its own distribution (IDs are assigned by CloudFront). */
export function distributionComment(stackName: string): string {
  return `img-resizer stack ${stackName}`;
}

export function oacName(stackName: string): string {
  return `img-resizer-${stackName}`;
}

/** The S3 REST endpoint CloudFront reaches the bucket at (regional, so no redirect on new buckets). */
export function bucketOriginDomain(bucket: string, region: string): string {
  return `${bucket}.s3.${region}.amazonaws.com`;
}

/** What we decide about the distribution, as one flat record so differences are easy to list. */
export interface DistributionShape {
  enabled: boolean;
  priceClass: string;
  httpVersion: string;
  ipv6: boolean;
  aliases: string[];
  certificateArn: string | undefined;
  originDomain: string;
  originCount: number;
  oacId: string | undefined;
  viewerProtocolPolicy: string;
  compress: boolean;
  cachePolicyId: string | undefined;
  responseHeadersPolicyId: string | undefined;
}

export function desiredShape(settings: StackSettings, region: string, oacId: string | undefined): DistributionShape {
  return {
    enabled: true,
    priceClass: settings.cdnPriceClass ?? DEFAULT_CDN_PRICE_CLASS,
    httpVersion: 'http2and3',
    ipv6: true,
    aliases: cdnAliasList(settings),
    certificateArn: settings.cdnCertificateArn,
    originDomain: bucketOriginDomain(settings.destBucket, region),
    originCount: 1,
    oacId,
    viewerProtocolPolicy: 'redirect-to-https',
    compress: true,
    cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
    responseHeadersPolicyId: SECURITY_HEADERS_POLICY_ID,
  };
}

export function observedShape(config: DistributionConfig): DistributionShape {
  const origin = config.Origins?.Items?.[0];
  const behavior = config.DefaultCacheBehavior;
  return {
    enabled: config.Enabled === true,
    priceClass: config.PriceClass ?? 'PriceClass_All',
    httpVersion: config.HttpVersion ?? 'http2',
    ipv6: config.IsIPV6Enabled === true,
    aliases: [...(config.Aliases?.Items ?? [])].map((a) => a.toLowerCase()).sort(),
    certificateArn: config.ViewerCertificate?.CloudFrontDefaultCertificate ? undefined : (config.ViewerCertificate?.ACMCertificateArn ?? undefined),
    originDomain: origin?.DomainName ?? '',
    originCount: config.Origins?.Items?.length ?? 0,
    oacId: nonEmpty(origin?.OriginAccessControlId),
    viewerProtocolPolicy: behavior?.ViewerProtocolPolicy ?? '',
    compress: behavior?.Compress === true,
    cachePolicyId: nonEmpty(behavior?.CachePolicyId),
    responseHeadersPolicyId: nonEmpty(behavior?.ResponseHeadersPolicyId),
  };
}

export interface ShapeChange {
  field: keyof DistributionShape;
  from: string;
  to: string;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function show(value: DistributionShape[keyof DistributionShape]): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  return value === undefined || value === '' ? '(none)' : String(value);
}

export function shapeDifferences(desired: DistributionShape, observed: DistributionShape): ShapeChange[] {
  const changes: ShapeChange[] = [];
  for (const field of Object.keys(desired) as (keyof DistributionShape)[]) {
    // An OAC still to be created has no ID yet; the create-oac op already says it changes.
    if (field === 'oacId' && desired.oacId === undefined) continue;
    if (show(desired[field]) !== show(observed[field])) changes.push({ field, from: show(observed[field]), to: show(desired[field]) });
  }
  return changes;
}

/** The shape written onto a configuration (the one CloudFront returned, so fields we do not decide are kept). */
export function applyShape(base: Partial<DistributionConfig>, shape: DistributionShape, callerReference: string, comment: string): DistributionConfig {
  const allowed = { Quantity: 2, Items: ['GET', 'HEAD'] as ('GET' | 'HEAD')[] };
  return {
    ...base,
    CallerReference: base.CallerReference ?? callerReference,
    Comment: comment,
    Enabled: shape.enabled,
    PriceClass: shape.priceClass as DistributionConfig['PriceClass'],
    HttpVersion: shape.httpVersion as DistributionConfig['HttpVersion'],
    IsIPV6Enabled: shape.ipv6,
    Aliases: { Quantity: shape.aliases.length, ...(shape.aliases.length > 0 ? { Items: shape.aliases } : {}) },
    ViewerCertificate:
      shape.certificateArn === undefined
        ? { CloudFrontDefaultCertificate: true }
        : { ACMCertificateArn: shape.certificateArn, SSLSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' },
    Origins: {
      Quantity: 1,
      Items: [
        {
          Id: ORIGIN_ID,
          DomainName: shape.originDomain,
          OriginPath: '',
          // Empty: no legacy Origin Access Identity; the OAC signs instead.
          S3OriginConfig: { OriginAccessIdentity: '' },
          OriginAccessControlId: shape.oacId ?? '',
        },
      ],
    },
    DefaultCacheBehavior: {
      ...base.DefaultCacheBehavior,
      TargetOriginId: ORIGIN_ID,
      ViewerProtocolPolicy: shape.viewerProtocolPolicy as 'redirect-to-https',
      Compress: shape.compress,
      AllowedMethods: { ...allowed, CachedMethods: allowed },
      ...(shape.cachePolicyId === undefined ? {} : { CachePolicyId: shape.cachePolicyId }),
      ...(shape.responseHeadersPolicyId === undefined ? {} : { ResponseHeadersPolicyId: shape.responseHeadersPolicyId }),
    },
  };
}

export interface ObservedCdn {
  oac: OriginAccessControlSummary | undefined;
  distribution: ObservedDistribution | undefined;
}

export type CdnOp =
  | { kind: 'create-oac'; name: string }
  | { kind: 'create-distribution'; origin: string; priceClass: string; aliases: string[] }
  | { kind: 'update-distribution'; changes: ShapeChange[] }
  | { kind: 'wait-cdn-deployed'; status: string };

export type CdnRemovalOp =
  | { kind: 'disable-distribution'; id: string }
  | { kind: 'wait-cdn-deployed'; status: string }
  | { kind: 'delete-distribution'; id: string }
  | { kind: 'delete-oac'; id: string };

export interface CdnStepOptions {
  /** init --wait-cdn / destroy without --no-wait: wait until CloudFront reports Deployed. */
  wait: boolean;
  waitOptions?: WaitOptions;
}

/** The base URL outputs are addressed by: the first alias, else the distribution's domain; on the local stack its local form. */
export function cdnBaseUrl(target: AwsTarget, settings: StackSettings, domainName: string): string {
  const local = localCdnBaseUrl(target, domainName);
  if (local !== undefined) return local;
  return `https://${cdnAliasList(settings)[0] ?? domainName}`;
}

function outputsOf(context: ProvisionContext, distribution: Distribution | undefined): StackOutputs {
  if (!distribution?.ARN || !distribution.Id || !distribution.DomainName) return {};
  return {
    distributionArn: distribution.ARN,
    distributionId: distribution.Id,
    cdnBaseUrl: cdnBaseUrl(context.clients.target, context.stack.settings, distribution.DomainName),
  };
}

export function planCdn(settings: StackSettings, region: string, observed: ObservedCdn, options: CdnStepOptions): Plan<CdnOp> {
  if (settings.cdn !== true) {
    return noop(observed.distribution ? 'CDN off in the settings; the existing distribution stays until `destroy`' : 'CDN off (init --cdn turns it on)');
  }
  const ops: CdnOp[] = [];
  if (!observed.oac) ops.push({ kind: 'create-oac', name: oacName(settings.stackName) });
  const desired = desiredShape(settings, region, observed.oac?.Id);
  const current = observed.distribution;
  if (!current) {
    ops.push({ kind: 'create-distribution', origin: desired.originDomain, priceClass: desired.priceClass, aliases: desired.aliases });
    if (options.wait) ops.push({ kind: 'wait-cdn-deployed', status: 'InProgress' });
    return { action: 'create', reason: 'does not exist', ops };
  }
  const config = current.distribution.DistributionConfig;
  const changes = config ? shapeDifferences(desired, observedShape(config)) : [];
  if (changes.length > 0 || ops.length > 0) ops.push({ kind: 'update-distribution', changes });
  const status = current.distribution.Status ?? 'unknown';
  if (options.wait && (ops.length > 0 || status !== 'Deployed')) ops.push({ kind: 'wait-cdn-deployed', status });
  if (ops.length === 0) {
    return noop(status === 'Deployed' ? `Deployed at ${current.distribution.DomainName ?? '?'}` : `${status}: CloudFront is deploying it (status shows when Deployed)`);
  }
  return { action: 'update', reason: '', ops };
}

async function observeCdn(context: ProvisionContext): Promise<ObservedCdn> {
  const { cloudfront } = context.clients;
  const { stackName } = context.stack.settings;
  const [oac, distribution] = await Promise.all([
    findOriginAccessControl(cloudfront, oacName(stackName)),
    findDistribution(cloudfront, distributionComment(stackName)),
  ]);
  return { oac, distribution };
}

async function waitDeployed(client: CloudFrontClient, id: string, options: CdnStepOptions, progress: (text: string) => void) {
  return waitForDeployed(client, id, { ...options.waitOptions, progress });
}

export function cdnStep(options: CdnStepOptions): Step<ObservedCdn, CdnOp> {
  return {
    id: 'cdn',
    resource: 'CDN distribution',
    name: (context) => distributionComment(context.stack.settings.stackName),
    observe: observeCdn,
    plan: (context, observed) => planCdn(context.stack.settings, context.stack.region, observed, options),
    outputs: (context, observed) => (context.stack.settings.cdn === true ? outputsOf(context, observed.distribution?.distribution) : {}),
    async apply(context, observed, plan, _inputs, progress) {
      const { cloudfront } = context.clients;
      const { settings, region, tags } = context.stack;
      let oacId = observed.oac?.Id;
      let distribution = observed.distribution;
      for (const op of plan.ops) {
        switch (op.kind) {
          case 'create-oac':
            progress('creating the origin access control');
            oacId = await createOriginAccessControl(cloudfront, op.name, `img-resizer stack ${settings.stackName}: signs requests to ${settings.destBucket}`);
            break;
          case 'create-distribution': {
            progress('creating the distribution');
            const comment = distributionComment(settings.stackName);
            const config = applyShape({}, desiredShape(settings, region, oacId), `img-resizer-${settings.stackName}-${Date.now()}`, comment);
            const created = await createDistribution(cloudfront, config, tags);
            distribution = created.Id ? await getDistribution(cloudfront, created.Id) : undefined;
            break;
          }
          case 'update-distribution': {
            if (!distribution?.distribution.Id || !distribution.distribution.DistributionConfig) break;
            progress('updating the distribution');
            const { Id } = distribution.distribution;
            // The latest ETag: CloudFront refuses an update against a stale one.
            const fresh = (await getDistribution(cloudfront, Id)) ?? distribution;
            const base = fresh.distribution.DistributionConfig ?? {};
            const config = applyShape(base, desiredShape(settings, region, oacId), '', distributionComment(settings.stackName));
            distribution = await updateDistribution(cloudfront, Id, fresh.etag, config);
            break;
          }
          case 'wait-cdn-deployed':
            if (distribution?.distribution.Id) distribution = (await waitDeployed(cloudfront, distribution.distribution.Id, options, progress)) ?? distribution;
            break;
        }
      }
      const status = distribution?.distribution.Status;
      return {
        outputs: outputsOf(context, distribution?.distribution),
        ...(status === undefined ? {} : { detail: status === 'Deployed' ? 'Deployed' : `${status}: deploying (minutes on AWS); \`img-resizer status\` shows when it is Deployed` }),
      };
    },
  };
}

export function planCdnRemoval(observed: ObservedCdn, options: CdnStepOptions): Plan<CdnRemovalOp> {
  const ops: CdnRemovalOp[] = [];
  const current = observed.distribution?.distribution;
  const id = current?.Id;
  if (current && id) {
    const enabled = current.DistributionConfig?.Enabled === true;
    const status = current.Status ?? 'unknown';
    if (enabled) ops.push({ kind: 'disable-distribution', id });
    if (!options.wait && (enabled || status !== 'Deployed')) {
      const reason = enabled
        ? 'disabled now; --no-wait: run `img-resizer destroy` again once CloudFront has deployed it (minutes) to delete it'
        : `disabled and still ${status}: run \`img-resizer destroy\` again once it is Deployed`;
      return ops.length > 0 ? { action: 'update', reason, ops } : noop(reason, { kept: true });
    }
    if (enabled || status !== 'Deployed') ops.push({ kind: 'wait-cdn-deployed', status: enabled ? 'Enabled' : status });
    ops.push({ kind: 'delete-distribution', id });
  }
  if (observed.oac?.Id) ops.push({ kind: 'delete-oac', id: observed.oac.Id });
  if (ops.length === 0) return noop('already gone');
  return { action: 'delete', reason: 'made by this stack', ops };
}

export function cdnRemovalStep(options: CdnStepOptions): Step<ObservedCdn, CdnRemovalOp> {
  return {
    id: 'cdn',
    resource: 'CDN distribution',
    name: (context) => distributionComment(context.stack.settings.stackName),
    observe: observeCdn,
    plan: (_context, observed) => planCdnRemoval(observed, options),
    async apply(context, observed, plan, _inputs, progress) {
      const { cloudfront } = context.clients;
      let current = observed.distribution;
      for (const op of plan.ops) {
        switch (op.kind) {
          case 'disable-distribution': {
            progress('disabling the distribution');
            const fresh = (await getDistribution(cloudfront, op.id)) ?? current;
            const config = fresh?.distribution.DistributionConfig;
            if (!fresh || !config) break;
            current = await updateDistribution(cloudfront, op.id, fresh.etag, { ...config, Enabled: false });
            break;
          }
          case 'wait-cdn-deployed': {
            const id = current?.distribution.Id;
            if (id) current = (await waitDeployed(cloudfront, id, options, progress)) ?? current;
            break;
          }
          case 'delete-distribution': {
            progress('deleting the distribution');
            const fresh = await getDistribution(cloudfront, op.id);
            if (fresh) {
              if (fresh.distribution.DistributionConfig?.Enabled) {
                throw new CliError('CDN_STILL_ENABLED', `Distribution ${op.id} was enabled again meanwhile.`, { suggestion: 'Run `img-resizer destroy` again.' });
              }
              await deleteDistribution(cloudfront, op.id, fresh.etag);
            }
            break;
          }
          case 'delete-oac':
            progress('deleting the origin access control');
            await deleteOriginAccessControl(cloudfront, op.id);
            break;
        }
      }
      return undefined;
    },
  };
}
