/**
 * Issue 14, the HTTP API's provisioning (`init --api`): its own role (least privilege, templates/api-function-
 * policy.json), its own function (the same zip and layer, handler index.apiHandler), a log group for access logs,
 * the HTTP API (Lambda proxy integration with payload 2.0, the two routes, IAM or JWT auth, CORS, the `$default`
 * stage with throttling and access logs) and the permission letting that API, and only it, invoke the function.
 * Each has its removal step; steps.ts lists them only when the settings say `api`.
 */
import { apiEnvironment, DEFAULT_UPLOAD_PREFIX } from '../../lambda-src/core/api/settings.js';
import type { StackSettings } from '../config/settings.js';
import {
  createHttpApi,
  deleteAuthorizer,
  deleteHttpApi,
  findHttpApi,
  getHttpApiParts,
  putJwtAuthorizer,
  putLambdaIntegration,
  putRoute,
  putStage,
  updateCors,
  type ApiView,
  type Cors,
  type HttpApiParts,
  type RouteAuthorization,
} from '../aws/apigateway.js';
import { addInvokePermission, getPolicyStatements, removePermission, type InvokePermission, type PolicyStatement } from '../aws/lambda.js';
import { stackRuntime } from '../config/settings.js';
import { lambdaFunctionRemovalStep, lambdaFunctionStep, type DesiredFunction, type FunctionStepSpec } from './function.js';
import { logGroupRemovalStepFor, logGroupStepFor, type LogGroupStepSpec } from './log-group.js';
import { planPermission, type PermissionOp, type PermissionRemovalOp } from './permission.js';
import { iamRoleRemovalStep, iamRoleStep, type RoleStepSpec } from './role.js';
import { STACK_TAG, type StackModel } from './stack.js';
import { loadTemplate, renderTemplate, type Json } from './templates.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';

export const API_HANDLER = 'index.apiHandler';
export const API_POLICY_NAME = 'img-resizer-api-function';
export const API_INVOKE_STATEMENT_ID = 'img-resizer-apigateway-invoke';
export const API_STAGE = '$default';
export const API_ROUTES = { upload: 'POST /uploads', read: 'GET /images/{proxy+}' } as const;
/** Sensible for one team's uploads; raise with --api-throttle-rate / --api-throttle-burst. */
export const DEFAULT_API_THROTTLE = { rate: 50, burst: 100 };
export const API_LOG_RETENTION_DAYS = 30;
/** API Gateway gives up on an integration after 30 s; the function stops before it does. */
export const API_FUNCTION_TIMEOUT_S = 29;
/** One JSON line per request: who, what, how it ended, and the integration's own error when there was one. */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.caller',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
});

/** The API's resources' names, derived from the stack name (the API is one more part of the stack). */
export function apiNames(stackName: string): { apiName: string; functionName: string; roleName: string; logGroupName: string; authorizerName: string } {
  return {
    apiName: `${stackName}-api`,
    functionName: `${stackName}-api`,
    roleName: `${stackName}-api-role`,
    logGroupName: `/aws/apigateway/${stackName}-api`,
    authorizerName: `${stackName}-jwt`,
  };
}

