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
  /** Issue 14: also stand up the HTTP API (its own role and function, API Gateway v2, stage, access logs). */
  api?: boolean | undefined;
  /** The API's presets beyond the sizes, "name=WxH[:format]" comma-separated (the function's PRESETS). */
  apiPresets?: string | undefined;
  /** JWT auth instead of the default IAM auth: both issuer and audience. */
  apiJwtIssuer?: string | undefined;
  apiJwtAudience?: string | undefined;
  /** GET /images/{proxy+} without auth (uploads stay authorised). */
  apiPublicReads?: boolean | undefined;
  /** Browser origin allowed by CORS; off when absent. */
  apiCorsOrigin?: string | undefined;
  /** Stage throttling: requests per second and burst. */
  apiThrottleRate?: number | undefined;
  apiThrottleBurst?: number | undefined;
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

