import { parseSizeSpec } from '../../lambda-src/core/sizes.js';
import { FIT_MODES, OUTPUT_FORMATS } from '../../lambda-src/core/settings.js';
import { ARCHITECTURES } from '../constants.js';
import { isLambdaRuntime, LAMBDA_RUNTIMES } from '../runtimes.js';
import { UsageError, errorMessage } from '../errors.js';
import { notifyProtocol } from './notify-targets.js';
import { cdnAliasList, operationalSettings, type StackSettings } from './stack-settings.js';

/** Validation of settings, before any AWS call. */

export function validateStackName(name: string): void {
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(name)) {
    throw new UsageError(
      `Stack name "${name}" is not valid.`,
      'Use 2-32 lower-case letters, digits and hyphens, starting with a letter (it prefixes bucket, table and function names).',
    );
  }
}

/** Why a name breaks S3's rules for general purpose buckets, or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return `must be 3 to 63 characters long (it has ${name.length})`;
  if (!/^[a-z0-9.-]+$/.test(name)) return 'may contain only lower-case letters, digits, dots and hyphens';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'must begin and end with a letter or digit';
  if (name.includes('..')) return 'must not contain two adjacent dots';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'must not look like an IP address';
  for (const prefix of ['xn--', 'sthree-', 'amzn-s3-demo-']) {
    if (name.startsWith(prefix)) return `must not start with "${prefix}"`;
  }
  for (const suffix of ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3']) {
    if (name.endsWith(suffix)) return `must not end with "${suffix}"`;
  }
  return undefined;
}

export function sizeSpecProblem(spec: string): string | undefined {
  try {
    parseSizeSpec(spec);
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
}

/**
 * The function writes `resized-{key}` or `resized/{size}/{key}`. When it writes into the bucket that triggers it,
 * the trigger prefix must exclude every such key, or each output would start the function again.
 */
export function sameBucketProblem(prefix: string | undefined): string | undefined {
  if (prefix === undefined || prefix === '') return 'needs a trigger prefix (--trigger-prefix uploads/) so outputs do not trigger the function';
  if (prefix.startsWith('resized') || 'resized-'.startsWith(prefix) || 'resized/'.startsWith(prefix)) {
    return `trigger prefix "${prefix}" would include the outputs (resized-… and resized/…); choose one such as uploads/`;
  }
  return undefined;
}

export const SIZES_SUGGESTION = 'Write them as name=WxH, comma-separated, e.g. thumb=200x200,medium=800x800.';

