/** The few API Gateway v2 (HTTP API) calls `init --api`, `status`, `destroy` and `api url` make. */
import {
  CreateApiCommand,
  CreateAuthorizerCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateStageCommand,
  DeleteApiCommand,
  DeleteAuthorizerCommand,
  GetApisCommand,
  GetAuthorizersCommand,
  GetIntegrationsCommand,
  GetRoutesCommand,
  GetStageCommand,
  UpdateApiCommand,
  UpdateAuthorizerCommand,
  UpdateIntegrationCommand,
  UpdateRouteCommand,
  UpdateStageCommand,
  type Api,
  type ApiGatewayV2Client,
  type Authorizer,
  type Cors,
  type Integration,
  type Route,
  type GetStageCommandOutput,
  type CreateApiCommandOutput,
} from '@aws-sdk/client-apigatewayv2';
import { awsErrorName } from '../errors.js';

export type { Api, Authorizer, Cors, Integration, Route };
/** An API or stage as the Get/Create calls return them (their fields all optional). */
export type ApiView = Partial<Pick<Api, 'ApiId' | 'ApiEndpoint' | 'Name' | 'Tags' | 'CorsConfiguration'>>;
export type StageView = Omit<GetStageCommandOutput, '$metadata'>;

/** The HTTP API of this name (names are not unique in API Gateway: the first one tagged for the stack wins, else the first). */
export async function findHttpApi(client: ApiGatewayV2Client, name: string, tag: { key: string; value: string }): Promise<ApiView | undefined> {
  const matches: Api[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetApisCommand({ ...(nextToken === undefined ? {} : { NextToken: nextToken }), MaxResults: '100' }));
    matches.push(...(page.Items ?? []).filter((api) => api.Name === name && api.ProtocolType === 'HTTP'));
    nextToken = page.NextToken;
  } while (nextToken);
  return matches.find((api) => api.Tags?.[tag.key] === tag.value) ?? matches[0];
}

export interface HttpApiParts {
  integrations: Integration[];
  routes: Route[];
  authorizers: Authorizer[];
  stage: StageView | undefined;
}

export async function getHttpApiParts(client: ApiGatewayV2Client, apiId: string, stageName: string): Promise<HttpApiParts> {
  const [integrations, routes, authorizers, stage] = await Promise.all([
    client.send(new GetIntegrationsCommand({ ApiId: apiId, MaxResults: '100' })),
    client.send(new GetRoutesCommand({ ApiId: apiId, MaxResults: '100' })),
    client.send(new GetAuthorizersCommand({ ApiId: apiId, MaxResults: '100' })),
    getStage(client, apiId, stageName),
  ]);
  return { integrations: integrations.Items ?? [], routes: routes.Items ?? [], authorizers: authorizers.Items ?? [], stage };
}

async function getStage(client: ApiGatewayV2Client, apiId: string, stageName: string): Promise<StageView | undefined> {
  try {
    return await client.send(new GetStageCommand({ ApiId: apiId, StageName: stageName }));
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return undefined;
    throw error;
  }
}

export async function createHttpApi(client: ApiGatewayV2Client, input: { name: string; description: string; cors: Cors | undefined; tags: Record<string, string> }): Promise<CreateApiCommandOutput> {
  return client.send(
    new CreateApiCommand({
      Name: input.name,
      ProtocolType: 'HTTP',
      Description: input.description,
      Tags: input.tags,
      ...(input.cors === undefined ? {} : { CorsConfiguration: input.cors }),
    }),
  );
}

/** Sets or clears CORS (API Gateway clears it with an empty configuration). */
export async function updateCors(client: ApiGatewayV2Client, apiId: string, cors: Cors | undefined): Promise<void> {
  await client.send(new UpdateApiCommand({ ApiId: apiId, CorsConfiguration: cors ?? {} }));
}

export interface LambdaIntegration {
  functionArn: string;
}

/** A Lambda proxy integration with payload format 2.0; returns its id. */
export async function putLambdaIntegration(client: ApiGatewayV2Client, apiId: string, integrationId: string | undefined, spec: LambdaIntegration): Promise<string> {
  const fields = { IntegrationType: 'AWS_PROXY' as const, IntegrationUri: spec.functionArn, PayloadFormatVersion: '2.0' };
  if (integrationId !== undefined) {
    await client.send(new UpdateIntegrationCommand({ ApiId: apiId, IntegrationId: integrationId, ...fields }));
    return integrationId;
  }
  const created = await client.send(new CreateIntegrationCommand({ ApiId: apiId, ...fields }));
  return created.IntegrationId ?? '';
}

