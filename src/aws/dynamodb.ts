import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { awsErrorName } from '../errors.js';

/** The table's description, or undefined when there is no such table. */
export async function describeTable(dynamodb: DynamoDBClient, table: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** An on-demand table keyed by one string hash key; false when it already existed. */
export async function createTable(
  dynamodb: DynamoDBClient,
  table: string,
  hashKey: string,
  tags: Record<string, string>,
): Promise<boolean> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: hashKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    return true;
  } catch (error) {
    // Created meanwhile (an interrupted run, or a concurrent one): the caller checks what exists.
    if (awsErrorName(error) === 'ResourceInUseException') return false;
    throw error;
  }
}

/** Switches a provisioned table to on-demand billing. */
export async function useOnDemandBilling(dynamodb: DynamoDBClient, table: string): Promise<void> {
  await dynamodb.send(new UpdateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST' }));
}

/** Waits until the table is ACTIVE. */
export async function waitForTableActive(dynamodb: DynamoDBClient, table: string, maxWaitTime = 300): Promise<void> {
  await waitUntilTableExists({ client: dynamodb, maxWaitTime, minDelay: 1, maxDelay: 10 }, { TableName: table });
}

/** Deletes the table and waits until it is gone; false when it was already gone. */
export async function deleteTable(dynamodb: DynamoDBClient, table: string, maxWaitTime = 300): Promise<boolean> {
  try {
    await dynamodb.send(new DeleteTableCommand({ TableName: table }));
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return false;
    throw error;
  }
  await waitUntilTableNotExists({ client: dynamodb, maxWaitTime, minDelay: 1, maxDelay: 10 }, { TableName: table });
  return true;
}

/** Whether point-in-time recovery is on; undefined when the table is gone. */
export async function pointInTimeRecoveryEnabled(dynamodb: DynamoDBClient, table: string): Promise<boolean | undefined> {
  try {
    const response = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    return response.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED';
  } catch (error) {
    if (awsErrorName(error) === 'TableNotFoundException' || awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

export async function setPointInTimeRecovery(dynamodb: DynamoDBClient, table: string, enabled: boolean): Promise<void> {
  await dynamodb.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: enabled } }));
}
