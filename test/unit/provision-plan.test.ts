import { describe, expect, it } from 'vitest';
import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import type { FilterRuleName } from '@aws-sdk/client-s3';
import { bucketDifferences, planBucket, type DesiredBucket } from '../../src/provision/bucket.js';
import { planFunction, type DesiredFunction } from '../../src/provision/function.js';
import { planLayer } from '../../src/provision/layer.js';
import { planPermission } from '../../src/provision/permission.js';
import { normalizePolicy, parsePolicyDocument, policiesEqual } from '../../src/provision/policy.js';
import { planRole } from '../../src/provision/role.js';
import { ENVIRONMENT_LIMIT_BYTES, INVOKE_STATEMENT_ID, environmentProblem, stackModel } from '../../src/provision/stack.js';
import { planTable } from '../../src/provision/table.js';
import { desiredTrigger, explainTriggerError, mergeTrigger, overlappingEntries, planTrigger, removeTrigger } from '../../src/provision/trigger.js';
import type { StackSettings } from '../../src/config/settings.js';
import type { ProvisionOp } from '../../src/provision/steps.js';
import { describeOp } from '../../src/ui/provision.js';

/** A plan's ops as people read them (src/ui/provision.ts renders them; apply switches on the ops). */
const lines = (plan: { ops: readonly ProvisionOp[] }): string[] => plan.ops.flatMap(describeOp);

const settings: StackSettings = {
  stackName: 'demo',
  region: 'eu-west-1',
  sourceBucket: 'demo-source',
  destBucket: 'demo-dest',
  table: 'demo-metadata',
  functionName: 'demo-resize',
  roleName: 'demo-function-role',
  layerName: 'demo-sharp',
  sizes: 'thumbnail=200x200',
  format: 'png',
  fit: 'cover',
  arch: 'x86_64',
  memory: 1024,
  timeout: 60,
};
const identity = { account: '123456789012', partition: 'aws' };

