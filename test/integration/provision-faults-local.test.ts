import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type CreateBucketCommandInput,
  type PutBucketNotificationConfigurationCommandInput,
  type QueueConfiguration,
} from '@aws-sdk/client-s3';
import yazl from 'yazl';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { AwsClients } from '../../src/aws/clients.js';
import { createBucket, putNotificationConfiguration } from '../../src/aws/s3.js';
import { createFunction, type FunctionSpec } from '../../src/aws/lambda.js';
import { localTarget } from '../../src/aws/target.js';
import type { StackSettings } from '../../src/config/settings.js';
import { CliError } from '../../src/errors.js';
import { bucketStep } from '../../src/provision/bucket.js';
import { defineStep, runSteps } from '../../src/provision/runner.js';
import { stackModel } from '../../src/provision/stack.js';
import { triggerStep } from '../../src/provision/trigger.js';
import type { ProvisionContext } from '../../src/provision/types.js';
import { RequestRecorder } from '../helpers/request-recorder.js';
import { uniqueStackName } from '../helpers/deploy.js';
import { captureInputs } from '../helpers/request-recorder.js';

const endpoint = inject('ministackEndpoint');
/** MiniStack's default account, the one the local credentials act as. */
const ACCOUNT = '000000000000';
const opened: AwsClients[] = [];

afterAll(() => {
  for (const clients of opened) clients.destroy();
});

/** Clients on the local stack; a 12-digit access key makes MiniStack act as that account. */
function localClients(options: { region?: string; account?: string; recorder?: RequestRecorder } = {}): AwsClients {
  const target = localTarget(endpoint, {});
  const clients = new AwsClients(
    {
      ...target,
      ...(options.region ? { region: options.region } : {}),
      ...(options.account ? { credentials: { accessKeyId: options.account, secretAccessKey: 'x' } } : {}),
    },
    { hooks: options.recorder ? [options.recorder.hook] : [] },
  );
  opened.push(clients);
  return clients;
}


function testSettings(): StackSettings {
  const stackName = uniqueStackName('pf');
  return {
    stackName, sourceBucket: `${stackName}-source`, destBucket: `${stackName}-dest`, table: `${stackName}-metadata`,
    functionName: `${stackName}-resize`, roleName: `${stackName}-function-role`, layerName: `${stackName}-sharp`,
    sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64', memory: 1024, timeout: 60,
  };
}

function provisionContext(settings: StackSettings, clients: AwsClients): ProvisionContext {
  return {
    clients,
    stack: stackModel(settings, { account: ACCOUNT, partition: 'aws' }, 'us-east-1'),
    artifacts: undefined,
  };
}

describe('a bucket name owned by another account', () => {
  it('is reported clearly when HeadBucket answers 403', async () => {
    const settings = testSettings();
    await localClients({ account: '111111111111' }).s3.send(new CreateBucketCommand({ Bucket: settings.sourceBucket }));
    const recorder = new RequestRecorder();
    const error = await runSteps(provisionContext(settings, localClients({ recorder })), [defineStep(bucketStep('source'))], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'BUCKET_NAME_TAKEN',
      message: expect.stringContaining(`The bucket name "${settings.sourceBucket}" belongs to another AWS account`) as string,
    });
    expect(recorder.operations()).toContain('s3:HeadBucket');
    expect(recorder.operations()).not.toContain('s3:CreateBucket');
  });
});