export interface JwtAuthorizerSpec {
  name: string;
  issuer: string;
  audience: string;
}

export async function putJwtAuthorizer(client: ApiGatewayV2Client, apiId: string, authorizerId: string | undefined, spec: JwtAuthorizerSpec): Promise<string> {
  const fields = {
    Name: spec.name,
    AuthorizerType: 'JWT' as const,
    IdentitySource: ['$request.header.Authorization'],
    JwtConfiguration: { Issuer: spec.issuer, Audience: [spec.audience] },
  };
  if (authorizerId !== undefined) {
    await client.send(new UpdateAuthorizerCommand({ ApiId: apiId, AuthorizerId: authorizerId, ...fields }));
    return authorizerId;
  }
  const created = await client.send(new CreateAuthorizerCommand({ ApiId: apiId, ...fields }));
  return created.AuthorizerId ?? '';
}

export async function deleteAuthorizer(client: ApiGatewayV2Client, apiId: string, authorizerId: string): Promise<void> {
  await client.send(new DeleteAuthorizerCommand({ ApiId: apiId, AuthorizerId: authorizerId }));
}

export type RouteAuthorization = { type: 'AWS_IAM' } | { type: 'NONE' } | { type: 'JWT'; authorizerId: string };

export async function putRoute(
  client: ApiGatewayV2Client,
  apiId: string,
  routeId: string | undefined,
  spec: { routeKey: string; integrationId: string; authorization: RouteAuthorization },
): Promise<void> {
  const fields = {
    RouteKey: spec.routeKey,
    Target: `integrations/${spec.integrationId}`,
    AuthorizationType: spec.authorization.type,
    ...(spec.authorization.type === 'JWT' ? { AuthorizerId: spec.authorization.authorizerId } : {}),
  };
  if (routeId !== undefined) await client.send(new UpdateRouteCommand({ ApiId: apiId, RouteId: routeId, ...fields }));
  else await client.send(new CreateRouteCommand({ ApiId: apiId, ...fields }));
}

export interface StageSpec {
  stageName: string;
  throttle: { rate: number; burst: number };
  accessLog: { destinationArn: string; format: string };
  tags: Record<string, string>;
}

/** The auto-deployed stage with default throttling and access logs. */
export async function putStage(client: ApiGatewayV2Client, apiId: string, exists: boolean, spec: StageSpec): Promise<void> {
  const fields = {
    ApiId: apiId,
    StageName: spec.stageName,
    AutoDeploy: true,
    DefaultRouteSettings: { ThrottlingRateLimit: spec.throttle.rate, ThrottlingBurstLimit: spec.throttle.burst },
    AccessLogSettings: { DestinationArn: spec.accessLog.destinationArn, Format: spec.accessLog.format },
  };
  if (exists) await client.send(new UpdateStageCommand(fields));
  else await client.send(new CreateStageCommand({ ...fields, Tags: spec.tags }));
}

/** Deletes the API with its routes, integrations, authorizers and stages; false when it was already gone. */
export async function deleteHttpApi(client: ApiGatewayV2Client, apiId: string): Promise<boolean> {
  try {
    await client.send(new DeleteApiCommand({ ApiId: apiId }));
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'NotFoundException') return false;
    throw error;
  }
}

/**
 * The URL clients call. On AWS the API's own endpoint (`$default` stage: no stage in the path). Against an
 * endpoint override (the local stack), MiniStack's path form `<endpoint>/_aws/execute-api/<id>/$default`,
 * since `<id>.execute-api.localhost` does not resolve everywhere: the one place that difference is handled.
 */
export function apiInvokeUrl(api: { apiId: string; apiEndpoint: string | undefined }, endpointOverride: string | undefined): string {
  if (endpointOverride !== undefined) return `${endpointOverride.replace(/\/+$/, '')}/_aws/execute-api/${api.apiId}/$default`;
  return (api.apiEndpoint ?? '').replace(/\/+$/, '');
}
