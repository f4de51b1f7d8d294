/** CloudWatch log groups with a retention: the function's, the HTTP API's access logs and the workflow's executions. */
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  type CloudWatchLogsClient,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsErrorName } from '../errors.js';

/** The log group of exactly this name, or undefined. */
export async function describeLogGroup(logs: CloudWatchLogsClient, name: string): Promise<LogGroup | undefined> {
  const response = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  return (response.logGroups ?? []).find((group) => group.logGroupName === name);
}

/** Creates the log group; false when it already existed. */
export async function createLogGroup(logs: CloudWatchLogsClient, name: string, tags: Record<string, string>): Promise<boolean> {
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: name, tags }));
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceAlreadyExistsException') return false;
    throw error;
  }
}

export async function putRetentionPolicy(logs: CloudWatchLogsClient, name: string, days: number): Promise<void> {
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
}

/** Deletes the log group; false when it was already gone. */
export async function deleteLogGroup(logs: CloudWatchLogsClient, name: string): Promise<boolean> {
  try {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return false;
    throw error;
  }
}
