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

/** Creates the group (one that already exists is no error) with the tags. */
export async function createLogGroup(logs: CloudWatchLogsClient, name: string, tags: Record<string, string>): Promise<void> {
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: name, tags }));
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceAlreadyExistsException') throw error;
  }
}

export async function setRetention(logs: CloudWatchLogsClient, name: string, days: number): Promise<void> {
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days }));
}

/** Deleting one that is already gone is no error. */
export async function deleteLogGroup(logs: CloudWatchLogsClient, name: string): Promise<void> {
  try {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceNotFoundException') throw error;
  }
}