describe('stack model', () => {
  it('grants exactly what the function uses, on its own resources, in the identity\'s partition', () => {
    const stack = stackModel({ ...settings, prefix: 'uploads/' }, { account: '123456789012', partition: 'aws-cn' }, 'cn-north-1');
    const policy = stack.functionPolicy as { Statement: { Action: string[]; Resource: string[] }[] };
    const grants = policy.Statement.flatMap((s) => s.Action.map((a) => `${a} ${s.Resource.join(' ')}`));
    expect(grants).toEqual([
      's3:GetObject arn:aws-cn:s3:::demo-source/uploads/*',
      's3:ListBucket arn:aws-cn:s3:::demo-source',
      's3:PutObject arn:aws-cn:s3:::demo-dest/resized-* arn:aws-cn:s3:::demo-dest/resized/*',
      'dynamodb:PutItem arn:aws-cn:dynamodb:cn-north-1:123456789012:table/demo-metadata',
      'logs:CreateLogGroup arn:aws-cn:logs:cn-north-1:123456789012:log-group:/aws/lambda/demo-resize:*',
      'logs:CreateLogStream arn:aws-cn:logs:cn-north-1:123456789012:log-group:/aws/lambda/demo-resize:log-stream:*',
      'logs:PutLogEvents arn:aws-cn:logs:cn-north-1:123456789012:log-group:/aws/lambda/demo-resize:log-stream:*',
      's3:DeleteObject arn:aws-cn:s3:::demo-dest/resized-* arn:aws-cn:s3:::demo-dest/resized/*',
      'sns:Publish arn:aws-cn:sns:cn-north-1:123456789012:demo-outcomes',
      'sqs:SendMessage arn:aws-cn:sqs:cn-north-1:123456789012:demo-failed-events',
    ]);
    expect(policy.Statement.every((s) => s.Resource.every((r) => r !== '*'))).toBe(true);
    expect(stack.trustPolicy).toMatchObject({ Statement: [{ Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
    expect(stack.environment).toMatchObject({ DEST_BUCKET: 'demo-dest', TABLE_NAME: 'demo-metadata', SOURCE_BUCKET: 'demo-source', SIZES: 'thumbnail=200x200' });
    expect(stack.functionArn).toBe('arn:aws-cn:lambda:cn-north-1:123456789012:function:demo-resize');
  });
});

describe('bucket plan', () => {
  const desired: DesiredBucket = { name: 'demo-source', region: 'eu-west-1', tags: { 'img-resizer:stack': 'demo' } };
  const good = {
    publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    encryption: 'AES256',
    ownership: 'BucketOwnerEnforced',
    tags: { 'img-resizer:stack': 'demo', team: 'media' },
  };

  it('creates a missing bucket', () => {
    expect(planBucket(desired, { presence: { kind: 'absent' } })).toMatchObject({ action: 'create', reason: 'does not exist' });
  });

  it('leaves a bucket configured as required alone, whatever other tags it has', () => {
    expect(planBucket(desired, { presence: { kind: 'present', region: 'eu-west-1' }, settings: good }).action).toBe('no-op');
  });

  it('lists each missing setting', () => {
    const plan = planBucket(desired, {
      presence: { kind: 'present', region: 'eu-west-1' },
      settings: { publicAccessBlock: { ...good.publicAccessBlock, RestrictPublicBuckets: false }, encryption: undefined, ownership: 'ObjectWriter', tags: {} },
    });
    expect(plan.action).toBe('update');
    expect(plan.ops).toEqual([
      { kind: 'block-public-access' },
      { kind: 'encrypt-by-default' },
      { kind: 'enforce-bucket-owner', from: 'ObjectWriter' },
      { kind: 'tag-bucket', key: 'img-resizer:stack', value: 'demo' },
    ]);
    expect(lines(plan)).toEqual([
      'turn on all four Block Public Access settings',
      'turn on default encryption (SSE-S3)',
      'object ownership ObjectWriter → BucketOwnerEnforced',
      'tag img-resizer:stack=demo',
    ]);
  });

  it('accepts SSE-KMS as default encryption', () => {
    expect(bucketDifferences(desired, { ...good, encryption: 'aws:kms' })).toEqual([]);
  });

  it('refuses a name owned by another account, and a bucket in another region', () => {
    // Blocked plans, not exceptions: a dry run and status show them; apply fails with the blocker's code.
    expect(planBucket(desired, { presence: { kind: 'forbidden' } })).toMatchObject({
      action: 'blocked',
      reason: expect.stringMatching(/belongs to another AWS account/) as string,
      blocker: { code: 'BUCKET_NAME_TAKEN' },
    });
    expect(planBucket(desired, { presence: { kind: 'present', region: 'us-west-2' }, settings: good })).toMatchObject({
      action: 'blocked',
      reason: expect.stringMatching(/exists in us-west-2/) as string,
      blocker: { code: 'BUCKET_IN_OTHER_REGION' },
    });
  });
});

describe('table plan', () => {
  const desired = { name: 'demo-metadata', hashKey: 'ImageID' };
  const table = (overrides: Partial<TableDescription> = {}): TableDescription => ({
    TableName: 'demo-metadata',
    TableStatus: 'ACTIVE',
    KeySchema: [{ AttributeName: 'ImageID', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'ImageID', AttributeType: 'S' }],
    BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    ...overrides,
  });

  it('creates, keeps, and switches billing', () => {
    expect(planTable(desired, undefined).action).toBe('create');
    expect(planTable(desired, table()).action).toBe('no-op');
    const billing = planTable(desired, table({ BillingModeSummary: undefined }));
    expect(billing.ops).toEqual([{ kind: 'switch-to-on-demand', from: 'PROVISIONED' }]);
    expect(lines(billing)).toEqual(['billing PROVISIONED → on-demand']);
  });

  it('refuses a table with another key schema rather than reuse it', () => {
    const other = table({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }, { AttributeName: 'ts', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }, { AttributeName: 'ts', AttributeType: 'N' }],
    });
    expect(planTable(desired, other)).toMatchObject({ action: 'blocked', blocker: { code: 'TABLE_KEY_SCHEMA_CONFLICT' } });
    expect(planTable(desired, other).reason).toMatch(/id \(HASH\), ts \(RANGE\)/);
    expect(planTable(desired, table({ AttributeDefinitions: [{ AttributeName: 'ImageID', AttributeType: 'N' }] })).reason).toMatch(/of type N/);
    expect(planTable(desired, table({ TableStatus: 'DELETING' }))).toMatchObject({ action: 'blocked', blocker: { code: 'TABLE_BEING_DELETED' } });
  });
});

describe('policy comparison', () => {
  const stack = stackModel(settings, identity, 'eu-west-1');

  it('reads the URL-encoded documents IAM returns and ignores order and single-value lists', () => {
    const reordered = {
      Version: '2012-10-17',
      Statement: [...(stack.functionPolicy as { Statement: Record<string, unknown>[] }).Statement]
        .reverse()
        .map((s) => ({ ...s, Action: Array.isArray(s.Action) && s.Action.length === 1 ? (s.Action[0] as unknown) : s.Action })),
    };
    const encoded = encodeURIComponent(JSON.stringify(reordered));
    expect(policiesEqual(stack.functionPolicy, parsePolicyDocument(encoded))).toBe(true);
    expect(normalizePolicy(parsePolicyDocument(encoded))).toEqual(normalizePolicy(stack.functionPolicy));
  });

  it('plans an in-place update when the inline policy grants something else', () => {
    const widened = JSON.parse(JSON.stringify(stack.functionPolicy)) as { Statement: { Sid: string; Resource: string[] }[] };
    widened.Statement[0]!.Resource = ['*'];
    const plan = planRole(
      { roleName: 'demo-function-role', trustPolicy: stack.trustPolicy, policyName: 'p', policy: stack.functionPolicy },
      { role: { RoleName: 'r', Arn: 'a', Path: '/', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(stack.trustPolicy)) }, policyDocument: encodeURIComponent(JSON.stringify(widened)) },
    );
    expect(plan).toMatchObject({ action: 'update', ops: [{ kind: 'put-inline-policy', policyName: 'p', missing: false, differences: ['statement ReadSourceObjects differs'] }] });
    expect(lines(plan)).toEqual(['inline policy p: statement ReadSourceObjects differs']);
  });

  it('plans a trust fix when another principal may assume the role', () => {
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] };
    const plan = planRole(
      { roleName: 'r', trustPolicy: stack.trustPolicy, policyName: 'p', policy: stack.functionPolicy },
      { role: { RoleName: 'r', Arn: 'a', Path: '/', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: JSON.stringify(trust) }, policyDocument: JSON.stringify(stack.functionPolicy) },
    );
    expect(plan.ops).toEqual([{ kind: 'update-trust-policy' }]);
    expect(lines(plan)).toEqual(['trust policy differs: lambda.amazonaws.com only']);
  });
});

