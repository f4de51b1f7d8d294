/** Log groups with a retention, for the HTTP API's access logs. */
import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  type CloudWatchLogsClient,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsErrorName } from '../errors.js';

export async function getLogGroup(logs: CloudWatchLogsClient, name: string): Promise<LogGroup | undefined> {
  const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
  return page.logGroups?.find((group) => group.logGroupName === name);
}

export async function createLogGroup(logs: CloudWatchLogsClient, name: string, retentionDays: number, tags: Record<string, string>): Promise<void> {
  try {
    await logs.send(new CreateLogGroupCommand({ logGroupName: name, tags }));
  } catch (error) {
    if (awsErrorName(error) !== 'ResourceAlreadyExistsException') throw error;
  }
  await setRetention(logs, name, retentionDays);
}

export async function setRetention(logs: CloudWatchLogsClient, name: string, retentionDays: number): Promise<void> {
  await logs.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: retentionDays }));
}

/** False when it was already gone. */
export async function deleteLogGroup(logs: CloudWatchLogsClient, name: string): Promise<boolean> {
  try {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return false;
    throw error;
  }
}
