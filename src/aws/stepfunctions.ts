import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  UpdateStateMachineCommand,
  type DescribeExecutionCommandOutput,
  type DescribeStateMachineCommandOutput,
  type ExecutionListItem,
  type ExecutionStatus,
  type LoggingConfiguration,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { awsErrorName } from '../errors.js';

export type StateMachineDescription = Pick<
  DescribeStateMachineCommandOutput,
  'stateMachineArn' | 'definition' | 'roleArn' | 'type' | 'status' | 'loggingConfiguration'
>;

/** Execution logs: every state's events (no payloads, which may be large) to the workflow's log group. */
export function loggingConfiguration(logGroupArn: string): LoggingConfiguration {
  return { level: 'ALL', includeExecutionData: false, destinations: [{ cloudWatchLogsLogGroup: { logGroupArn } }] };
}

/** The state machine, or undefined when it does not exist (or is being deleted). */
export async function describeStateMachine(sfn: SFNClient, stateMachineArn: string): Promise<StateMachineDescription | undefined> {
  try {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn }));
    return described.status === 'DELETING' ? undefined : described;
  } catch (error) {
    if (awsErrorName(error) === 'StateMachineDoesNotExist') return undefined;
    throw error;
  }
}

export interface StateMachineInput {
  name: string;
  definition: string;
  roleArn: string;
  type: 'EXPRESS' | 'STANDARD';
  logGroupArn: string;
  tags: Record<string, string>;
}

export async function createStateMachine(sfn: SFNClient, input: StateMachineInput): Promise<string> {
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name: input.name,
      definition: input.definition,
      roleArn: input.roleArn,
      type: input.type,
      loggingConfiguration: loggingConfiguration(input.logGroupArn),
      tags: Object.entries(input.tags).map(([key, value]) => ({ key, value })),
    }),
  );
  return created.stateMachineArn ?? '';
}

export async function updateStateMachine(sfn: SFNClient, stateMachineArn: string, input: { definition: string; roleArn: string; logGroupArn: string }): Promise<void> {
  await sfn.send(
    new UpdateStateMachineCommand({ stateMachineArn, definition: input.definition, roleArn: input.roleArn, loggingConfiguration: loggingConfiguration(input.logGroupArn) }),
  );
}

/** Deleting one that is already gone is no error. */
export async function deleteStateMachine(sfn: SFNClient, stateMachineArn: string): Promise<void> {
  try {
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
  } catch (error) {
    if (awsErrorName(error) !== 'StateMachineDoesNotExist') throw error;
  }
}

/** One page of a state machine's executions (Step Functions returns the newest first), optionally of one status. */
export async function listExecutionsPage(sfn: SFNClient, stateMachineArn: string, options: { maxResults: number; statusFilter?: ExecutionStatus | undefined }): Promise<ExecutionListItem[]> {
  const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: options.maxResults, ...(options.statusFilter ? { statusFilter: options.statusFilter } : {}) }));
  return page.executions ?? [];
}

/** An execution's input and, when it failed, its error and cause. */
export async function describeExecution(sfn: SFNClient, executionArn: string): Promise<Pick<DescribeExecutionCommandOutput, 'input' | 'error' | 'cause'>> {
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { input: described.input, error: described.error, cause: described.cause };
}

/** How an execution ended: its status and, when it failed, its error and cause. */
export type ExecutionEnd = Pick<DescribeExecutionCommandOutput, 'status' | 'error' | 'cause'>;

/** Runs an Express execution synchronously (StartSyncExecution) and returns how it ended. */
export async function runSyncExecution(sfn: SFNClient, stateMachineArn: string, input: string): Promise<ExecutionEnd> {
  const { status, error, cause } = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn, input }));
  return { status, error, cause };
}

/** Starts an execution (Standard workflows; Express ones too) and returns its ARN. */
export async function startExecution(sfn: SFNClient, stateMachineArn: string, input: string): Promise<string> {
  return (await sfn.send(new StartExecutionCommand({ stateMachineArn, input }))).executionArn ?? '';
}

/** An execution's status, error and cause. */
export async function executionEnd(sfn: SFNClient, executionArn: string): Promise<ExecutionEnd> {
  const { status, error, cause } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { status, error, cause };
}
