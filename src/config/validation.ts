import { parseSizeSpec } from '../../lambda-src/core/sizes.js';
import { UsageError, errorMessage } from '../errors.js';
import { isLambdaRuntime, LAMBDA_RUNTIMES } from '../runtimes.js';
import { notifyProtocol } from './notify-targets.js';
import { SETTING_RULES } from './setting-rules.js';
import { cdnAliasList, type StackSettings } from './stack-settings.js';

/** Validation of settings, before any AWS call. */

/** Why a stack name is unusable, or undefined when it is fine. */
export function stackNameProblem(name: string): string | undefined {
  return /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(name) ? undefined : 'is not 2-32 lower-case letters, digits and hyphens starting with a letter';
}

export function validateStackName(name: string): void {
  if (stackNameProblem(name) !== undefined) {
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
  checkRuledSettings(settings);
  // The runtime keeps its own rule and messages (issue 19: resolveRuntime reads it from flag, environment and file).
  if (settings.runtime !== undefined && !isLambdaRuntime(settings.runtime)) {
    throw new UsageError(`Runtime "${String(settings.runtime)}" is not one img-resizer deploys.`, `Give --runtime one of ${LAMBDA_RUNTIMES.join(', ')}.`);
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
  for (const key of ['prefix', 'suffix'] as const) {
    const value = settings[key];
    if (value !== undefined && (value.length > 1024 || /[*?]/.test(value))) {
      // * and ? are wildcards in the IAM policy's resource ARN, which embeds the prefix.
      throw new UsageError(`Trigger ${key} "${value}" is not usable.`, 'Use at most 1024 characters, without * or ?.');
    }
  }
  validateNotifyTargets(settings);
  const { queueMaxConcurrency } = settings;
  if (queueMaxConcurrency !== undefined && !(Number.isInteger(queueMaxConcurrency) && queueMaxConcurrency >= 2 && queueMaxConcurrency <= 1000)) {
    throw new UsageError(`Queue maximum concurrency ${queueMaxConcurrency} is out of range: Lambda allows 2 to 1000.`, 'Give --queue-max-concurrency a value from 2 to 1000.');
  }
}

/**
 * Every setting that has a rule, checked by it: the message is the one its flag, variable and settings-file key
 * give (`--memory: "64" is not a whole number of MB from 128 to 10240.`), whichever way the value came.
 */
function checkRuledSettings(settings: StackSettings): void {
  for (const [key, { flag, rule }] of Object.entries(SETTING_RULES)) {
    const value: unknown = (settings as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    try {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`${JSON.stringify(value)} is not ${rule.expected}.`);
      rule.parse(String(value));
    } catch (error) {
      throw new UsageError(`${flag}: ${errorMessage(error)}`);
    }
  }
}

function validateNotifyTargets(settings: StackSettings): void {
  for (const target of settings.notify ?? []) {
    try {
      notifyProtocol(target.endpoint);
    } catch (error) {
      throw new UsageError(`--notify: ${errorMessage(error)}.`, 'Give an SQS queue ARN, a Lambda function ARN, an https:// URL or an e-mail address.');
    }
  }
}