describe('layer plan', () => {
  const hash = 'a'.repeat(64);
  it('publishes only when the latest version holds other bytes', () => {
    expect(planLayer({ sha256: hash, architecture: 'x86_64', runtime: 'nodejs22.x' }, { versions: [] }).action).toBe('create');
    const latest = { Version: 3, Description: `sharp 0.35.5 linux-x64 glibc sha256:${hash}`, CompatibleArchitectures: ['x86_64' as const] };
    expect(planLayer({ sha256: hash, architecture: 'x86_64', runtime: 'nodejs22.x' }, { versions: [latest] }).action).toBe('no-op');
    expect(planLayer({ sha256: 'b'.repeat(64), architecture: 'x86_64', runtime: 'nodejs22.x' }, { versions: [latest] })).toMatchObject({ action: 'update', ops: [{ kind: 'publish-layer-version', version: 4 }] });
    expect(planLayer({ sha256: hash, architecture: 'arm64', runtime: 'nodejs22.x' }, { versions: [latest] }).action).toBe('update');
    // status compares no bytes: an existing version is enough
    expect(planLayer({ sha256: undefined, architecture: 'x86_64', runtime: 'nodejs22.x' }, { versions: [latest] }).action).toBe('no-op');
  });
});

describe('function plan', () => {
  const desired: DesiredFunction = {
    functionName: 'demo-resize',
    roleArn: 'arn:aws:iam::123456789012:role/demo-function-role',
    runtime: 'nodejs22.x',
    handler: 'index.handler',
    memory: 1024,
    timeout: 60,
    architecture: 'x86_64',
    layers: ['arn:aws:lambda:eu-west-1:123456789012:layer:demo-sharp:2'],
    environment: { DEST_BUCKET: 'demo-dest', TABLE_NAME: 'demo-metadata' },
    description: 'd',
    codeSha256: 'abc=',
  };
  const deployed: FunctionConfiguration = {
    FunctionName: 'demo-resize',
    Role: desired.roleArn,
    Runtime: 'nodejs22.x',
    Handler: 'index.handler',
    MemorySize: 1024,
    Timeout: 60,
    Architectures: ['x86_64'],
    Layers: [{ Arn: desired.layers[0] }],
    Environment: { Variables: { ...desired.environment } },
    CodeSha256: 'abc=',
    State: 'Active',
    LastUpdateStatus: 'Successful',
  };

  it('creates, then changes nothing when code and configuration match', () => {
    expect(planFunction(desired, undefined).action).toBe('create');
    expect(planFunction(desired, deployed).action).toBe('no-op');
  });

  it('names each differing field', () => {
    const plan = planFunction(desired, {
      ...deployed,
      CodeSha256: 'old=',
      MemorySize: 512,
      Layers: [{ Arn: 'arn:aws:lambda:eu-west-1:123456789012:layer:demo-sharp:1' }],
      Environment: { Variables: { DEST_BUCKET: 'elsewhere', TABLE_NAME: 'demo-metadata', EXTRA: '1' } },
    });
    expect(plan.ops.map((op) => op.kind)).toEqual(['update-code', 'update-config']);
    expect(plan.ops[1]).toMatchObject({
      kind: 'update-config',
      changes: [
        { field: 'memory', from: 512, to: 1024 },
        { field: 'layers' },
        { field: 'environment', variables: [{ name: 'DEST_BUCKET', from: 'elsewhere', to: 'demo-dest' }, { name: 'EXTRA', from: '1', to: undefined }] },
      ],
    });
    expect(lines(plan)).toEqual([
      'code changed',
      'memory 512 → 1024 MB',
      'layers arn:aws:lambda:eu-west-1:123456789012:layer:demo-sharp:1 → arn:aws:lambda:eu-west-1:123456789012:layer:demo-sharp:2',
      'environment DEST_BUCKET, EXTRA',
    ]);
  });

  it('ignores the code when no package is given (status)', () => {
    expect(planFunction({ ...desired, codeSha256: undefined }, { ...deployed, CodeSha256: 'other=' }).action).toBe('no-op');
  });
});