/** Where the API hands out uploads: under the trigger prefix when there is one, so uploads start the pipeline. */
export function apiUploadPrefix(settings: StackSettings): string {
  const prefix = settings.prefix ?? DEFAULT_UPLOAD_PREFIX;
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

export type ApiAuth = { type: 'AWS_IAM' } | { type: 'JWT'; issuer: string; audience: string };

export function apiAuth(settings: StackSettings): ApiAuth {
  return settings.apiJwtIssuer !== undefined && settings.apiJwtAudience !== undefined
    ? { type: 'JWT', issuer: settings.apiJwtIssuer, audience: settings.apiJwtAudience }
    : { type: 'AWS_IAM' };
}

/** The API function role's inline policy, from templates/api-function-policy.json. */
export function renderApiFunctionPolicy(stack: StackModel): Json {
  const { settings } = stack;
  return renderTemplate(loadTemplate('api-function-policy.json'), {
    partition: stack.partition,
    region: stack.region,
    account: stack.account,
    sourceBucket: settings.sourceBucket,
    destBucket: settings.destBucket,
    table: settings.table,
    functionName: apiNames(settings.stackName).functionName,
    uploadResources: [`arn:${stack.partition}:s3:::${settings.sourceBucket}/${apiUploadPrefix(settings)}*`],
  });
}

/** The API function's environment: the pipeline function's plus the API's own, validated as the handler reads it. */
export function apiFunctionEnvironment(stack: StackModel): Record<string, string> {
  return apiEnvironment(stack.environment, { presets: stack.settings.apiPresets, uploadPrefix: apiUploadPrefix(stack.settings) });
}

// ---------------------------------------------------------------------------------------------------
// Role

const apiRoleSpec: RoleStepSpec = {
  id: 'api-role',
  resource: 'API function role',
  roleName: (context) => apiNames(context.stack.settings.stackName).roleName,
  policyName: API_POLICY_NAME,
  trustPolicy: (context) => context.stack.trustPolicy,
  policy: (context) => renderApiFunctionPolicy(context.stack),
  description: 'the HTTP API function\'s execution role',
  arn: { outputs: (apiRoleArn) => ({ apiRoleArn }), expected: (context) => apiRoleArn(context.stack) },
};

export const apiRoleStep = iamRoleStep(apiRoleSpec);
export const apiRoleRemovalStep = iamRoleRemovalStep(apiRoleSpec);

function apiRoleArn(stack: StackModel): string {
  return `arn:${stack.partition}:iam::${stack.account}:role/${apiNames(stack.settings.stackName).roleName}`;
}

// ---------------------------------------------------------------------------------------------------
// Function

export function desiredApiFunction(context: ProvisionContext, inputs: Readonly<StackOutputs>): DesiredFunction {
  const { stack, artifacts } = context;
  const { settings } = stack;
  return {
    functionName: apiNames(settings.stackName).functionName,
    roleArn: inputs.apiRoleArn ?? apiRoleArn(stack),
    // The same bundle and layer as the resize function, so the same runtime.
    runtime: stackRuntime(settings),
    handler: API_HANDLER,
    memory: settings.memory,
    timeout: API_FUNCTION_TIMEOUT_S,
    architecture: settings.arch,
    layers: inputs.layerVersionArn ? [inputs.layerVersionArn] : [],
    environment: apiFunctionEnvironment(stack),
    description: `img-resizer stack ${settings.stackName}: the HTTP API (uploads and image reads)`,
    codeSha256: artifacts?.functionZip.codeSha256,
  };
}

function apiFunctionArn(stack: StackModel): string {
  return `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${apiNames(stack.settings.stackName).functionName}`;
}

const apiFunctionSpec: FunctionStepSpec = {
  id: 'api-function',
  resource: 'API function',
  functionName: (context) => apiNames(context.stack.settings.stackName).functionName,
  desired: desiredApiFunction,
  outputs: (apiFunctionArn, apiFunctionExists) => ({ apiFunctionArn, apiFunctionExists }),
  expectedArn: (context) => apiFunctionArn(context.stack),
};

export const apiFunctionStep = lambdaFunctionStep(apiFunctionSpec);
export const apiFunctionRemovalStep = lambdaFunctionRemovalStep(apiFunctionSpec);

// ---------------------------------------------------------------------------------------------------
// Access-log group

function logGroupArn(stack: StackModel): string {
  return `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${apiNames(stack.settings.stackName).logGroupName}`;
}

const apiLogGroup: LogGroupStepSpec = {
  id: 'api-log-group',
  resource: 'API access-log group',
  logGroupName: (context) => apiNames(context.stack.settings.stackName).logGroupName,
  retentionDays: () => API_LOG_RETENTION_DAYS,
  reasonWhenNone: (days) => `keeps access logs ${days} days`,
  outputs: (context) => ({ apiLogGroupArn: logGroupArn(context.stack) }),
};

export const apiLogGroupStep = logGroupStepFor(apiLogGroup);
export const apiLogGroupRemovalStep = logGroupRemovalStepFor(apiLogGroup);

// ---------------------------------------------------------------------------------------------------
// The HTTP API: integration, authorizer, routes, stage

export interface DesiredHttpApi {
  name: string;
  functionArn: string;
  auth: ApiAuth;
  publicReads: boolean;
  cors: Cors | undefined;
  throttle: { rate: number; burst: number };
  logGroupArn: string;
  authorizerName: string;
}

export interface ObservedHttpApi {
  api: ApiView | undefined;
  parts: HttpApiParts | undefined;
}

export type HttpApiOp =
  | { kind: 'create-http-api'; auth: ApiAuth['type']; publicReads: boolean; cors: string | undefined }
  | { kind: 'set-cors'; from: string | undefined; to: string | undefined }
  | { kind: 'put-integration'; missing: boolean; functionArn: string }
  | { kind: 'put-authorizer'; missing: boolean; issuer: string; audience: string }
  | { kind: 'delete-authorizer'; authorizerId: string }
  | { kind: 'put-route'; routeKey: string; missing: boolean; authorization: string }
  | { kind: 'put-stage'; missing: boolean; changes: string[] };
export interface HttpApiRemovalOp { kind: 'delete-http-api'; apiId: string }

/** The API's CORS configuration (init and export): the one origin the settings allow, or none. */
export function apiCors(settings: StackSettings): Cors | undefined {
  if (settings.apiCorsOrigin === undefined) return undefined;
  return {
    AllowOrigins: [settings.apiCorsOrigin],
    AllowMethods: ['GET', 'POST'],
    // Authorization carries the JWT; the x-amz-* headers the SigV4 signature.
    AllowHeaders: ['authorization', 'content-type', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'],
    MaxAge: 600,
  };
}

/** The `$default` stage's throttling (init and export). */
export function apiThrottle(settings: StackSettings): { rate: number; burst: number } {
  return { rate: settings.apiThrottleRate ?? DEFAULT_API_THROTTLE.rate, burst: settings.apiThrottleBurst ?? DEFAULT_API_THROTTLE.burst };
}

/** How a route is authorised (init and export): reads may be public, uploads never are. */
export function apiRouteAuthorization(settings: StackSettings, routeKey: string): ApiAuth['type'] | 'NONE' {
  return routeAuthorization({ auth: apiAuth(settings), publicReads: settings.apiPublicReads === true }, routeKey);
}

export function desiredHttpApi(context: ProvisionContext, inputs: Readonly<StackOutputs>): DesiredHttpApi {
  const { stack } = context;
  const { settings } = stack;
  const names = apiNames(settings.stackName);
  return {
    name: names.apiName,
    functionArn: inputs.apiFunctionArn ?? apiFunctionArn(stack),
    auth: apiAuth(settings),
    publicReads: settings.apiPublicReads === true,
    cors: apiCors(settings),
    throttle: apiThrottle(settings),
    logGroupArn: inputs.apiLogGroupArn ?? logGroupArn(stack),
    authorizerName: names.authorizerName,
  };
}

function routeAuthorization(desired: Pick<DesiredHttpApi, 'auth' | 'publicReads'>, routeKey: string): ApiAuth['type'] | 'NONE' {
  if (routeKey === API_ROUTES.read && desired.publicReads) return 'NONE';
  return desired.auth.type;
}

function corsText(cors: Cors | undefined): string | undefined {
  const origins = cors?.AllowOrigins ?? [];
  return origins.length === 0 ? undefined : origins.join(',');
}

export function planHttpApi(desired: DesiredHttpApi, observed: ObservedHttpApi): Plan<HttpApiOp> {
  if (!observed.api || !observed.parts) {
    return {
      action: 'create',
      reason: 'does not exist',
      ops: [
        { kind: 'create-http-api', auth: desired.auth.type, publicReads: desired.publicReads, cors: corsText(desired.cors) },
        { kind: 'put-integration', missing: true, functionArn: desired.functionArn },
        ...(desired.auth.type === 'JWT' ? [{ kind: 'put-authorizer' as const, missing: true, issuer: desired.auth.issuer, audience: desired.auth.audience }] : []),
        ...Object.values(API_ROUTES).map((routeKey) => ({ kind: 'put-route' as const, routeKey, missing: true, authorization: routeAuthorization(desired, routeKey) })),
        { kind: 'put-stage', missing: true, changes: [] },
      ],
    };
  }
  const { api, parts } = observed;
  const ops: HttpApiOp[] = [];
  if (corsText(api.CorsConfiguration) !== corsText(desired.cors)) ops.push({ kind: 'set-cors', from: corsText(api.CorsConfiguration), to: corsText(desired.cors) });
  const integration = parts.integrations[0];
  if (integration?.IntegrationType !== 'AWS_PROXY' || integration.IntegrationUri !== desired.functionArn || integration.PayloadFormatVersion !== '2.0') {
    ops.push({ kind: 'put-integration', missing: integration === undefined, functionArn: desired.functionArn });
  }
  const authorizer = parts.authorizers.find((a) => a.Name === desired.authorizerName);
  let authorizerChanges = false;
  if (desired.auth.type === 'JWT') {
    const { issuer, audience } = desired.auth;
    const config = authorizer?.JwtConfiguration;
    if (authorizer?.AuthorizerType !== 'JWT' || config?.Issuer !== issuer || (config.Audience ?? []).join(',') !== audience) {
      authorizerChanges = authorizer === undefined;
      ops.push({ kind: 'put-authorizer', missing: authorizer === undefined, issuer, audience });
    }
  } else if (authorizer?.AuthorizerId !== undefined) ops.push({ kind: 'delete-authorizer', authorizerId: authorizer.AuthorizerId });
  const target = integration?.IntegrationId === undefined ? undefined : `integrations/${integration.IntegrationId}`;
  for (const routeKey of Object.values(API_ROUTES)) {
    const route = parts.routes.find((r) => r.RouteKey === routeKey);
    const authorization = routeAuthorization(desired, routeKey);
    const stale =
      route?.AuthorizationType !== authorization ||
      route.Target !== target ||
      (authorization === 'JWT' && (authorizerChanges || route.AuthorizerId !== authorizer?.AuthorizerId));
    if (stale) ops.push({ kind: 'put-route', routeKey, missing: route === undefined, authorization });
  }
  const stage = parts.stage;
  const changes: string[] = [];
  if (stage) {
    const settings = stage.DefaultRouteSettings;
    if (settings?.ThrottlingRateLimit !== desired.throttle.rate) changes.push(`rate ${settings?.ThrottlingRateLimit ?? 'none'} → ${desired.throttle.rate}/s`);
    if (settings?.ThrottlingBurstLimit !== desired.throttle.burst) changes.push(`burst ${settings?.ThrottlingBurstLimit ?? 'none'} → ${desired.throttle.burst}`);
    if (stage.AccessLogSettings?.DestinationArn !== desired.logGroupArn) changes.push('access logs to the stack\'s log group');
    if (stage.AutoDeploy !== true) changes.push('auto-deploy on');
  }
  if (!stage || changes.length > 0) ops.push({ kind: 'put-stage', missing: stage === undefined, changes });
  return opsPlan(ops, `${desired.auth.type === 'JWT' ? 'JWT' : 'IAM'} auth${desired.publicReads ? ' (public reads)' : ''}, routes and stage as required`);
}

async function observeHttpApi(context: ProvisionContext): Promise<ObservedHttpApi> {
  const { stack } = context;
  const api = await findHttpApi(context.clients.apigateway, apiNames(stack.settings.stackName).apiName, { key: STACK_TAG, value: stack.settings.stackName });
  if (api?.ApiId === undefined) return { api: undefined, parts: undefined };
  return { api, parts: await getHttpApiParts(context.clients.apigateway, api.ApiId, API_STAGE) };
}

export const httpApiStep: Step<ObservedHttpApi, HttpApiOp> = {
  id: 'http-api',
  resource: 'HTTP API',
  name: (context) => apiNames(context.stack.settings.stackName).apiName,
  observe: (context) => observeHttpApi(context),
  plan: (context, observed, inputs) => planHttpApi(desiredHttpApi(context, inputs), observed),
  async apply(context, observed, plan, inputs, progress) {
    const client = context.clients.apigateway;
    const { stack } = context;
    const desired = desiredHttpApi(context, inputs);
    let api: ApiView | undefined = observed.api;
    if (plan.ops.some((op) => op.kind === 'create-http-api')) {
      progress('creating');
      api = await createHttpApi(client, {
        name: desired.name,
        description: `img-resizer stack ${stack.settings.stackName}: uploads and image reads`,
        cors: desired.cors,
        tags: stack.tags,
      });
    }
    const apiId = api?.ApiId;
    if (apiId === undefined) throw new Error('API Gateway returned no API id');
    const parts = observed.parts ?? { integrations: [], routes: [], authorizers: [], stage: undefined };
    let integrationId = parts.integrations[0]?.IntegrationId;
    let authorizerId = parts.authorizers.find((a) => a.Name === desired.authorizerName)?.AuthorizerId;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-http-api':
          break;
        case 'set-cors':
          await updateCors(client, apiId, desired.cors);
          break;
        case 'put-integration':
          integrationId = await putLambdaIntegration(client, apiId, integrationId, { functionArn: desired.functionArn });
          break;
        case 'put-authorizer':
          if (desired.auth.type === 'JWT') authorizerId = await putJwtAuthorizer(client, apiId, authorizerId, { name: desired.authorizerName, ...desired.auth });
          break;
        case 'put-route': {
          if (integrationId === undefined) throw new Error('the API has no integration to route to');
          const authorization: RouteAuthorization =
            op.authorization === 'JWT' ? { type: 'JWT', authorizerId: authorizerId ?? '' } : op.authorization === 'NONE' ? { type: 'NONE' } : { type: 'AWS_IAM' };
          const routeId = parts.routes.find((r) => r.RouteKey === op.routeKey)?.RouteId;
          await putRoute(client, apiId, routeId, { routeKey: op.routeKey, integrationId, authorization });
          break;
        }
        case 'put-stage':
          await putStage(client, apiId, !op.missing, {
            stageName: API_STAGE,
            throttle: desired.throttle,
            accessLog: { destinationArn: desired.logGroupArn, format: ACCESS_LOG_FORMAT },
            tags: stack.tags,
          });
          break;
        case 'delete-authorizer':
          break;
      }
    }
    // Routes first left the authorizer; only then can it go.
    for (const op of plan.ops) if (op.kind === 'delete-authorizer') await deleteAuthorizer(client, apiId, op.authorizerId);
    return { outputs: { apiId, ...(api?.ApiEndpoint === undefined ? {} : { apiEndpoint: api.ApiEndpoint }) } };
  },
  outputs: (_context, observed) => ({
    ...(observed.api?.ApiId === undefined ? {} : { apiId: observed.api.ApiId }),
    ...(observed.api?.ApiEndpoint === undefined ? {} : { apiEndpoint: observed.api.ApiEndpoint }),
  }),
};

