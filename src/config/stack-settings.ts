import type { FitMode, OutputFormat } from '../../lambda-src/core/settings.js';
import type { Architecture } from '../constants.js';

/** The settings file's model: what `init` writes and every command reads, with the defaults it falls back on. */

export const DEFAULT_SETTINGS_FILE = 'img-resizer.config.json';
export const DEFAULT_STACK_NAME = 'img-resizer';
export const DEFAULT_MEMORY_MB = 1024;
export const DEFAULT_TIMEOUT_S = 60;


/** The stack's resolved settings, written by `init` and read by every other command. Never credentials. */
export interface StackSettings {
  stackName: string;
  /** Region the stack lives in (absent for "whatever the SDK resolves"). */
  region?: string | undefined;
  sourceBucket: string;
  destBucket: string;
  table: string;
  functionName: string;
  roleName: string;
  layerName: string;
  /** Size spec, e.g. "thumbnail=200x200". */
  sizes: string;
  format: OutputFormat;
  fit: FitMode;
  arch: Architecture;
  memory: number;
  timeout: number;
  /** Trigger filters: only keys under this prefix / with this suffix start the function. */
  prefix?: string | undefined;
  suffix?: string | undefined;
  /** Serve the destination bucket's outputs through a CloudFront distribution (see src/provision/cdn.ts). */
  cdn?: boolean | undefined;
  /** CloudFront price class (edge locations used). */
  cdnPriceClass?: CdnPriceClass | undefined;
  /** Comma-separated custom domain names for the distribution; needs cdnCertificateArn. */
  cdnAliases?: string | undefined;
  /** ACM certificate (us-east-1) covering cdnAliases. */
  cdnCertificateArn?: string | undefined;
  /** Cache-Control the function writes on every output (default: the function's DEFAULT_CACHE_CONTROL). */
  cacheControl?: string | undefined;
}

export const CDN_PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;
export type CdnPriceClass = (typeof CDN_PRICE_CLASSES)[number];
export const DEFAULT_CDN_PRICE_CLASS: CdnPriceClass = 'PriceClass_100';

/** The aliases setting as a sorted list of host names. */
export function cdnAliasList(settings: Pick<StackSettings, 'cdnAliases'>): string[] {
  return (settings.cdnAliases ?? '').split(',').map((alias) => alias.trim().toLowerCase()).filter(Boolean).sort();
}

/** Names derived from the stack name alone. */
export function derivedNames(stackName: string): Pick<StackSettings, 'table' | 'functionName' | 'roleName' | 'layerName'> {
  return {
    table: `${stackName}-metadata`,
    functionName: `${stackName}-resize`,
    roleName: `${stackName}-function-role`,
    layerName: `${stackName}-sharp`,
  };
}

