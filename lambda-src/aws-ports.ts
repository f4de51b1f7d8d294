import { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DetectLabelsCommand, DetectModerationLabelsCommand, RekognitionClient } from '@aws-sdk/client-rekognition';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ImageRefusedError, type ContentAnalysisPort } from './core/content-analysis.js';
import type { LabelRecord, MetadataItem, ModerationLabelRecord } from './core/metadata.js';
import { snsNotificationMessage, type ImageNotification } from './core/notification.js';
import { itemWriteCondition } from './core/write-condition.js';
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
  sns: SNSClient;
  /** For LABELS / MODERATION; without it the ports have no content analysis. */
  rekognition?: RekognitionClient;
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
  const snsEndpoint = env.AWS_ENDPOINT_URL_SNS ?? env.AWS_ENDPOINT_URL;
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
  // A notification that cannot be published fails the invocation (and Lambda retries all of it), so SNS gets
  // more attempts than the SDK's default three: throttling and 5xx pass within the extra backoff.
  const sns = new SNSClient({ ...base, maxAttempts: 6, ...(snsEndpoint === undefined ? {} : { endpoint: snsEndpoint }) });
  // The SDK reads AWS_ENDPOINT_URL_REKOGNITION from process.env itself (test/unit/lambda-content-analysis
  // .test.ts checks it); passed explicitly too so that an `env` given here (tests) counts the same.
  const rekognitionEndpoint = env.AWS_ENDPOINT_URL_REKOGNITION ?? env.AWS_ENDPOINT_URL;
  const rekognition = new RekognitionClient({ ...base, ...(rekognitionEndpoint === undefined ? {} : { endpoint: rekognitionEndpoint }) });
  return { s3, documents, sns, rekognition };
}

/** Rekognition's errors that are about the image itself: retrying cannot help. */
const REFUSED_IMAGE_ERRORS = new Set(['InvalidImageFormatException', 'ImageTooLargeException', 'InvalidParameterException']);

function refusedOrRethrow(error: unknown): never {
  const name = errorName(error);
  if (name !== undefined && REFUSED_IMAGE_ERRORS.has(name)) {
    throw new ImageRefusedError(`Rekognition refused the image (${name}: ${error instanceof Error ? error.message : ''})`, { cause: error });
  }
  throw error;
}

/** The content-analysis port over Rekognition, the image passed inline (under 5 MB, checked by the core). */
export function rekognitionPort(client: RekognitionClient): ContentAnalysisPort {
  return {
    async detectLabels(image, options): Promise<LabelRecord[]> {
      try {
        const response = await client.send(
          new DetectLabelsCommand({ Image: { Bytes: image }, MinConfidence: options.minConfidence, MaxLabels: options.maxLabels }),
        );
        return (response.Labels ?? [])
          .filter((label) => label.Name !== undefined)
          .map((label) => ({
            Name: label.Name ?? '',
            Confidence: roundConfidence(label.Confidence),
            Parents: (label.Parents ?? []).flatMap((parent) => (parent.Name === undefined ? [] : [parent.Name])),
          }))
          .sort((a, b) => b.Confidence - a.Confidence);
      } catch (error) {
        return refusedOrRethrow(error);
      }
    },
    async detectModerationLabels(image, options): Promise<ModerationLabelRecord[]> {
      try {
        const response = await client.send(new DetectModerationLabelsCommand({ Image: { Bytes: image }, MinConfidence: options.minConfidence }));
        return (response.ModerationLabels ?? [])
          .filter((label) => label.Name !== undefined)
          .map((label) => ({ Name: label.Name ?? '', Confidence: roundConfidence(label.Confidence), ParentName: label.ParentName ?? '' }));
      } catch (error) {
        return refusedOrRethrow(error);
      }
    },
  };
}

/** Two decimals are all the precision a label's confidence carries. */
function roundConfidence(confidence: number | undefined): number {
  return Math.round((confidence ?? 0) * 100) / 100;
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string' ? error.name : undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The ports of processRecord over S3 and DynamoDB. */
export function awsRecordPorts(clients: Pick<AwsClientsForFunction, 's3' | 'documents' | 'rekognition'>, table: string): RecordPorts {
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

    ...(clients.rekognition ? { contentAnalysis: rekognitionPort(clients.rekognition) } : {}),

    async putItem(item: MetadataItem): Promise<void> {
      await writeItem(item);
    },

    markDeleted(item: MetadataItem): Promise<MetadataItem | undefined> {
      return writeItem(item);
    },

    async deleteObjects(bucket: string, keys: readonly string[]): Promise<void> {
      // DeleteObjects takes up to 1000 keys; a source has one output per size.
      for (let start = 0; start < keys.length; start += 1000) {
        const batch = keys.slice(start, start + 1000);
        const response = await clients.s3.send(
          new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((key) => ({ Key: key })), Quiet: true } }),
        );
        // Per-key failures come back in a 200 response; left there, outputs would stay behind unnoticed.
        const failed = response.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0];
          throw new Error(`Could not delete ${failed.length} output(s) from ${bucket}: ${first?.Key ?? '?'}: ${first?.Code ?? ''} ${first?.Message ?? ''}`.trim());
        }
      }
    },
  };

  /**
   * Writes an item unless the stored one describes a later event (write-condition.ts); returns the item it
   * replaced. The same event again (a retry, a duplicate delivery, a redrive) rewrites its own item.
   */
  async function writeItem(item: MetadataItem): Promise<MetadataItem | undefined> {
    try {
      const response = await clients.documents.send(new PutCommand({ TableName: table, Item: item, ReturnValues: 'ALL_OLD', ...itemWriteCondition(item) }));
      return response.Attributes as MetadataItem | undefined;
    } catch (error) {
      if (errorName(error) === 'ConditionalCheckFailedException') {
        throw new NewerItemError(`${item.ImageID} already describes a later event of the object.`);
      }
      throw error;
    }
  }
}

/** Publishes the outcome of each record. */
export interface NotificationPort {
  /** @throws when the message could not be published after the client's retries: the invocation must fail. */
  publish(notification: ImageNotification): Promise<void>;
}

/** The notification port over SNS. */
export function snsNotificationPort(sns: SNSClient, topicArn: string): NotificationPort {
  return {
    async publish(notification: ImageNotification): Promise<void> {
      await sns.send(new PublishCommand({ TopicArn: topicArn, ...snsNotificationMessage(notification) }));
    },
  };
}