describe('permission plan', () => {
  const desired = { functionName: 'f', statementId: INVOKE_STATEMENT_ID, principal: 's3.amazonaws.com', sourceArn: 'arn:aws:s3:::demo-source', sourceAccount: '123456789012' };
  const statement = {
    Sid: INVOKE_STATEMENT_ID,
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'lambda:InvokeFunction',
    Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
    Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::demo-source' }, StringEquals: { 'AWS:SourceAccount': '123456789012' } },
  };
  it('creates, keeps, and replaces a statement that allows another source', () => {
    expect(planPermission(desired, undefined).action).toBe('create');
    expect(planPermission(desired, []).action).toBe('create');
    expect(planPermission(desired, [statement]).action).toBe('no-op');
    const other = { ...statement, Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::other' } } };
    expect(lines(planPermission(desired, [other]))).toEqual(['source arn:aws:s3:::other → arn:aws:s3:::demo-source', 'source account any → 123456789012']);
  });
});

describe('trigger plan and merge', () => {
  const ours = desiredTrigger({ id: 'img-resizer-demo', functionArn: 'arn:aws:lambda:eu-west-1:1:function:demo-resize', prefix: 'uploads/' });
  const queue = { Id: 'audit', QueueArn: 'arn:aws:sqs:eu-west-1:1:audit', Events: ['s3:ObjectRemoved:*' as const] };
  const otherFunction = { Id: 'other', LambdaFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:other', Events: ['s3:ObjectCreated:Put' as const] };

  it('renders our entry from the template, with only the filters given', () => {
    expect(ours).toEqual({
      Id: 'img-resizer-demo',
      LambdaFunctionArn: 'arn:aws:lambda:eu-west-1:1:function:demo-resize',
      Events: ['s3:ObjectCreated:*'],
      Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } },
    });
    expect(desiredTrigger({ id: 'x', functionArn: 'f' }).Filter).toBeUndefined();
  });

  it('merges ours in, keeping every other configuration', () => {
    const existing = { QueueConfigurations: [queue], LambdaFunctionConfigurations: [otherFunction], EventBridgeConfiguration: {} };
    expect(planTrigger(ours, existing).action).toBe('create');
    const merged = mergeTrigger(existing, ours);
    expect(merged).toEqual({ QueueConfigurations: [queue], LambdaFunctionConfigurations: [otherFunction, ours], EventBridgeConfiguration: {} });
    expect(removeTrigger(merged, ours)).toEqual(existing);
  });

  it('is a no-op when equal, even with S3\'s capitalised rule names', () => {
    const asReturned = { ...ours, Filter: { Key: { FilterRules: [{ Name: 'Prefix' as unknown as FilterRuleName, Value: 'uploads/' }] } } };
    expect(planTrigger(ours, { LambdaFunctionConfigurations: [asReturned] }).action).toBe('no-op');
    const changed = { ...ours, Filter: undefined };
    expect(lines(planTrigger(ours, { LambdaFunctionConfigurations: [changed] }))).toEqual(['filter none → prefix=uploads/']);
  });
});

