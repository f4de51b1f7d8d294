import type { FitMode, OutputFormat } from '../../lambda-src/core/settings.js';
import type { Architecture, Orchestration, StateMachineKind } from '../constants.js';
import type { LambdaRuntime } from '../runtimes.js';
import type { NotifyTarget } from './notify-targets.js';

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
  /** The stack's SNS topic of outcomes (default on); see `operationalSettings` for the defaults of these six. */
  notifications?: boolean | undefined;
  /** Days the function's log group keeps its logs. */
  logRetentionDays?: number | undefined;
  /** Point-in-time recovery on the metadata table. */
  pointInTimeRecovery?: boolean | undefined;
  /** How often Lambda retries an event the function failed on (0-2) before it goes to the failed-events queue. */
  retryAttempts?: number | undefined;
  /** How old an event may get (60-21600 s) while retried before it goes to the failed-events queue. */
  maxEventAgeSeconds?: number | undefined;
  /** Leave the outputs and item of a removed source (the trigger then ignores removals). */
  keepOnDelete?: boolean | undefined;
  /** Where the outcomes topic also delivers (`--notify`), each with an optional filter. */
  notify?: NotifyTarget[] | undefined;
  /** Lock (Block Public Access) an adopted bucket even though its policy grants public reads. */
  allowLockPublicBucket?: boolean | undefined;
  /** Rekognition DetectLabels on each image (LABELS=on); the role then gains rekognition:DetectLabels. */
  labels?: boolean | undefined;
  /** 0-100 (default 70): labels Rekognition is less sure of are dropped. */
  labelsMinConfidence?: number | undefined;
  /** At most this many labels per image (default 10). */
  labelsMax?: number | undefined;
  /** Rekognition DetectModerationLabels (MODERATION=on); an image at or over the threshold is FAILED/MODERATED. */
  moderation?: boolean | undefined;
  /** 0-100 (default 80). */
  moderationMinConfidence?: number | undefined;
  /** Where the stack lives, so later commands reach it without repeating --local / --endpoint-url / --profile. */
  location?: StackLocation | undefined;
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
  /** The function's output tuning (issue 11): each absent means the function's own default. OUTPUT_QUALITY, 1-100. */
  quality?: number | undefined;
  /** ALLOW_UPSCALE: enlarge images smaller than their box. */
  allowUpscale?: boolean | undefined;
  /** MAX_PIXELS: largest width x height accepted (default: what the function's memory holds). */
  maxPixels?: number | undefined;
  /** MAX_BYTES: largest source object, in bytes. */
  maxBytes?: number | undefined;
  /** BACKGROUND: what transparent pixels become in JPEG outputs (default white). */
  background?: string | undefined;
  /** Issue 18: the backfill queue and its event source mapping (`backfill --via queue`); off unless asked for. */
  backfillQueue?: boolean | undefined;
  /** At most this many invocations the backfill queue starts at once (ScalingConfig.MaximumConcurrency, 2-1000). */
  queueMaxConcurrency?: number | undefined;
  /** Issue 19: the Lambda runtime of the stack's functions and layer (absent in older files: see stackRuntime). */
  runtime?: LambdaRuntime | undefined;
  /** How uploads reach the function: the direct S3 trigger (absent: direct), or EventBridge → Step Functions. */
  orchestration?: Orchestration | undefined;
  /** Workflow mode only: Express (per request, the default) or Standard (per state transition, full history). */
  stateMachineType?: StateMachineKind | undefined;
}

/** The backfill queue's mapping starts at most this many invocations at once unless --queue-max-concurrency says otherwise. */
export const DEFAULT_QUEUE_MAX_CONCURRENCY = 10;

export const CDN_PRICE_CLASSES = ['PriceClass_100', 'PriceClass_200', 'PriceClass_All'] as const;
export type CdnPriceClass = (typeof CDN_PRICE_CLASSES)[number];
export const DEFAULT_CDN_PRICE_CLASS: CdnPriceClass = 'PriceClass_100';

/** The aliases setting as a sorted list of host names. */
export function cdnAliasList(settings: Pick<StackSettings, 'cdnAliases'>): string[] {
  return (settings.cdnAliases ?? '').split(',').map((alias) => alias.trim().toLowerCase()).filter(Boolean).sort();
}

/**
 * Where a stack lives. Recorded by `init`; flags given to a later command override it. Never credentials:
 * a profile is a name, the secrets stay in the operator's AWS config.
 */
export type StackLocation =
  | { kind: 'local'; port: number }
  | { kind: 'endpoint'; endpointUrl: string }
  | { kind: 'aws'; profile?: string };

/**
 * Names derived from the stack name (and the region, for the role). IAM is global while everything else is
 * regional, so the role carries the region: one stack name in two regions gives two independent stacks.
 * Without a region (settings files written before this rule) the old name stays, so no surprise rename.
 */
export function derivedNames(stackName: string, region?: string): Pick<StackSettings, 'table' | 'functionName' | 'roleName' | 'layerName'> {
  return {
    table: `${stackName}-metadata`,
    functionName: `${stackName}-resize`,
    roleName: region === undefined || region === '' ? `${stackName}-function-role` : `${stackName}-function-role-${region}`,
    layerName: `${stackName}-sharp`,
  };
}


// The failure path and secure defaults (notifications, logs, PITR, async retries).

export const OPERATIONAL_DEFAULTS = {
  notifications: true,
  logRetentionDays: 30,
  pointInTimeRecovery: true,
  /** Lambda's own defaults: two retries, six hours. */
  retryAttempts: 2,
  maxEventAgeSeconds: 21_600,
  keepOnDelete: false,
} as const;

export interface OperationalSettings {
  notifications: boolean;
  logRetentionDays: number;
  pointInTimeRecovery: boolean;
  retryAttempts: number;
  maxEventAgeSeconds: number;
  keepOnDelete: boolean;
}

/** The six settings with their defaults filled in (files written before they existed lack them). */
export function operationalSettings(settings: StackSettings): OperationalSettings {
  return {
    notifications: settings.notifications ?? OPERATIONAL_DEFAULTS.notifications,
    logRetentionDays: settings.logRetentionDays ?? OPERATIONAL_DEFAULTS.logRetentionDays,
    pointInTimeRecovery: settings.pointInTimeRecovery ?? OPERATIONAL_DEFAULTS.pointInTimeRecovery,
    retryAttempts: settings.retryAttempts ?? OPERATIONAL_DEFAULTS.retryAttempts,
    maxEventAgeSeconds: settings.maxEventAgeSeconds ?? OPERATIONAL_DEFAULTS.maxEventAgeSeconds,
    keepOnDelete: settings.keepOnDelete ?? OPERATIONAL_DEFAULTS.keepOnDelete,
  };
}


/**
 * The runtime stacks were deployed with before `--runtime` existed. A settings file without "runtime" describes
 * such a stack, so it keeps this runtime (no surprise switch on the next init) until the operator gives --runtime.
 */
export const PRE_SETTING_RUNTIME: LambdaRuntime = 'nodejs22.x';

/** The runtime the stack's functions and layer use. */
export function stackRuntime(settings: Pick<StackSettings, 'runtime'>): LambdaRuntime {
  return settings.runtime ?? PRE_SETTING_RUNTIME;
}

/** Whether uploads start executions of the state machine (workflow mode) instead of invoking the function. */
export function workflowModeFor(settings: Pick<StackSettings, 'orchestration'>): boolean {
  return settings.orchestration === 'stepfunctions';
}
