/**
 * The HTTP API (`init --api`) in the template: its role with the policy `init` renders
 * (templates/api-function-policy.json through `renderApiFunctionPolicy`), its function (the stack's zip and
 * layer, handler index.apiHandler, the environment `apiFunctionEnvironment` gives it), the access-log group,
 * the API with CORS, the Lambda proxy integration, the JWT authorizer when the settings name an issuer, the two
 * routes, the `$default` stage with throttling and access logs, and the permission for this API only.
 */
import { stackRuntime } from '../config/stack-settings.js';
import {
  ACCESS_LOG_FORMAT,
  API_FUNCTION_TIMEOUT_S,
  API_HANDLER,
  API_LOG_RETENTION_DAYS,
  API_POLICY_NAME,
  API_ROUTES,
  API_STAGE,
  apiAuth,
  apiCors,
  apiFunctionEnvironment,
  apiNames,
  apiRouteAuthorization,
  apiThrottle,
  renderApiFunctionPolicy,
} from '../provision/api.js';
import { loadTemplate, type Json } from '../provision/templates.js';
import {
  LOGICAL_ID,
  PARAMETER,
  concreteModel,
  functionResource,
  getAtt,
  ref,
  referencedEnvironment,
  referencedModel,
  sub,
  substituteStrings,
  tagList,
  tagMap,
  type JsonObject,
  type TemplateInput,
  type TemplatePart,
} from './template-model.js';

/** The API's policy as `init` renders it, with the pseudo parameters and name parameters in place of values. */
export function exportedApiFunctionPolicy(settings: TemplateInput['settings']): Json {
  return substituteStrings(renderApiFunctionPolicy(referencedModel(settings)));
}

function routes(settings: TemplateInput['settings']): JsonObject {
  const auth = apiAuth(settings);
  const out: JsonObject = {};
  const ids: Record<string, string> = { [API_ROUTES.upload]: LOGICAL_ID.apiUploadRoute, [API_ROUTES.read]: LOGICAL_ID.apiReadRoute };
  for (const routeKey of Object.values(API_ROUTES)) {
    const authorization = apiRouteAuthorization(settings, routeKey);
    out[ids[routeKey] ?? routeKey] = {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: ref(LOGICAL_ID.httpApi),
        RouteKey: routeKey,
        Target: sub(`integrations/\${${LOGICAL_ID.apiIntegration}}`),
        AuthorizationType: authorization,
        ...(authorization === 'JWT' && auth.type === 'JWT' ? { AuthorizerId: ref(LOGICAL_ID.apiAuthorizer) } : {}),
      },
    };
  }
  return out;
}

export function apiPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  if (settings.api !== true) return { resources: {} };
  const names = apiNames(settings.stackName);
  const auth = apiAuth(settings);
  const cors = apiCors(settings);
  const throttle = apiThrottle(settings);
  const resources: JsonObject = {
    [LOGICAL_ID.apiRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: names.roleName,
        Description: `img-resizer stack ${settings.stackName}: the HTTP API function's execution role`,
        AssumeRolePolicyDocument: loadTemplate('lambda-trust-policy.json'),
        Policies: [{ PolicyName: API_POLICY_NAME, PolicyDocument: exportedApiFunctionPolicy(settings) }],
        Tags: tagList(settings),
      },
    },
    [LOGICAL_ID.apiFunction]: functionResource(input, {
      FunctionName: names.functionName,
      Description: `img-resizer stack ${settings.stackName}: the HTTP API (uploads and image reads)`,
      // The same bundle and layer as the resize function, so the same runtime (as init's api-function step).
      Runtime: stackRuntime(settings),
      Handler: API_HANDLER,
      Role: getAtt(LOGICAL_ID.apiRole, 'Arn'),
      MemorySize: ref(PARAMETER.memory),
      Timeout: API_FUNCTION_TIMEOUT_S,
      Architectures: [settings.arch],
      Layers: [ref(LOGICAL_ID.layer)],
      Environment: { Variables: referencedEnvironment(settings, apiFunctionEnvironment(concreteModel(settings))) },
    }),
    [LOGICAL_ID.apiLogGroup]: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: names.logGroupName, RetentionInDays: API_LOG_RETENTION_DAYS, Tags: tagList(settings) },
    },
    [LOGICAL_ID.httpApi]: {
      Type: 'AWS::ApiGatewayV2::Api',
      Properties: {
        Name: names.apiName,
        ProtocolType: 'HTTP',
        Description: `img-resizer stack ${settings.stackName}: uploads and image reads`,
        ...(cors === undefined ? {} : { CorsConfiguration: cors as Json }),
        Tags: tagMap(settings),
      },
    },
    [LOGICAL_ID.apiIntegration]: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: {
        ApiId: ref(LOGICAL_ID.httpApi),
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: getAtt(LOGICAL_ID.apiFunction, 'Arn'),
        PayloadFormatVersion: '2.0',
      },
    },
  };
  if (auth.type === 'JWT') {
    resources[LOGICAL_ID.apiAuthorizer] = {
      Type: 'AWS::ApiGatewayV2::Authorizer',
      Properties: {
        ApiId: ref(LOGICAL_ID.httpApi),
        Name: names.authorizerName,
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: auth.issuer, Audience: [auth.audience] },
      },
    };
  }
  Object.assign(resources, routes(settings), {
    [LOGICAL_ID.apiStage]: {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: {
        ApiId: ref(LOGICAL_ID.httpApi),
        StageName: API_STAGE,
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: throttle.rate, ThrottlingBurstLimit: throttle.burst },
        // The ARN init gives API Gateway (the log group's GetAtt Arn ends in ":*", which it does not take).
        AccessLogSettings: {
          DestinationArn: sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:\${${LOGICAL_ID.apiLogGroup}}`),
          Format: ACCESS_LOG_FORMAT,
        },
        Tags: tagMap(settings),
      },
    },
    [LOGICAL_ID.apiPermission]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: getAtt(LOGICAL_ID.apiFunction, 'Arn'),
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        // This API, any stage and route, and nothing else (as init's api-permission step).
        SourceArn: sub(`arn:\${AWS::Partition}:execute-api:\${AWS::Region}:\${AWS::AccountId}:\${${LOGICAL_ID.httpApi}}/*`),
        SourceAccount: ref('AWS::AccountId'),
      },
    },
  });
  return {
    resources,
    outputs: {
      ApiUrl: { Description: 'The HTTP API (POST /uploads, GET /images/{key})', Value: getAtt(LOGICAL_ID.httpApi, 'ApiEndpoint') },
      ApiFunctionArn: { Description: "The HTTP API's function", Value: getAtt(LOGICAL_ID.apiFunction, 'Arn') },
    },
  };
}