describe('trigger overlap (S3 refuses two destinations for the same event and keys)', () => {
  const ours = desiredTrigger({ id: 'img-resizer-demo', functionArn: 'arn:aws:lambda:eu-west-1:1:function:demo-resize', prefix: 'uploads/' });
  const entry = (id: string, events: string[], prefix?: string, suffix?: string) => ({
    Id: id,
    QueueArn: `arn:aws:sqs:eu-west-1:1:${id}`,
    Events: events as never[],
    ...(prefix === undefined && suffix === undefined
      ? {}
      : { Filter: { Key: { FilterRules: [...(prefix === undefined ? [] : [{ Name: 'Prefix' as FilterRuleName, Value: prefix }]), ...(suffix === undefined ? [] : [{ Name: 'Suffix' as FilterRuleName, Value: suffix }])] } } }),
  });

  it('finds entries sharing an event type whose filters cover the same keys', () => {
    const existing = {
      QueueConfigurations: [
        entry('all-puts', ['s3:ObjectCreated:Put']),
        entry('narrower', ['s3:ObjectCreated:*'], 'uploads/raw/'),
        entry('wider', ['s3:ObjectCreated:*'], 'up'),
        entry('elsewhere', ['s3:ObjectCreated:*'], 'archive/'),
        entry('removals', ['s3:ObjectRemoved:*']),
        entry('jpg-only', ['s3:ObjectCreated:*'], undefined, '.jpg'),
      ],
    };
    expect(overlappingEntries(existing, ours).map((o) => o.id)).toEqual(['all-puts', 'narrower', 'wider', 'jpg-only']);
    const jpg = desiredTrigger({ id: 'x', functionArn: 'f', suffix: '.png' });
    expect(overlappingEntries({ QueueConfigurations: [entry('jpg-only', ['s3:ObjectCreated:*'], undefined, '.jpg')] }, jpg)).toEqual([]);
  });

  it('never counts our own entry, by Id or by target', () => {
    expect(overlappingEntries({ LambdaFunctionConfigurations: [{ ...ours, Id: 'renamed' }, ours] }, ours)).toEqual([]);
  });

  it('turns S3\'s own refusal into an error that says what to do', () => {
    const overlap = Object.assign(new Error('Configurations overlap. Configurations on the same bucket cannot share a common event type.'), { name: 'InvalidArgument' });
    expect(explainTriggerError(overlap, 'demo-source', ours)).toMatchObject({ code: 'TRIGGER_OVERLAP', suggestion: expect.stringContaining('--trigger-prefix') as string });
    const unvalidated = Object.assign(new Error('Unable to validate the following destination configurations'), { name: 'InvalidArgument' });
    expect(explainTriggerError(unvalidated, 'demo-source', ours)).toMatchObject({ code: 'TRIGGER_DESTINATION_INVALID' });
    const other = Object.assign(new Error('nope'), { name: 'AccessDenied' });
    expect(explainTriggerError(other, 'demo-source', ours)).toBe(other);
  });
});

