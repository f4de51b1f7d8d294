import { describe, expect, it } from 'vitest';
import { resolveInitSettings } from '../../src/config/settings.js';
import { apiFunctionEnvironment, planHttpApi, renderApiFunctionPolicy, type DesiredHttpApi } from '../../src/provision/api.js';
import { stackModel } from '../../src/provision/stack.js';

const base: DesiredHttpApi = {
  name: 's-api',
  functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:s-api',
  auth: { type: 'AWS_IAM' },
  publicReads: false,
  cors: undefined,
  throttle: { rate: 50, burst: 100 },
  logGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/s-api',
  authorizerName: 's-jwt',
};

const locate = () => Promise.resolve({ account: '123456789012', region: 'us-east-1' });

describe('the HTTP API plan', () => {
  it('authorises both routes with IAM by default, and has no authorizer or CORS', () => {
    const plan = planHttpApi(base, { api: undefined, parts: undefined });
    expect(plan.action).toBe('create');
    expect(plan.ops).toEqual([
      { kind: 'create-http-api', auth: 'AWS_IAM', publicReads: false, cors: undefined },
      { kind: 'put-integration', missing: true, functionArn: base.functionArn },
      { kind: 'put-route', routeKey: 'POST /uploads', missing: true, authorization: 'AWS_IAM' },
      { kind: 'put-route', routeKey: 'GET /images/{proxy+}', missing: true, authorization: 'AWS_IAM' },
      { kind: 'put-stage', missing: true, changes: [] },
    ]);
  });

  it('with public reads, opens only the read route; with JWT, adds the authorizer', () => {
    const plan = planHttpApi({ ...base, publicReads: true, auth: { type: 'JWT', issuer: 'https://id.example.com', audience: 'app' } }, { api: undefined, parts: undefined });
    const routes = plan.ops.flatMap((op) => (op.kind === 'put-route' ? [`${op.routeKey}:${op.authorization}`] : []));
    expect(routes).toEqual(['POST /uploads:JWT', 'GET /images/{proxy+}:NONE']);
    expect(plan.ops).toContainEqual({ kind: 'put-authorizer', missing: true, issuer: 'https://id.example.com', audience: 'app' });
  });

  it('sees a route opened by hand, a changed throttle and a switch back to IAM as drift', () => {
    const observed = {
      api: { ApiId: 'abc12345', Name: 's-api' },
      parts: {
        integrations: [{ IntegrationId: 'i1', IntegrationType: 'AWS_PROXY' as const, IntegrationUri: base.functionArn, PayloadFormatVersion: '2.0' }],
        routes: [
          { RouteId: 'r1', RouteKey: 'POST /uploads', AuthorizationType: 'NONE' as const, Target: 'integrations/i1' },
          { RouteId: 'r2', RouteKey: 'GET /images/{proxy+}', AuthorizationType: 'AWS_IAM' as const, Target: 'integrations/i1' },
        ],
        authorizers: [{ AuthorizerId: 'a1', Name: 's-jwt', AuthorizerType: 'JWT' as const }],
        stage: { StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 100 }, AccessLogSettings: { DestinationArn: base.logGroupArn } },
      },
    };
    const plan = planHttpApi(base, observed);
    expect(plan.ops).toEqual([
      { kind: 'delete-authorizer', authorizerId: 'a1' },
      { kind: 'put-route', routeKey: 'POST /uploads', missing: false, authorization: 'AWS_IAM' },
      { kind: 'put-stage', missing: false, changes: ['rate 1000 → 50/s'] },
    ]);
  });
});

describe('init --api settings', () => {
  it('reads the API settings from flags and environment, and refuses half a JWT configuration', async () => {
    const resolved = await resolveInitSettings({
      flags: { api: true, apiPresets: 'card=600x400:webp' },
      env: { IMG_RESIZER_API_PUBLIC_READS: 'true', IMG_RESIZER_API_THROTTLE_BURST: '20' },
      file: undefined,
      locate,
    });
    expect(resolved.settings).toMatchObject({ api: true, apiPresets: 'card=600x400:webp', apiPublicReads: true, apiThrottleBurst: 20 });
    await expect(resolveInitSettings({ flags: { api: true, apiJwtIssuer: 'https://id.example.com' }, file: undefined, locate })).rejects.toThrow(/issuer and an audience/);
  });

  it('refuses a bad preset before any AWS call', async () => {
    await expect(resolveInitSettings({ flags: { api: true, apiPresets: 'card=600' }, file: undefined, locate })).rejects.toThrow(/preset/i);
  });

  it('gives the API function the pipeline environment plus its presets, and a policy scoped to uploads and resized outputs', async () => {
    const { settings } = await resolveInitSettings({ flags: { stackName: 'shop', api: true, apiPresets: 'card=600x400:webp' }, file: undefined, locate });
    const stack = stackModel(settings, { account: '123456789012', partition: 'aws' }, 'us-east-1');
    expect(apiFunctionEnvironment(stack)).toMatchObject({ PRESETS: 'card=600x400:webp', UPLOAD_PREFIX: 'uploads/', SOURCE_BUCKET: settings.sourceBucket });
    const policy = JSON.stringify(renderApiFunctionPolicy(stack));
    expect(policy).toContain(`arn:aws:s3:::${settings.sourceBucket}/uploads/*`);
    expect(policy).toContain(`arn:aws:s3:::${settings.destBucket}/resized/*`);
    expect(policy).toContain('dynamodb:UpdateItem');
    expect(policy).not.toMatch(/"\*"|s3:\*|dynamodb:\*|PutItem|DeleteObject/);
  });
});
