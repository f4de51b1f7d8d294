import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { explainSdkError } from './sdk-errors.js';
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { AwsTarget } from './target.js';

/**
 * Each SDK package is loaded the first time its client is asked for, so a command pays only for the services
 * it talks to. Node resolves these packages to their CommonJS builds even from ESM `import` (they declare no
 * "exports"), so `require` here returns the very module instances the aws/ modules import: one copy each.
 */
const requireSdk = createRequire(import.meta.url);
interface SdkModules {
  s3: typeof import('@aws-sdk/client-s3');
  lambda: typeof import('@aws-sdk/client-lambda');
  dynamodb: typeof import('@aws-sdk/client-dynamodb');
  documents: typeof import('@aws-sdk/lib-dynamodb');
  iam: typeof import('@aws-sdk/client-iam');
  sts: typeof import('@aws-sdk/client-sts');
  sns: typeof import('@aws-sdk/client-sns');
  sqs: typeof import('@aws-sdk/client-sqs');
  sfn: typeof import('@aws-sdk/client-sfn');
  events: typeof import('@aws-sdk/client-eventbridge');
  logs: typeof import('@aws-sdk/client-cloudwatch-logs');
  cloudfront: typeof import('@aws-sdk/client-cloudfront');
  http: typeof import('@smithy/node-http-handler');
  apigateway: typeof import('@aws-sdk/client-apigatewayv2');
}
const SDK_PACKAGES: { [K in keyof SdkModules]: string } = {
  s3: '@aws-sdk/client-s3',
  lambda: '@aws-sdk/client-lambda',
  dynamodb: '@aws-sdk/client-dynamodb',
  documents: '@aws-sdk/lib-dynamodb',
  iam: '@aws-sdk/client-iam',
  sts: '@aws-sdk/client-sts',
  sns: '@aws-sdk/client-sns',
  sqs: '@aws-sdk/client-sqs',
  sfn: '@aws-sdk/client-sfn',
  events: '@aws-sdk/client-eventbridge',
  logs: '@aws-sdk/client-cloudwatch-logs',
  cloudfront: '@aws-sdk/client-cloudfront',
  http: '@smithy/node-http-handler',
  apigateway: '@aws-sdk/client-apigatewayv2',
};
/**
 * A service's SDK package as the clients load it, also for its commands: an ESM `import()` of the same package
 * would have Node scan its whole CommonJS source once more for named exports, 4 ms for STS alone (issue 21).
 */
export function sdkPackage<K extends keyof SdkModules>(name: K): SdkModules[K] {
  return requireSdk(SDK_PACKAGES[name]) as SdkModules[K];
}

/** Something that sees every client the factory builds (the request recorder of the tests). */
export type ClientHook = (client: AnyClient, serviceName: string) => void;
export type AnyClient = S3Client | LambdaClient | DynamoDBClient | IAMClient | STSClient | SNSClient | SQSClient | ApiGatewayV2Client | CloudWatchLogsClient | CloudFrontClient | SFNClient | EventBridgeClient;

export interface ClientFactoryOptions {
  hooks?: ClientHook[];
  /** Synchronous invokes of the function can take as long as its timeout. */
  requestTimeoutMs?: number;
  maxAttempts?: number;
}

/**
 * One factory for every AWS client, built from the resolved target, so endpoint, region, credentials,
 * path-style addressing and checksum behaviour are decided in one place. Clients (and their SDK packages)
 * are created lazily.
 */
export class AwsClients {
  private readonly cache = new Map<string, AnyClient>();
  private documentClient: DynamoDBDocumentClient | undefined;

  constructor(
    readonly target: AwsTarget,
    private readonly options: ClientFactoryOptions = {},
  ) {}

  private baseConfig() {
    const { target } = this;
    const { NodeHttpHandler } = sdkPackage('http');
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

  private memo<T extends AnyClient>(name: string, make: () => T): T {
    const cached = this.cache.get(name);
    if (cached) return cached as T;
    const client = make();
    explainFailures(client, this.target);
    for (const hook of this.options.hooks ?? []) hook(client, name);
    this.cache.set(name, client);
    return client;
  }

  get s3(): S3Client {
    return this.memo('s3', () => new (sdkPackage('s3').S3Client)({ ...this.baseConfig(), forcePathStyle: this.target.endpointOverridden }));
  }

  get lambda(): LambdaClient {
    return this.memo('lambda', () => new (sdkPackage('lambda').LambdaClient)(this.baseConfig()));
  }

  get dynamodb(): DynamoDBClient {
    return this.memo('dynamodb', () => new (sdkPackage('dynamodb').DynamoDBClient)(this.baseConfig()));
  }

  /** Plain-JSON view of DynamoDB items. */
  get documents(): DynamoDBDocumentClient {
    this.documentClient ??= sdkPackage('documents').DynamoDBDocumentClient.from(this.dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    return this.documentClient;
  }

  get iam(): IAMClient {
    return this.memo('iam', () => new (sdkPackage('iam').IAMClient)(this.baseConfig()));
  }

  get sts(): STSClient {
    return this.memo('sts', () => new (sdkPackage('sts').STSClient)(this.baseConfig()));
  }

  get sns(): SNSClient {
    return this.memo('sns', () => new (sdkPackage('sns').SNSClient)(this.baseConfig()));
  }

  get sqs(): SQSClient {
    return this.memo('sqs', () => new (sdkPackage('sqs').SQSClient)(this.baseConfig()));
  }

  /** API Gateway v2 (HTTP APIs), for `init --api`. */
  get apigateway(): ApiGatewayV2Client {
    return this.memo('apigateway', () => new (sdkPackage('apigateway').ApiGatewayV2Client)(this.baseConfig()));
  }

  /** Step Functions (workflow mode). */
  get sfn(): SFNClient {
    // StartSyncExecution's "sync-" host prefix cannot be put in front of an overridden endpoint (an IP address).
    return this.memo('sfn', () => new (sdkPackage('sfn').SFNClient)({ ...this.baseConfig(), disableHostPrefix: this.target.endpointOverridden }));
  }

  /** EventBridge (workflow mode's rule). */
  get events(): EventBridgeClient {
    return this.memo('events', () => new (sdkPackage('events').EventBridgeClient)(this.baseConfig()));
  }

  /** CloudWatch Logs (the function's, the HTTP API's and the workflow's log groups). */
  get logs(): CloudWatchLogsClient {
    return this.memo('logs', () => new (sdkPackage('logs').CloudWatchLogsClient)(this.baseConfig()));
  }

  /** CloudFront is global: its API lives in us-east-1 whatever the stack's region. */
  get cloudfront(): CloudFrontClient {
    return this.memo('cloudfront', () => new (sdkPackage('cloudfront').CloudFrontClient)({ ...this.baseConfig(), region: 'us-east-1' }));
  }

  destroy(): void {
    this.documentClient?.destroy();
    this.documentClient = undefined;
    for (const client of this.cache.values()) client.destroy();
    this.cache.clear();
  }
}

/** The one part of a client's middleware stack used here; every SDK client has it, whatever its command types. */
interface MiddlewareHost {
  middlewareStack: {
    add(middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: { step: 'initialize'; name: string; priority: 'high' }): void;
  };
}

/** Outermost, so it sees what is left after the SDK's retries: network, region and credential failures become typed errors. */
function explainFailures(client: AnyClient, target: AwsTarget): void {
  (client as unknown as MiddlewareHost).middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw await explainSdkError(error, target);
      }
    },
    { step: 'initialize', name: 'imgResizerExplainErrors', priority: 'high' },
  );
}