describe('bucket adoption', () => {
  const desired: DesiredBucket = { name: 'photos', region: 'eu-west-1', tags: { 'img-resizer:stack': 'demo' } };
  const settled = {
    publicAccessBlock: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
    encryption: 'AES256',
    ownership: 'BucketOwnerEnforced',
    tags: {},
  };
  it('marks an existing bucket that holds objects as adopted, so destroy keeps it', () => {
    const plan = planBucket(desired, { presence: { kind: 'present', region: 'eu-west-1' }, settings: settled, adopt: true });
    expect(lines(plan)).toEqual(['tag img-resizer:stack=demo', 'tag img-resizer:adopted=true', 'adopt: it already holds objects, so destroy will keep it']);
    expect(planBucket(desired, { presence: { kind: 'present', region: 'eu-west-1' }, settings: settled, adopt: false }).ops).toEqual([{ kind: 'tag-bucket', key: 'img-resizer:stack', value: 'demo' }]);
  });
});

describe('role with more than the function uses', () => {
  const stack = stackModel(settings, identity, 'eu-west-1');
  it('plans to detach managed policies and delete other inline policies', () => {
    const role = { RoleName: 'r', Arn: 'a', Path: '/', RoleId: 'x', CreateDate: new Date(), AssumeRolePolicyDocument: JSON.stringify(stack.trustPolicy) };
    const plan = planRole(
      { roleName: 'r', trustPolicy: stack.trustPolicy, policyName: 'img-resizer-function', policy: stack.functionPolicy },
      {
        role,
        policyDocument: JSON.stringify(stack.functionPolicy),
        managedPolicies: ['arn:aws:iam::aws:policy/AmazonS3FullAccess'],
        otherInlinePolicies: ['img-resizer-function', 'legacy'],
      },
    );
    expect(plan.ops).toEqual([
      { kind: 'detach-managed-policy', policyArn: 'arn:aws:iam::aws:policy/AmazonS3FullAccess' },
      { kind: 'delete-inline-policy', policyName: 'legacy' },
    ]);
    expect(lines(plan)).toEqual(['detach managed policy arn:aws:iam::aws:policy/AmazonS3FullAccess', 'delete inline policy legacy']);
  });
});

describe('function environment size', () => {
  it('is refused before anything changes when over Lambda\'s 4 KB', () => {
    const stack = stackModel(settings, identity, 'eu-west-1');
    expect(environmentProblem(stack.environment)).toBeUndefined();
    const big = { ...stack.environment, SIZES: 'x'.repeat(ENVIRONMENT_LIMIT_BYTES) };
    expect(environmentProblem(big)).toMatch(/over Lambda's 4096-byte limit \(largest: SIZES\)/);
  });
});
