import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { GetCommand, UpdateCommand, type UpdateCommandInput, type UpdateCommandOutput } from '@aws-sdk/lib-dynamodb';
import { awsRecordPorts, type AwsClientsForFunction } from './aws-ports.js';
import type { MetadataItem, OutputRecord } from './core/metadata.js';
import { renderLockAttribute, type ApiPorts, type PresignedPost, type PresignPostRequest, type RenderLock } from './core/api/ports.js';

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

const conditionFailed = (error: unknown): boolean => errorName(error) === 'ConditionalCheckFailedException';

/** The API's ports over S3 and DynamoDB; reading and writing objects is the function's own code. */
export function awsApiPorts(clients: Pick<AwsClientsForFunction, 's3' | 'documents'>, table: string): ApiPorts {
  const records = awsRecordPorts(clients, table);
  /** A conditional update; undefined when its condition did not hold (the lock is someone else's, or gone). */
  const updateIf = async (input: UpdateCommandInput): Promise<UpdateCommandOutput | undefined> => {
    try {
      return await clients.documents.send(new UpdateCommand(input));
    } catch (error) {
      if (conditionFailed(error)) return undefined;
      throw error;
    }
  };
  return {
    getObject: records.getObject.bind(records),
    putObject: records.putObject.bind(records),

    async presignPost(request: PresignPostRequest): Promise<PresignedPost> {
      const { url, fields } = await createPresignedPost(clients.s3, {
        Bucket: request.bucket,
        Key: request.key,
        // The key and bucket are conditions already (the library adds them); these bound the size and pin the
        // type, so the object is served with the type its key's extension says.
        Conditions: [
          ['content-length-range', 1, request.maxBytes],
          ['eq', '$Content-Type', request.contentType],
        ],
        Fields: { 'Content-Type': request.contentType },
        Expires: request.expiresInSeconds,
      });
      return { url, fields };
    },

    presignGet(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
      return getSignedUrl(clients.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
    },

    async getItem(imageId: string): Promise<MetadataItem | undefined> {
      const response = await clients.documents.send(new GetCommand({ TableName: table, Key: { ImageID: imageId }, ConsistentRead: true }));
      return response.Item as MetadataItem | undefined;
    },

    async objectExists(bucket: string, key: string): Promise<boolean> {
      try {
        await clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (error) {
        if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey' || httpStatus(error) === 404) return false;
        throw error;
      }
    },

    async acquireRenderLock(imageId: string, preset: string, sourceETag: string, lock: RenderLock, now: number): Promise<MetadataItem | undefined> {
      const response = await updateIf({
        TableName: table,
        Key: { ImageID: imageId },
        UpdateExpression: 'SET #lock = :lock',
        ConditionExpression: 'attribute_exists(ImageID) AND #status = :succeeded AND SourceETag = :etag AND (attribute_not_exists(#lock) OR #lock.#expires < :now)',
        ExpressionAttributeNames: { '#lock': renderLockAttribute(preset), '#status': 'Status', '#expires': 'ExpiresAt' },
        ExpressionAttributeValues: { ':lock': { Token: lock.token, ExpiresAt: lock.expiresAt }, ':succeeded': 'SUCCEEDED', ':etag': sourceETag, ':now': now },
        ReturnValues: 'ALL_NEW',
      });
      return response?.Attributes as MetadataItem | undefined;
    },

    async addRenderedOutput(imageId: string, preset: string, sourceETag: string, token: string, output: OutputRecord): Promise<boolean> {
      const response = await updateIf({
        TableName: table,
        Key: { ImageID: imageId },
        UpdateExpression: 'SET Outputs = list_append(Outputs, :output) REMOVE #lock',
        ConditionExpression: '#lock.#token = :token AND SourceETag = :etag',
        ExpressionAttributeNames: { '#lock': renderLockAttribute(preset), '#token': 'Token' },
        ExpressionAttributeValues: { ':output': [output], ':token': token, ':etag': sourceETag },
      });
      return response !== undefined;
    },

    async releaseRenderLock(imageId: string, preset: string, token: string): Promise<void> {
      await updateIf({
        TableName: table,
        Key: { ImageID: imageId },
        UpdateExpression: 'REMOVE #lock',
        ConditionExpression: '#lock.#token = :token',
        ExpressionAttributeNames: { '#lock': renderLockAttribute(preset), '#token': 'Token' },
        ExpressionAttributeValues: { ':token': token },
      });
    },
  };
}
