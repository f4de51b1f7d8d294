import { S3Client } from '@aws-sdk/client-s3';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsTarget } from './target.js';

/** Something that sees every client the factory builds (the request recorder of the tests). */
export type ClientHook = (client: AnyClient, serviceName: string) => void;
export type AnyClient = S3Client | LambdaClient | DynamoDBClient | IAMClient | STSClient | SFNClient | EventBridgeClient | CloudWatchLogsClient;

export interface ClientFactoryOptions {
  hooks?: ClientHook[];
  /** Synchronous invokes of the function can take as long as its timeout. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

/**
 * One factory for every AWS client, built from the resolved target, so endpoint, region, credentials,
 * path-style addressing and checksum behaviour are decided in one place. Clients are created lazily.
 */
export class AwsClients {
  private readonly cache = new Map<string, AnyClient | DynamoDBDocumentClient>();

  constructor(
    readonly target: AwsTarget,
    private readonly options: ClientFactoryOptions = {},
  ) {}

  private baseConfig() {
    const { target } = this;
    return {
      ...(target.region === undefined ? {} : { region: target.region }),
      ...(target.profile === undefined ? {} : { profile: target.profile }),
      ...(target.endpoint === undefined ? {} : { endpoint: target.endpoint }),
      ...(target.credentials === undefined ? {} : { credentials: target.credentials }),
      maxAttempts: this.options.maxAttempts ?? 5,
      retryMode: 'adaptive' as const,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: 5_000,
        requestTimeout: this.options.requestTimeoutMs ?? 120_000,
      }),
      // Emulators and other S3-compatible endpoints commonly reject the newer default checksums.
      ...(target.endpointOverridden
        ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const }
        : {}),
    };
  }

  private memo<T extends AnyClient | DynamoDBDocumentClient>(name: string, make: () => T): T {
    let client = this.cache.get(name) as T | undefined;
    if (!client) {
      client = make();
      if (!(client instanceof DynamoDBDocumentClient)) {
        for (const hook of this.options.hooks ?? []) hook(client, name);
      }
      this.cache.set(name, client);
    }
    return client;
  }

  get s3(): S3Client {
    return this.memo('s3', () => new S3Client({ ...this.baseConfig(), forcePathStyle: this.target.endpointOverridden }));
  }

  get lambda(): LambdaClient {
    return this.memo('lambda', () => new LambdaClient(this.baseConfig()));
  }

  get dynamodb(): DynamoDBClient {
    return this.memo('dynamodb', () => new DynamoDBClient(this.baseConfig()));
  }

  /** Plain-JSON view of DynamoDB items. */
  get documents(): DynamoDBDocumentClient {
    return this.memo('documents', () =>
      DynamoDBDocumentClient.from(this.dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    );
  }

  get iam(): IAMClient {
    return this.memo('iam', () => new IAMClient(this.baseConfig()));
  }

  get sts(): STSClient {
    return this.memo('sts', () => new STSClient(this.baseConfig()));
  }

  /** Step Functions (workflow mode). */
  get sfn(): SFNClient {
    // StartSyncExecution's "sync-" host prefix cannot be put in front of an overridden endpoint (an IP address).
    return this.memo('sfn', () => new SFNClient({ ...this.baseConfig(), disableHostPrefix: this.target.endpointOverridden }));
  }

  /** EventBridge (workflow mode's rule). */
  get events(): EventBridgeClient {
    return this.memo('events', () => new EventBridgeClient(this.baseConfig()));
  }

  /** CloudWatch Logs (the workflow's log group). */
  get logs(): CloudWatchLogsClient {
    return this.memo('logs', () => new CloudWatchLogsClient(this.baseConfig()));
  }

  destroy(): void {
    for (const client of this.cache.values()) client.destroy();
    this.cache.clear();
  }
}
