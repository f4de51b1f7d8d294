import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bucketNameProblem,
  defaultBucketNames,
  loadStackSettings,
  resolveInitSettings,
  sameBucketProblem,
  writeSettingsFile,
  type Prompter,
} from '../../src/config/settings.js';
import { UsageError } from '../../src/errors.js';

const located = (region = 'eu-west-1') => () => Promise.resolve({ account: '123456789012', region });
const base = { locate: located(), env: {} };

describe('settings resolution', () => {
  it('keeps a role name a settings file recorded before names carried the region (no surprise rename)', async () => {
    const { settings } = await resolveInitSettings({ ...base, flags: {}, file: { stackName: 'img-resizer', roleName: 'img-resizer-function-role' } });
    expect(settings.roleName).toBe('img-resizer-function-role');
  });


  it('derives every default from the stack name, with account and region in bucket names', async () => {
    const { settings, sources } = await resolveInitSettings({ ...base, flags: {}, file: undefined });
    expect(settings).toEqual({
      stackName: 'img-resizer',
      region: 'eu-west-1',
      sourceBucket: 'img-resizer-source-123456789012-eu-west-1',
      destBucket: 'img-resizer-dest-123456789012-eu-west-1',
      table: 'img-resizer-metadata',
      functionName: 'img-resizer-resize',
      roleName: 'img-resizer-function-role-eu-west-1',
      layerName: 'img-resizer-sharp',
      sizes: 'thumbnail=200x200',
      format: 'png',
      fit: 'cover',
      arch: 'x86_64',
      memory: 1024,
      timeout: 60,
      prefix: undefined,
      suffix: undefined,
      notifications: true,
      logRetentionDays: 30,
      pointInTimeRecovery: true,
      retryAttempts: 2,
      maxEventAgeSeconds: 21_600,
      keepOnDelete: false,
      notify: [],
      allowLockPublicBucket: false,
      runtime: 'nodejs24.x',
      orchestration: 'direct',
      stateMachineType: 'express',
    });
    expect(sources.sourceBucket).toBe('default');
    const { settings: named } = await resolveInitSettings({ ...base, flags: { stackName: 'photos' }, file: undefined });
    expect(named).toMatchObject({ sourceBucket: 'photos-source-123456789012-eu-west-1', table: 'photos-metadata', functionName: 'photos-resize' });
  });

  it('reads the orchestration mode and state machine type from flag, environment or file, and rejects others', async () => {
    const fromEnv = await resolveInitSettings({ ...base, env: { IMG_RESIZER_ORCHESTRATION: 'stepfunctions' }, flags: {}, file: undefined });
    expect(fromEnv.settings).toMatchObject({ orchestration: 'stepfunctions', stateMachineType: 'express' });
    const fromFlag = await resolveInitSettings({ ...base, flags: { orchestration: 'direct', stateMachineType: 'standard' }, file: { orchestration: 'stepfunctions' } });
    expect(fromFlag.settings).toMatchObject({ orchestration: 'direct', stateMachineType: 'standard' });
    await expect(resolveInitSettings({ ...base, env: { IMG_RESIZER_ORCHESTRATION: 'sfn' }, flags: {}, file: undefined })).rejects.toThrow(/IMG_RESIZER_ORCHESTRATION/);
  });

  it('takes flags over environment over file over defaults', async () => {
    const file = { stackName: 'fromfile', table: 'file-table', memory: 512, timeout: 30, format: 'webp' as const };
    const env = { IMG_RESIZER_TABLE: 'env-table', IMG_RESIZER_MEMORY: '2048', IMG_RESIZER_FIT: 'inside' };
    const { settings, sources } = await resolveInitSettings({ ...base, env, flags: { memory: 4096 }, file });
    expect(settings).toMatchObject({ stackName: 'fromfile', table: 'env-table', memory: 4096, timeout: 30, format: 'webp', fit: 'inside', functionName: 'fromfile-resize' });
    expect(sources).toMatchObject({ memory: 'flag', table: 'env', timeout: 'file', format: 'file', fit: 'env', functionName: 'default' });
  });

  it('asks only for what flags, environment and file leave open, offering the defaults', async () => {
    const asked: string[] = [];
    const prompter: Prompter = {
      input: (message, defaultValue) => { asked.push(`${message} [${defaultValue}]`); return Promise.resolve(message.startsWith('Sizes') ? 'small=100x100, big=1000x800' : defaultValue); },
      select: (message, _choices, defaultValue) => { asked.push(`${message} [${defaultValue}]`); return Promise.resolve('jpeg' as typeof defaultValue); },
      confirm: () => Promise.resolve(true),
    };
    const { settings, sources } = await resolveInitSettings({ ...base, flags: { sourceBucket: 'my-uploads' }, file: undefined, prompter });
    expect(asked).toEqual([
      'Destination bucket (resized images go here) [img-resizer-dest-123456789012-eu-west-1]',
      'Sizes (name=WxH, comma-separated) [thumbnail=200x200]',
      'Output format [png]',
    ]);
    expect(settings).toMatchObject({ sourceBucket: 'my-uploads', sizes: 'small=100x100,big=1000x800', format: 'jpeg' });
    expect(sources).toMatchObject({ sourceBucket: 'flag', destBucket: 'prompt', format: 'prompt' });
  });

  it('rejects invalid values before any AWS call, with exit code 2', async () => {
    const attempt = (flags: Parameters<typeof resolveInitSettings>[0]['flags'], env = {}) => resolveInitSettings({ ...base, env, flags, file: undefined });
    await expect(attempt({ sourceBucket: 'My_Bucket' })).rejects.toThrow(UsageError);
    await expect(attempt({ sourceBucket: 'My_Bucket' })).rejects.toThrow(/may contain only lower-case letters/);
    await expect(attempt({ sizes: 'thumb=0x10' })).rejects.toMatchObject({ exitCode: 2 });
    await expect(attempt({ stackName: 'Bad Name' })).rejects.toThrow(/Stack name/);
    await expect(attempt({}, { IMG_RESIZER_FORMAT: 'gif' })).rejects.toThrow(/IMG_RESIZER_FORMAT: "gif" is not one of/);
    await expect(attempt({}, { IMG_RESIZER_MEMORY: 'lots' })).rejects.toThrow(/IMG_RESIZER_MEMORY/);
    await expect(attempt({ memory: 64 })).rejects.toThrow(/from 128 to 10240/);
    // a long stack name makes a default bucket name too long: said clearly, not sent to S3
    await expect(
      resolveInitSettings({ ...base, locate: located('ap-southeast-2'), flags: { stackName: 'a-very-long-stack-name-for-tests' }, file: undefined }),
    ).rejects.toThrow(/3 to 63 characters/);
  });

  it('checks given bucket names and sizes before asking AWS anything', async () => {
    let asked = false;
    const locate = () => { asked = true; return Promise.resolve({ account: '123456789012', region: 'eu-west-1' }); };
    await expect(resolveInitSettings({ env: {}, locate, flags: { destBucket: 'Nope' }, file: undefined })).rejects.toThrow(/Bucket name "Nope"/);
    await expect(resolveInitSettings({ env: { IMG_RESIZER_SIZES: 'x' }, locate, flags: {}, file: undefined })).rejects.toThrow(/Sizes "x"/);
    expect(asked).toBe(false);
  });

  it('allows one bucket for source and destination only with a trigger prefix that excludes the outputs', async () => {
    const attempt = (prefix?: string) => resolveInitSettings({ ...base, flags: { sourceBucket: 'shared-bucket', destBucket: 'shared-bucket', prefix }, file: undefined });
    await expect(attempt()).rejects.toThrow(/needs a trigger prefix/);
    await expect(attempt('resized/')).rejects.toThrow(/would include the outputs/);
    await expect(attempt('r')).rejects.toThrow(/would include the outputs/);
    await expect(attempt('uploads/')).resolves.toMatchObject({ settings: { prefix: 'uploads/' } });
  });
});

