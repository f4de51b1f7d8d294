import type { StackSettings } from '../../src/config/settings.js';

/** What `init` writes with every default (account 123456789012, us-east-1). */
export const DEFAULT_SETTINGS: StackSettings = {
  stackName: 'img-resizer',
  region: 'us-east-1',
  sourceBucket: 'img-resizer-source-123456789012-us-east-1',
  destBucket: 'img-resizer-dest-123456789012-us-east-1',
  table: 'img-resizer-metadata',
  functionName: 'img-resizer-resize',
  roleName: 'img-resizer-function-role',
  layerName: 'img-resizer-sharp',
  sizes: 'thumbnail=200x200',
  format: 'png',
  fit: 'cover',
  arch: 'x86_64',
  memory: 1024,
  timeout: 60,
};

/**
 * Every setting away from its default and every optional part on: own names, several sizes, trigger prefix and
 * suffix, arm64, the failure path, --notify targets, labels and moderation, the HTTP API and the CDN.
 */
export const EVERY_OPTION_SETTINGS: StackSettings = {
  stackName: 'photos',
  region: 'eu-west-1',
  sourceBucket: 'photos-uploads-example',
  destBucket: 'photos-resized-example',
  table: 'photos.metadata',
  functionName: 'photos_resize',
  roleName: 'photos-resize-role@team',
  layerName: 'photos-sharp',
  sizes: 'thumb=200x200,medium=800x600,large=1920x1080',
  format: 'webp',
  fit: 'inside',
  arch: 'arm64',
  runtime: 'nodejs24.x',
  memory: 2048,
  timeout: 120,
  prefix: 'uploads/',
  suffix: '.jpg',
  // The failure path away from its defaults, and a --notify target of each kind, two of them filtered.
  logRetentionDays: 90,
  retryAttempts: 1,
  maxEventAgeSeconds: 3600,
  notify: [
    { endpoint: 'arn:aws:sqs:eu-west-1:123456789012:photos-failures', filter: { status: ['FAILED'], type: ['image.failed', 'image.processed'] } },
    { endpoint: 'arn:aws:lambda:eu-west-1:123456789012:function:photos-indexer' },
    { endpoint: 'https://hooks.example.com/img-resizer', filter: { format: ['webp'] } },
    { endpoint: 'ops@example.com' },
  ],
  labels: true,
  labelsMinConfidence: 80,
  labelsMax: 5,
  moderation: true,
  moderationMinConfidence: 90,
  cacheControl: 'public, max-age=86400',
  // The HTTP API with JWT auth, public reads, CORS, presets and its own throttling.
  api: true,
  apiPresets: 'card=600x400:webp,hero=1600x900',
  apiJwtIssuer: 'https://auth.example.com/',
  apiJwtAudience: 'photos-app',
  apiPublicReads: true,
  apiCorsOrigin: 'https://photos.example.com',
  apiThrottleRate: 20,
  apiThrottleBurst: 40,
  // The CDN on its own domain.
  cdn: true,
  cdnPriceClass: 'PriceClass_200',
  cdnAliases: 'img.example.com,cdn.example.com',
  cdnCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0b7e2c1a-9f1d-4a57-8f5e-3c2d1e0f9a8b',
  // The backfill queue with its own concurrency.
  backfillQueue: true,
  queueMaxConcurrency: 20,
};

/** Source and destination in one bucket, kept apart by the trigger prefix; the API and CDN in their other forms. */
export const ONE_BUCKET_SETTINGS: StackSettings = {
  ...DEFAULT_SETTINGS,
  stackName: 'onebucket',
  sourceBucket: 'onebucket-images-example',
  destBucket: 'onebucket-images-example',
  prefix: 'incoming/',
  // The other branches of the optional parts: IAM auth, the distribution's own domain, notifications off.
  notifications: false,
  keepOnDelete: true,
  pointInTimeRecovery: false,
  api: true,
  cdn: true,
};

/** Workflow mode (issue 17) with every other option on: the state machine (Standard) instead of the direct trigger. */
export const WORKFLOW_SETTINGS: StackSettings = { ...EVERY_OPTION_SETTINGS, stackName: 'photoflow', orchestration: 'stepfunctions', stateMachineType: 'standard' };