export function validateSettings(settings: StackSettings): void {
  for (const key of ['sourceBucket', 'destBucket'] as const) {
    const problem = bucketNameProblem(settings[key]);
    if (problem) {
      throw new UsageError(
        `Bucket name "${settings[key]}" ${problem}.`,
        key === 'sourceBucket' ? 'Give a valid one with --source-bucket.' : 'Give a valid one with --dest-bucket.',
      );
    }
  }
  if (settings.sourceBucket === settings.destBucket) {
    const problem = sameBucketProblem(settings.prefix);
    if (problem) throw new UsageError(`Source and destination are the same bucket: that ${problem}.`);
  }
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(settings.table)) {
    throw new UsageError(`Table name "${settings.table}" is not valid.`, 'Use 3-255 letters, digits, "_", "-" and ".".');
  }
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(settings.functionName)) {
    throw new UsageError(`Function name "${settings.functionName}" is not valid.`, 'Use 1-64 letters, digits, "-" and "_".');
  }
  if (!/^[\w+=,.@-]{1,64}$/.test(settings.roleName)) {
    throw new UsageError(`Role name "${settings.roleName}" is not valid.`, 'Use 1-64 letters, digits and +=,.@_-');
  }
  if (!/^[a-zA-Z0-9_-]{1,140}$/.test(settings.layerName)) {
    throw new UsageError(`Layer name "${settings.layerName}" is not valid.`, 'Use 1-140 letters, digits, "-" and "_".');
  }
  const sizes = sizeSpecProblem(settings.sizes);
  if (sizes) throw new UsageError(`Sizes "${settings.sizes}": ${sizes}`, SIZES_SUGGESTION);
  if (!(OUTPUT_FORMATS as readonly string[]).includes(settings.format)) throw new UsageError(`Format must be one of ${OUTPUT_FORMATS.join(', ')}.`);
  if (!(FIT_MODES as readonly string[]).includes(settings.fit)) throw new UsageError(`Fit must be one of ${FIT_MODES.join(', ')}.`);
  if (!(ARCHITECTURES as readonly string[]).includes(settings.arch)) throw new UsageError(`Architecture must be one of ${ARCHITECTURES.join(', ')}.`);
  if (settings.runtime !== undefined && !isLambdaRuntime(settings.runtime)) {
    throw new UsageError(`Runtime "${String(settings.runtime)}" is not one img-resizer deploys.`, `Give --runtime one of ${LAMBDA_RUNTIMES.join(', ')}.`);
  }
  if (!Number.isInteger(settings.memory) || settings.memory < 128 || settings.memory > 10_240) {
    throw new UsageError(`Memory ${settings.memory} MB is out of range: Lambda allows 128 to 10240 MB.`, 'Give --memory a value in that range.');
  }
  if (!Number.isInteger(settings.timeout) || settings.timeout < 1 || settings.timeout > 900) {
    throw new UsageError(`Timeout ${settings.timeout} s is out of range: Lambda allows 1 to 900 seconds.`, 'Give --timeout a value in that range.');
  }
  for (const key of ['labelsMinConfidence', 'moderationMinConfidence'] as const) {
    const value = settings[key];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 100)) {
      throw new UsageError(`${key === 'labelsMinConfidence' ? 'Labels' : 'Moderation'} minimum confidence ${value} is out of range.`, 'Give a confidence from 0 to 100.');
    }
  }
  if (settings.labelsMax !== undefined && !(Number.isInteger(settings.labelsMax) && settings.labelsMax >= 1 && settings.labelsMax <= 1000)) {
    throw new UsageError(`Labels maximum ${settings.labelsMax} is out of range.`, 'Give --labels-max a whole number from 1 to 1000 (Rekognition returns at most 1000).');
  }
  if (settings.cdn === true) {
    const aliases = cdnAliasList(settings);
    if (aliases.length > 0 && !settings.cdnCertificateArn) {
      throw new UsageError('Custom CDN domains (--cdn-alias) need a certificate.', 'Give --cdn-certificate-arn with an ACM certificate in us-east-1 that covers them.');
    }
    if (settings.cdnCertificateArn !== undefined && !/^arn:[\w-]+:acm:us-east-1:\d{12}:certificate\/[\w-]+$/.test(settings.cdnCertificateArn)) {
      throw new UsageError(`"${settings.cdnCertificateArn}" is not an ACM certificate ARN in us-east-1.`, 'CloudFront only uses certificates from us-east-1.');
    }
    for (const alias of aliases) {
      if (!/^(\*\.)?([a-z0-9-]+\.)+[a-z]{2,}$/.test(alias)) throw new UsageError(`CDN alias "${alias}" is not a domain name.`);
    }
  }
  if (settings.cacheControl !== undefined && (settings.cacheControl.length > 256 || /[\r\n]/.test(settings.cacheControl))) {
    throw new UsageError('Cache-Control must be one line of at most 256 characters.', 'For example --cache-control "public, max-age=86400".');
  }
  for (const key of ['prefix', 'suffix'] as const) {
    const value = settings[key];
    if (value !== undefined && (value.length > 1024 || /[*?]/.test(value))) {
      // * and ? are wildcards in the IAM policy's resource ARN, which embeds the prefix.
      throw new UsageError(`Trigger ${key} "${value}" is not usable.`, 'Use at most 1024 characters, without * or ?.');
    }
  }
  const { queueMaxConcurrency } = settings;
  if (queueMaxConcurrency !== undefined && !(Number.isInteger(queueMaxConcurrency) && queueMaxConcurrency >= 2 && queueMaxConcurrency <= 1000)) {
    throw new UsageError(`Queue maximum concurrency ${queueMaxConcurrency} is out of range: Lambda allows 2 to 1000.`, 'Give --queue-max-concurrency a value from 2 to 1000.');
  }
  validateOperationalSettings(settings);
}

/** The values CloudWatch Logs accepts as a retention. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

function validateOperationalSettings(settings: StackSettings): void {
  for (const target of settings.notify ?? []) {
    try {
      notifyProtocol(target.endpoint);
    } catch (error) {
      throw new UsageError(`--notify: ${errorMessage(error)}.`, 'Give an SQS queue ARN, a Lambda function ARN, an https:// URL or an e-mail address.');
    }
  }
  const { logRetentionDays, retryAttempts, maxEventAgeSeconds } = operationalSettings(settings);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    throw new UsageError(`Log retention ${logRetentionDays} days is not one CloudWatch Logs offers.`, `Give --log-retention one of ${LOG_RETENTION_DAYS.join(', ')}.`);
  }
  if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 2) {
    throw new UsageError(`Retry attempts ${retryAttempts} is out of range: Lambda allows 0 to 2.`, 'Give --retry-attempts 0, 1 or 2.');
  }
  if (!Number.isInteger(maxEventAgeSeconds) || maxEventAgeSeconds < 60 || maxEventAgeSeconds > 21_600) {
    throw new UsageError(`Maximum event age ${maxEventAgeSeconds} s is out of range: Lambda allows 60 to 21600 seconds.`, 'Give --max-event-age a value in that range.');
  }
}
