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

/** Every setting away from its default: own names, several sizes, trigger prefix and suffix, arm64. */
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
  memory: 2048,
  timeout: 120,
  prefix: 'uploads/',
  suffix: '.jpg',
};

/** Source and destination in one bucket, kept apart by the trigger prefix. */
export const ONE_BUCKET_SETTINGS: StackSettings = {
  ...DEFAULT_SETTINGS,
  stackName: 'onebucket',
  sourceBucket: 'onebucket-images-example',
  destBucket: 'onebucket-images-example',
  prefix: 'incoming/',
};