describe('a bucket in another region', () => {
  it('is named with its region (301 PermanentRedirect)', async () => {
    const settings = testSettings();
    const west = localClients({ region: 'eu-west-1' });
    await west.s3.send(new CreateBucketCommand({ Bucket: settings.sourceBucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    const recorder = new RequestRecorder();
    const error = await runSteps(provisionContext(settings, localClients({ recorder })), [defineStep(bucketStep('source'))], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'BUCKET_IN_OTHER_REGION',
      message: `The bucket "${settings.sourceBucket}" exists in eu-west-1, but the stack is in us-east-1.`,
    });
    expect((error as CliError).suggestion).toContain('--region eu-west-1');
    expect(recorder.operations()).not.toContain('s3:CreateBucket');
  });
});

describe('creating a bucket', () => {
  it('sends a LocationConstraint outside us-east-1 only', async () => {
    // MiniStack, like S3, refuses LocationConstraint "us-east-1" (InvalidLocationConstraint).
    const { s3 } = localClients();
    const inputs = captureInputs<CreateBucketCommandInput>(s3, 'CreateBucketCommand');
    const [eastName, westName] = [`${uniqueStackName('pf')}-east`, `${uniqueStackName('pf')}-west`];
    expect(await createBucket(s3, eastName, 'us-east-1')).toBe('created');
    expect(await createBucket(s3, westName, 'eu-west-1')).toBe('created');
    const [east, west] = inputs;
    expect(east?.CreateBucketConfiguration).toBeUndefined();
    expect(west?.CreateBucketConfiguration).toEqual({ LocationConstraint: 'eu-west-1' });
    const westClient = localClients({ region: 'eu-west-1' }).s3;
    expect((await westClient.send(new GetBucketLocationCommand({ Bucket: westName }))).LocationConstraint).toBe('eu-west-1');
  });
});

describe('a trigger that overlaps another destination', () => {
  // SQS is not among the local stack's services, so the queue is a destination that does not exist; S3 keeps such
  // an entry when it is written with SkipDestinationValidation, as another tool may have done.
  const queue: QueueConfiguration = { Id: 'thumbnails-v1', QueueArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:thumbs`, Events: ['s3:ObjectCreated:*'] };

  it('is refused at plan time, before anything changes, naming the other entry', async () => {
    const settings = testSettings();
    const setup = localClients().s3;
    await setup.send(new CreateBucketCommand({ Bucket: settings.sourceBucket }));
    await setup.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: settings.sourceBucket,
        NotificationConfiguration: { QueueConfigurations: [queue] },
        SkipDestinationValidation: true,
      }),
    );
    const recorder = new RequestRecorder();
    // A dry run shows the conflict as a blocked plan; a real run fails with its typed error, before any change.
    const [planned] = await runSteps(provisionContext(settings, localClients({ recorder })), [defineStep(triggerStep)], { dryRun: true });
    expect(planned).toMatchObject({ action: 'blocked', status: 'blocked', error: 'TRIGGER_OVERLAP', reason: expect.stringContaining(`"thumbnails-v1" → ${queue.QueueArn}`) as string });
    const error = await runSteps(provisionContext(settings, localClients({ recorder })), [defineStep(triggerStep)], { dryRun: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRIGGER_OVERLAP', message: expect.stringContaining(`"thumbnails-v1" → ${queue.QueueArn}`) as string });
    expect(recorder.operations()).toContain('s3:GetBucketNotificationConfiguration');
    expect(recorder.operations()).not.toContain('s3:PutBucketNotificationConfiguration');
  });

  it('destroy\'s removal skips destination validation, so another tool\'s dead destination cannot block it', async () => {
    const bucket = `${uniqueStackName('pf')}-source`;
    const { s3 } = localClients();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const inputs = captureInputs<PutBucketNotificationConfigurationCommandInput>(s3, 'PutBucketNotificationConfigurationCommand');
    // What is left after removing our entry: the other tool's entry, whose queue is gone. Validated, S3 refuses it.
    const remaining = { QueueConfigurations: [queue] };
    await expect(putNotificationConfiguration(s3, bucket, remaining)).rejects.toThrow(/Unable to validate/);
    await putNotificationConfiguration(s3, bucket, remaining, { skipDestinationValidation: true });
    expect(inputs.at(-1)?.SkipDestinationValidation).toBe(true);
    const stored = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    expect(stored.QueueConfigurations?.map((q) => q.Id)).toEqual(['thumbnails-v1']);
  });
});

/** A deployment package whose contents unzip to more than Lambda's 250 MB (zeros, so it is tiny zipped). */
async function oversizedZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const chunk = Buffer.alloc(1024 * 1024);
  zip.addReadStream(Readable.from((function* () { for (let i = 0; i < 251; i++) yield chunk; })()), 'zeros.bin');
  zip.end();
  return buffer(zip.outputStream);
}

describe('IAM propagation', () => {
  it('does not retry other CreateFunction errors', async () => {
    const recorder = new RequestRecorder();
    const { lambda } = localClients({ recorder });
    const name = uniqueStackName('pf');
    const spec: FunctionSpec = {
      functionName: name, roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}-role`, runtime: 'nodejs22.x', handler: 'index.handler',
      memory: 1024, timeout: 60, architecture: 'x86_64', layers: [], environment: {}, description: '',
    };
    const fast = { minTimeoutMs: 5, maxTimeoutMs: 10, maxRetryTimeMs: 300 };
    await expect(createFunction(lambda, spec, await oversizedZip(), {}, fast)).rejects.toThrow(/Unzipped size/);
    expect(recorder.operations().filter((o) => o === 'lambda:CreateFunction')).toHaveLength(1);
  });
});
