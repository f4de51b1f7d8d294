import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { UsageError } from '../errors.js';

/** Where a command acts: real AWS, an AWS-compatible endpoint, or the bundled local stack. */
export interface AwsTarget {
  kind: 'aws' | 'endpoint' | 'local';
  /** Explicit region, when one was given or derived; undefined lets the SDK read the profile's. */
  region: string | undefined;
  profile: string | undefined;
  /** Overrides every service's endpoint. Undefined on real AWS (or when only AWS_ENDPOINT_URL_<SERVICE> is set). */
  endpoint: string | undefined;
  /** True when any endpoint override is in force (flag or AWS_ENDPOINT_URL*), which switches S3 to path style. */
  endpointOverridden: boolean;
  credentials: AwsCredentialIdentity | undefined;
}

export interface TargetFlags {
  profile?: string | undefined;
  region?: string | undefined;
  endpointUrl?: string | undefined;
}

/** Dummy credentials for the local stack; it accepts any. */
export const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'test', secretAccessKey: 'test' };
export const LOCAL_REGION = 'us-east-1';

export function hasEndpointOverrideInEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return Object.keys(env).some((name) => name === 'AWS_ENDPOINT_URL' || name.startsWith('AWS_ENDPOINT_URL_'));
}

/** Region precedence: --region, AWS_REGION, AWS_DEFAULT_REGION (which SDK v3 ignores), then the profile's. */
export function resolveRegionFlag(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flags.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
}

export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): AwsTarget {
  const endpoint = flags.endpointUrl;
  if (endpoint !== undefined) validateEndpoint(endpoint);
  const overridden = endpoint !== undefined || hasEndpointOverrideInEnv(env);
  return {
    kind: overridden ? 'endpoint' : 'aws',
    region: resolveRegionFlag(flags, env),
    profile: flags.profile ?? nonEmpty(env.AWS_PROFILE),
    endpoint,
    endpointOverridden: overridden,
    credentials: undefined,
  };
}

export function localTarget(endpoint: string, flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): AwsTarget {
  return {
    kind: 'local',
    region: resolveRegionFlag(flags, env) ?? LOCAL_REGION,
    profile: undefined,
    endpoint,
    endpointOverridden: true,
    credentials: LOCAL_CREDENTIALS,
  };
}

export function validateEndpoint(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--endpoint-url: "${value}" is not a URL`, 'Give a full URL such as http://127.0.0.1:4566');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--endpoint-url: "${value}" must start with http:// or https://`);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
