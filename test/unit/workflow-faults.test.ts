// aws-sdk-client-mock here because MiniStack deletes a state machine at once, while AWS deletes it
// asynchronously and refuses its name (StateMachineDeleting) meanwhile: only a mock shows the replace waiting.
import { afterEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { CreateStateMachineCommand, DeleteStateMachineCommand, DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { AwsClients } from '../../src/aws/clients.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import type { StackSettings } from '../../src/config/settings.js';
import { defineStep, runSteps } from '../../src/provision/runner.js';
import { stackModel } from '../../src/provision/stack.js';
import type { ProvisionContext } from '../../src/provision/types.js';
import { stateMachineStep } from '../../src/provision/workflow.js';

const sfnMock = mockClient(SFNClient);
afterEach(() => sfnMock.reset());

const settings: StackSettings = {
  stackName: 'demo', sourceBucket: 'demo-source', destBucket: 'demo-dest', table: 'demo-metadata', functionName: 'demo-resize',
  roleName: 'demo-function-role', layerName: 'demo-sharp', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64',
  memory: 1024, timeout: 60, orchestration: 'stepfunctions', stateMachineType: 'express',
};

function provisionContext(): ProvisionContext {
  const clients = new AwsClients({ kind: 'endpoint', region: 'us-east-1', profile: undefined, endpoint: 'http://127.0.0.1:1', endpointOverridden: true, credentials: LOCAL_CREDENTIALS });
  return {
    clients,
    stack: stackModel(settings, { account: '123456789012', partition: 'aws' }, 'us-east-1'),
    artifacts: undefined,
    propagationRetry: { minTimeoutMs: 5, maxTimeoutMs: 10, maxRetryTimeMs: 2_000 },
  };
}

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

describe('replacing the state machine (a type change) on AWS', () => {
  it('waits while the old one is still being deleted: CreateStateMachine is retried on StateMachineDeleting', async () => {
    const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:demo-workflow';
    sfnMock.on(DescribeStateMachineCommand).resolves({ stateMachineArn: arn, type: 'STANDARD', status: 'ACTIVE', definition: '{}', roleArn: 'r' });
    sfnMock.on(DeleteStateMachineCommand).resolves({});
    const deleting = awsError('StateMachineDeleting', 'State machine is being deleted: demo-workflow');
    sfnMock.on(CreateStateMachineCommand).rejectsOnce(deleting).rejectsOnce(deleting).resolves({ stateMachineArn: arn });

    const [result] = await runSteps(provisionContext(), [defineStep(stateMachineStep)], { dryRun: false });
    expect(result).toMatchObject({ status: 'applied', changes: ['type STANDARD → EXPRESS: delete and create again'] });
    expect(sfnMock.commandCalls(DeleteStateMachineCommand)).toHaveLength(1);
    expect(sfnMock.commandCalls(CreateStateMachineCommand)).toHaveLength(3);
    expect(sfnMock.commandCalls(CreateStateMachineCommand)[2]?.args[0].input).toMatchObject({ name: 'demo-workflow', type: 'EXPRESS' });
  });
});
