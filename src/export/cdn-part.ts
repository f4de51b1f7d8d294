/**
 * The CDN (`init --cdn`) in the template: the Origin Access Control and the distribution, shaped by the same
 * `desiredShape` the cdn step applies (src/provision/cdn.ts); the destination bucket's read statement for it
 * comes from the bucket-policy step's builder (template.ts `bucketPolicy`).
 */
import type { AwsTarget } from '../aws/target.js';
import { cdnBaseUrl, desiredShape, distributionComment, oacName, ORIGIN_ID } from '../provision/cdn.js';
import type { Json } from '../provision/templates.js';
import { LOGICAL_ID, destBucketParameter, getAtt, ref, sub, tagList, type TemplateInput, type TemplatePart } from './template-model.js';

/** The distribution's ARN as the bucket policy names it (a distribution's Ref is its ID). */
export const cdnDistributionArn = `arn:\${AWS::Partition}:cloudfront::\${AWS::AccountId}:distribution/\${${LOGICAL_ID.cdnDistribution}}`;

/** An exported stack runs on AWS: its outputs' base URL is the first alias, else the distribution's domain. */
const AWS_TARGET: AwsTarget = { kind: 'aws', region: undefined, profile: undefined, endpoint: undefined, endpointOverridden: false, credentials: undefined };

/** CDN_BASE_URL as the cdn step hands it to the function. */
export function cdnBaseUrlValue(settings: TemplateInput['settings']): Json {
  const url = cdnBaseUrl(AWS_TARGET, settings, `\${${LOGICAL_ID.cdnDistribution}.DomainName}`);
  return url.includes('${') ? sub(url) : url;
}

export function cdnPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  if (settings.cdn !== true) return { resources: {} };
  // The shape init applies, with the bucket parameter and region reference in the origin's domain.
  const shape = desiredShape({ ...settings, destBucket: `\${${destBucketParameter(settings)}}` }, '${AWS::Region}', undefined);
  const methods = ['GET', 'HEAD'];
  return {
    resources: {
      [LOGICAL_ID.cdnOriginAccessControl]: {
        Type: 'AWS::CloudFront::OriginAccessControl',
        Properties: {
          OriginAccessControlConfig: {
            Name: oacName(settings.stackName),
            Description: sub(`img-resizer stack ${settings.stackName}: signs requests to \${${destBucketParameter(settings)}}`),
            OriginAccessControlOriginType: 's3',
            SigningBehavior: 'always',
            SigningProtocol: 'sigv4',
          },
        },
      },
      [LOGICAL_ID.cdnDistribution]: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Comment: distributionComment(settings.stackName),
            Enabled: shape.enabled,
            PriceClass: shape.priceClass,
            HttpVersion: shape.httpVersion,
            IPV6Enabled: shape.ipv6,
            ...(shape.aliases.length > 0 ? { Aliases: shape.aliases } : {}),
            ViewerCertificate:
              shape.certificateArn === undefined
                ? { CloudFrontDefaultCertificate: true }
                : { AcmCertificateArn: shape.certificateArn, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' },
            Origins: [
              {
                Id: ORIGIN_ID,
                DomainName: sub(shape.originDomain),
                // Empty: no legacy Origin Access Identity; the OAC signs instead.
                S3OriginConfig: { OriginAccessIdentity: '' },
                OriginAccessControlId: getAtt(LOGICAL_ID.cdnOriginAccessControl, 'Id'),
              },
            ],
            DefaultCacheBehavior: {
              TargetOriginId: ORIGIN_ID,
              ViewerProtocolPolicy: shape.viewerProtocolPolicy,
              Compress: shape.compress,
              AllowedMethods: methods,
              CachedMethods: methods,
              ...(shape.cachePolicyId === undefined ? {} : { CachePolicyId: shape.cachePolicyId }),
              ...(shape.responseHeadersPolicyId === undefined ? {} : { ResponseHeadersPolicyId: shape.responseHeadersPolicyId }),
            },
          },
          Tags: tagList(settings),
        },
      },
    },
    outputs: {
      CdnDistributionId: { Description: 'The CloudFront distribution in front of the destination bucket', Value: ref(LOGICAL_ID.cdnDistribution) },
      CdnDomainName: { Description: "The distribution's domain name", Value: getAtt(LOGICAL_ID.cdnDistribution, 'DomainName') },
      CdnBaseUrl: { Description: 'Resized images are served under this URL (the function writes it into each item)', Value: cdnBaseUrlValue(settings) },
    },
  };
}
