import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { awsErrorName, CliError, errorMessage, ExitCode } from '../errors.js';
import type { AwsTarget } from './target.js';

/**
 * Known SDK and network failures, turned into typed errors with a next step. Every client the factory builds
 * passes its failures through here (a middleware in clients.ts), so no command sees a raw
 * `connect ECONNREFUSED` or `CredentialsProviderError`. Anything not recognised is returned unchanged.
 */
export async function explainSdkError(error: unknown, target: AwsTarget, env: NodeJS.ProcessEnv = process.env): Promise<unknown> {
  if (error instanceof CliError) return error;
  const code = networkCode(error);
  if (code !== undefined) return unreachable(error, code, target);
  const message = errorMessage(error);
  // A profile that does not exist shows up as a missing region or missing credentials: name the real cause.
  if (target.profile !== undefined && (message.startsWith('Region ') || awsErrorName(error) === 'CredentialsProviderError')) {
    const unknown = await unknownProfile(error, target.profile, env);
    if (unknown !== undefined) return unknown;
  }
  if (message.startsWith('Region not accepted')) {
    const region = /region="([^"]*)"/.exec(message)?.[1] ?? target.region ?? '';
    return new CliError('INVALID_REGION', `"${region}" is not an AWS region.`, {
      suggestion: 'Give a region code such as us-east-1 or eu-west-1 with --region (or AWS_REGION).',
      exitCode: ExitCode.Usage,
      cause: error,
    });
  }
  if (message.startsWith('Region is missing')) {
    return new CliError('MISSING_REGION', 'No AWS region is set.', {
      suggestion: 'Give one with --region (or AWS_REGION), or set `region` in the profile.',
      exitCode: ExitCode.Usage,
      cause: error,
    });
  }
  if (awsErrorName(error) === 'CredentialsProviderError') return credentialsProblem(error, target, env);
  return error;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

function networkCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error).code : undefined;
  return typeof code === 'string' && NETWORK_CODES.has(code) ? code : undefined;
}

function unreachable(error: unknown, code: string, target: AwsTarget): CliError {
  const endpoint = target.endpoint ?? hostOf(error) ?? 'the AWS endpoint';
  const suggestion = target.kind === 'local'
    ? 'Start the local stack with `img-resizer local start` (`img-resizer local status` shows where it runs).'
    : target.endpoint !== undefined
      ? 'Check that the endpoint is running and the URL (--endpoint-url) is right.'
      : 'Check the network connection, a proxy (HTTPS_PROXY) and the region.';
  return new CliError('ENDPOINT_UNREACHABLE', `Cannot reach ${endpoint} (${code}).`, { suggestion, exitCode: ExitCode.Failed, cause: error });
}

/** The address in the SDK's `connect ECONNREFUSED 127.0.0.1:4599` or `getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com`. */
function hostOf(error: unknown): string | undefined {
  const match = /\b[A-Z_]+ (\S+)$/.exec(errorMessage(error));
  return match?.[1];
}

function configFile(env: NodeJS.ProcessEnv): string {
  return env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config');
}

function credentialsFile(env: NodeJS.ProcessEnv): string {
  return env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials');
}

async function unknownProfile(error: unknown, profile: string, env: NodeJS.ProcessEnv): Promise<CliError | undefined> {
  const files = [configFile(env), credentialsFile(env)];
  const profiles = await profilesIn(files);
  if (profiles.includes(profile)) return undefined;
  const found = profiles.length === 0 ? 'no profiles were found' : `profiles found: ${profiles.join(', ')}`;
  return new CliError('UNKNOWN_PROFILE', `AWS profile "${profile}" is not in ${files.join(' or ')} (${found}).`, {
    suggestion: 'Name one of them with --profile (or AWS_PROFILE), or create it with `aws configure --profile NAME`.',
    exitCode: ExitCode.Usage,
    cause: error,
  });
}

function credentialsProblem(error: unknown, target: AwsTarget, env: NodeJS.ProcessEnv): CliError {
  const files = [configFile(env), credentialsFile(env)];
  const where = target.profile === undefined
    ? `environment variables (AWS_ACCESS_KEY_ID, AWS_PROFILE), ${files.join(', ')}, SSO and instance metadata`
    : `profile "${target.profile}" in ${files.join(', ')}`;
  return new CliError('NO_CREDENTIALS', `No usable AWS credentials: looked in ${where}.`, {
    suggestion: 'Sign in (`aws sso login`), set AWS_PROFILE or --profile, or use --local for the local stack.',
    exitCode: ExitCode.Usage,
    cause: error,
  });
}

/**
 * Section names of the shared config and credentials files. Hand-written rather than a dependency: only the
 * `[name]` / `[profile name]` headers are needed, and the SDK's own loader is not a direct dependency.
 */
export async function profilesIn(files: string[]): Promise<string[]> {
  const names = new Set<string>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split(/\r?\n/)) {
      const header = /^\s*\[\s*(?:profile\s+)?([^\]\s][^\]]*?)\s*\]/.exec(line);
      const name = header?.[1];
      if (name !== undefined && !name.startsWith('sso-session') && !name.startsWith('services ')) names.add(name);
    }
  }
  return [...names].sort();
}
