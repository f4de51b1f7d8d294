import { describe, expect, it } from 'vitest';
import { addFilter, filterPolicy, notifyProtocol, parseNotifyList } from '../../src/config/notify-targets.js';
import { grantsPublicRead, planBucket, previousSettingsTag } from '../../src/provision/bucket.js';
import { planSubscriptions } from '../../src/provision/subscriptions.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:pics-outcomes';
const QUEUE = 'arn:aws:sqs:eu-west-1:123456789012:jobs';

describe('--notify targets', () => {
  it('infers the protocol from the target, refusing plain http', () => {
    expect(notifyProtocol(QUEUE)).toBe('sqs');
    expect(notifyProtocol('arn:aws:lambda:eu-west-1:123456789012:function:on-image')).toBe('lambda');
    expect(notifyProtocol('https://hooks.example.com/images')).toBe('https');
    expect(notifyProtocol('ops@example.com')).toBe('email');
    expect(() => notifyProtocol('http://hooks.example.com/')).toThrow(/not an SQS queue ARN/);
  });

  it('pairs filters with their target, merging values of one key', () => {
    const target = addFilter(addFilter({ endpoint: QUEUE }, 'status=FAILED'), 'status=DELETED,FAILED');
    expect(target.filter).toEqual({ status: ['FAILED', 'DELETED'] });
    expect(filterPolicy(target)).toBe('{"status":["DELETED","FAILED"]}');
    expect(() => addFilter(target, 'colour=red')).toThrow(/not one of/);
    expect(parseNotifyList(`${QUEUE}|status=FAILED  ops@example.com`)).toEqual([{ endpoint: QUEUE, filter: { status: ['FAILED'] } }, { endpoint: 'ops@example.com' }]);
  });

  it('subscribes what is missing, fixes a differing filter, and leaves other subscriptions alone', () => {
    const observed = [
      { arn: `${TOPIC}:1`, protocol: 'sqs', endpoint: QUEUE, confirmed: true, filterPolicy: '{"status": ["SUCCEEDED"]}' },
      { arn: `${TOPIC}:2`, protocol: 'sqs', endpoint: 'arn:aws:sqs:eu-west-1:123456789012:pics-events-ab12cd34', confirmed: true, filterPolicy: undefined },
    ];
    const plan = planSubscriptions([{ endpoint: QUEUE, filter: { status: ['FAILED'] } }, { endpoint: 'ops@example.com' }], TOPIC, observed);
    expect(plan.ops).toEqual([
      { kind: 'set-filter-policy', endpoint: QUEUE, subscriptionArn: `${TOPIC}:1`, from: '{"status": ["SUCCEEDED"]}', to: '{"status":["FAILED"]}' },
      { kind: 'subscribe', protocol: 'email', endpoint: 'ops@example.com', filterPolicy: undefined, grantNeeded: undefined },
    ]);
    const converged = planSubscriptions([{ endpoint: QUEUE, filter: { status: ['FAILED'] } }], TOPIC, [{ ...observed[0]!, filterPolicy: '{"status":["FAILED"]}' }]);
    expect(converged.action).toBe('no-op');
    const fresh = planSubscriptions([{ endpoint: QUEUE }], TOPIC, []);
    expect(fresh.ops[0]).toMatchObject({ kind: 'subscribe', protocol: 'sqs', grantNeeded: expect.stringContaining(`"aws:SourceArn":"${TOPIC}"`) as string });
  });
});

describe('adopted buckets', () => {
  const desired = { name: 'photos', region: 'eu-west-1', tags: { 'img-resizer:stack': 'pics' } };
  const present = { kind: 'present' as const, region: 'eu-west-1' };
  const open = { publicAccessBlock: undefined, encryption: undefined, ownership: 'ObjectWriter', tags: {} };

  it('recognises policies that let anyone read objects', () => {
    const policy = (statement: object) => JSON.stringify({ Statement: [statement] });
    expect(grantsPublicRead(policy({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject' }))).toBe(true);
    expect(grantsPublicRead(policy({ Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:*'] }))).toBe(true);
    expect(grantsPublicRead(policy({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' }, Action: 's3:GetObject' }))).toBe(false);
    expect(grantsPublicRead(policy({ Effect: 'Deny', Principal: '*', Action: 's3:GetObject' }))).toBe(false);
    expect(grantsPublicRead(undefined)).toBe(false);
  });

  it('blocks locking a publicly readable bucket unless allowed, and records what it changes', () => {
    const observed = { presence: present, settings: open, adopt: true, publicRead: true };
    expect(planBucket(desired, observed)).toMatchObject({ action: 'blocked', blocker: { code: 'BUCKET_PUBLICLY_READABLE' } });
    const allowed = planBucket(desired, observed, { allowLockPublicBucket: true });
    expect(allowed.action).toBe('update');
    expect(allowed.ops).toContainEqual({ kind: 'tag-bucket', key: 'img-resizer:previous-settings', value: 'pab=none enc=none own=ObjectWriter' });
    expect(previousSettingsTag({ ...open, publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: true, RestrictPublicBuckets: false } })).toBe('pab=1010 enc=none own=ObjectWriter');
  });
});