export const httpApiRemovalStep: Step<ApiView | undefined, HttpApiRemovalOp> = {
  id: 'http-api',
  resource: 'HTTP API',
  name: (context) => apiNames(context.stack.settings.stackName).apiName,
  observe: (context) =>
    findHttpApi(context.clients.apigateway, apiNames(context.stack.settings.stackName).apiName, { key: STACK_TAG, value: context.stack.settings.stackName }),
  plan: (context, observed): Plan<HttpApiRemovalOp> =>
    // Only an API tagged for this stack: one of the same name made by someone else stays.
    observed?.ApiId !== undefined && observed.Tags?.[STACK_TAG] === context.stack.settings.stackName
      ? { action: 'delete', reason: 'made by this stack (routes, integration, authorizer and stage go with it)', ops: [{ kind: 'delete-http-api', apiId: observed.ApiId }] }
      : noop('already gone'),
  async apply(context, _observed, plan) {
    for (const op of plan.ops) await deleteHttpApi(context.clients.apigateway, op.apiId);
    return undefined;
  },
};

// ---------------------------------------------------------------------------------------------------
// Invoke permission: this API, any stage and route, and nothing else

export function desiredApiPermission(context: ProvisionContext, inputs: Readonly<StackOutputs>): InvokePermission | undefined {
  const { stack } = context;
  if (inputs.apiId === undefined) return undefined;
  return {
    functionName: apiNames(stack.settings.stackName).functionName,
    statementId: API_INVOKE_STATEMENT_ID,
    principal: 'apigateway.amazonaws.com',
    sourceArn: `arn:${stack.partition}:execute-api:${stack.region}:${stack.account}:${inputs.apiId}/*`,
    sourceAccount: stack.account,
  };
}