describe('bucket names', () => {
  it('follow S3\'s rules', () => {
    for (const good of ['abc', 'my.bucket-1', 'a'.repeat(63), defaultBucketNames('img-resizer', '123456789012', 'ap-southeast-2').sourceBucket]) {
      expect(bucketNameProblem(good), good).toBeUndefined();
    }
    const bad: Record<string, RegExp> = {
      ab: /3 to 63/,
      ['a'.repeat(64)]: /3 to 63/,
      'Upper': /lower-case/,
      'under_score': /lower-case/,
      '-start': /begin and end/,
      'end-': /begin and end/,
      'two..dots': /adjacent dots/,
      '192.168.1.1': /IP address/,
      'xn--bucket': /xn--/,
      'sthree-bucket': /sthree-/,
      'bucket-s3alias': /-s3alias/,
      'bucket--ol-s3': /--ol-s3/,
    };
    for (const [name, problem] of Object.entries(bad)) expect(bucketNameProblem(name), name).toMatch(problem);
  });

  it('same-bucket prefixes that would loop are refused', () => {
    expect(sameBucketProblem('incoming/')).toBeUndefined();
    expect(sameBucketProblem('resized-')).toBeDefined();
    expect(sameBucketProblem('')).toBeDefined();
  });
});

describe('settings file', () => {
  it('round-trips, and fills in fields an older file lacks from the stack name', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'settings-'));
    const file = path.join(dir, 'img-resizer.config.json');
    const { settings } = await resolveInitSettings({ ...base, flags: {}, file: undefined });
    await writeSettingsFile(file, settings);
    expect(await loadStackSettings(file)).toEqual(JSON.parse(JSON.stringify(settings)));
    expect(await readFile(file, 'utf8')).not.toMatch(/secret|accessKey|credential/i);
    await writeFile(file, JSON.stringify({ stackName: 'old', sourceBucket: 'old-src', destBucket: 'old-dst', table: 'old-t', functionName: 'old-f' }));
    expect(await loadStackSettings(file)).toMatchObject({ roleName: 'old-function-role', layerName: 'old-sharp', memory: 1024, arch: 'x86_64' });
  });
});
