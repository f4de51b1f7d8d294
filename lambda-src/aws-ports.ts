import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MetadataItem } from './core/metadata.js';
import {
  NewerItemError,
  ObjectNotFoundError,
  ReadDeniedError,
  SourceChangedError,
  type PutObjectRequest,
  type RecordPorts,
  type SourceObject,
} from './core/process-record.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface AwsClientsForFunction {
  s3: S3Client;
  documents: DynamoDBDocumentClient;
}

/**
 * The function's clients. Region and credentials come from the Lambda environment. An endpoint override
 * (AWS_ENDPOINT_URL, or the per-service AWS_ENDPOINT_URL_S3 / _DYNAMODB) points them at an AWS-compatible
 * endpoint such as the local stack; S3 then needs path-style addressing, and such endpoints commonly reject the
 * SDK's newer default checksums.
 */
export function createFunctionClients(env: Env = process.env): AwsClientsForFunction {
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const base = {
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    // Connecting should take milliseconds inside AWS; a stuck socket must fail while the function has time
    // left, so the invocation errors and Lambda retries it.
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 30_000 },
  };
  const overridden = s3Endpoint !== undefined || dynamoEndpoint !== undefined;
  const checksums = overridden
    ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
    : {};
  const s3 = new S3Client({
    ...base,
    ...checksums,
    ...(s3Endpoint === undefined ? {} : { endpoint: s3Endpoint, forcePathStyle: true }),
  });
  const dynamodb = new DynamoDBClient({ ...base, ...(dynamoEndpoint === undefined ? {} : { endpoint: dynamoEndpoint }) });
  const documents = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
  return { s3, documents };
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The ports of processRecord over S3 and DynamoDB. */
export function awsRecordPorts(clients: AwsClientsForFunction, table: string): RecordPorts {
  return {
    async getObject(bucket: string, key: string, options: { ifMatch?: string | undefined }): Promise<SourceObject> {
      let response;
      try {
        response = await clients.s3.send(
          new GetObjectCommand({ Bucket: bucket, Key: key, ...(options.ifMatch ? { IfMatch: `"${options.ifMatch}"` } : {}) }),
        );
      } catch (error) {
        const name = errorName(error);
        if (name === 'NoSuchKey' || name === 'NotFound' || httpStatus(error) === 404) {
          throw new ObjectNotFoundError(`s3://${bucket}/${key} does not exist.`);
        }
        if (name === 'PreconditionFailed' || httpStatus(error) === 412) {
          throw new SourceChangedError(`s3://${bucket}/${key} no longer has the ETag the event announced; a newer upload replaced it.`);
        }
        if (name === 'AccessDenied' || name === 'AccessDeniedException' || httpStatus(error) === 403) {
          throw new ReadDeniedError(
            `The function may not read s3://${bucket}/${key} (${name ?? 'HTTP 403'}); check its role's s3:GetObject grant and, for SSE-KMS objects, kms:Decrypt on the key.`,
          );
        }
        throw error;
      }
      const body = response.Body;
      return {
        contentLength: response.ContentLength,
        eTag: response.ETag?.replace(/"/g, ''),
        lastModified: response.LastModified,
        async read(): Promise<Buffer> {
          if (!body) return Buffer.alloc(0);
          const bytes = await body.transformToByteArray();
          return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        },
        discard(): void {
          if (body instanceof Readable) body.destroy();
        },
      };
    },

    async putObject(request: PutObjectRequest): Promise<void> {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: request.bucket,
          Key: request.key,
          Body: request.body,
          ContentType: request.contentType,
          ContentLength: request.body.length,
          CacheControl: request.cacheControl,
        }),
      );
    },

    async putItem(item: MetadataItem): Promise<void> {
      // Refuse to replace an item that describes a newer version of the source (an out-of-order event); the
      // same version (a retry, a duplicate event, a backfill) rewrites it.
      const guard = item.SourceLastModified
        ? {
            ConditionExpression: 'attribute_not_exists(SourceLastModified) OR SourceLastModified <= :lastModified',
            ExpressionAttributeValues: { ':lastModified': item.SourceLastModified },
          }
        : {};
      try {
        await clients.documents.send(new PutCommand({ TableName: table, Item: item, ...guard }));
      } catch (error) {
        if (errorName(error) === 'ConditionalCheckFailedException') {
          throw new NewerItemError(`${item.ImageID} already describes a newer version of the object.`);
        }
        throw error;
      }
    },
  };
}