export const apiPermissionStep: Step<PolicyStatement[] | undefined, PermissionOp> = {
  id: 'api-permission',
  resource: 'API invoke permission',
  name: () => API_INVOKE_STATEMENT_ID,
  async observe(context, inputs) {
    if (inputs.apiFunctionExists === false) return undefined;
    return getPolicyStatements(context.clients.lambda, apiNames(context.stack.settings.stackName).functionName);
  },
  plan(context, observed, inputs) {
    const desired = desiredApiPermission(context, inputs);
    // A dry run before the API exists: its ARN, and so the permission's source, is not known yet.
    if (!desired) return { action: 'create', reason: 'the API does not exist yet', ops: [{ kind: 'add-permission', principal: 'apigateway.amazonaws.com', sourceArn: '(the new API)', sourceAccount: context.stack.account }] };
    return planPermission(desired, observed);
  },
  async apply(context, _observed, plan, inputs) {
    const desired = desiredApiPermission(context, inputs);
    if (!desired) throw new Error('the API permission step needs the API id');
    if (plan.ops.some((op) => op.kind === 'replace-permission')) await removePermission(context.clients.lambda, desired.functionName, desired.statementId);
    await addInvokePermission(context.clients.lambda, desired);
    return undefined;
  },
};

export const apiPermissionRemovalStep: Step<PolicyStatement[] | undefined, PermissionRemovalOp> = {
  id: 'api-permission',
  resource: 'API invoke permission',
  name: () => API_INVOKE_STATEMENT_ID,
  observe: (context) => getPolicyStatements(context.clients.lambda, apiNames(context.stack.settings.stackName).functionName),
  plan: (_context, observed): Plan<PermissionRemovalOp> =>
    observed?.some((s) => s.Sid === API_INVOKE_STATEMENT_ID)
      ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'remove-permission', statementId: API_INVOKE_STATEMENT_ID }] }
      : noop('already gone'),
  async apply(context, _observed, plan) {
    for (const op of plan.ops) await removePermission(context.clients.lambda, apiNames(context.stack.settings.stackName).functionName, op.statementId);
    return undefined;
  },
};
