import { awsApiPorts } from './api-aws-ports.js';
import { createFunctionClients } from './aws-ports.js';
import type { ApiPorts } from './core/api/ports.js';
import { jsonResponse, routeApiRequest, type ApiResponse, type RouterDependencies } from './core/api/router.js';
import { loadApiSettings, type ApiSettings } from './core/api/settings.js';

/** The parts of an API Gateway v2 (HTTP API, payload format 2.0) event the API reads. */
interface HttpApiEvent {
  rawPath?: string;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: { http?: { method?: string }; domainName?: string; stage?: string; requestId?: string };
}

export interface ApiHandlerOptions {
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces the AWS ports (tests). */
  ports?: ApiPorts;
  /** Replaces the image core or the clock (tests). */
  dependencies?: Omit<RouterDependencies, 'ports'>;
}

type ApiHandler = (event: unknown) => Promise<ApiResponse>;

function log(level: 'info' | 'error', message: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}

/**
 * The HTTP API's handler: payload format 2.0 in, `{statusCode, headers, body}` out, the work in the router.
 * Settings and clients are made on the first request and kept for the container's life. Errors that are not
 * the client's are logged with their detail and answered with a bare 500.
 */
export function createApiHandler(options: ApiHandlerOptions = {}): ApiHandler {
  let runtime: { settings: ApiSettings; ports: ApiPorts } | undefined;
  const init = (): { settings: ApiSettings; ports: ApiPorts } => {
    if (runtime) return runtime;
    const env = options.env ?? process.env;
    const settings = loadApiSettings(env);
    runtime = { settings, ports: options.ports ?? awsApiPorts(createFunctionClients(env), settings.function.table) };
    return runtime;
  };

  return async (raw: unknown): Promise<ApiResponse> => {
    const event = (typeof raw === 'object' && raw !== null ? raw : {}) as HttpApiEvent;
    const context = event.requestContext ?? {};
    const requestId = context.requestId;
    try {
      const { settings, ports } = init();
      const stage = context.stage && context.stage !== '$default' ? `/${context.stage}` : '';
      let rawPath = event.rawPath ?? '/';
      // With a named stage, the raw path starts with it.
      if (stage !== '' && (rawPath === stage || rawPath.startsWith(`${stage}/`))) rawPath = rawPath.slice(stage.length) || '/';
      const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
      const baseUrl = settings.baseUrl ?? `https://${context.domainName ?? 'localhost'}${stage}`;
      const method = context.http?.method ?? 'GET';
      const response = await routeApiRequest({ method, rawPath, body, baseUrl }, settings, { ...options.dependencies, ports });
      log('info', 'request', { requestId, method, path: rawPath, status: response.statusCode });
      return response;
    } catch (error) {
      log('error', 'request failed', { requestId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      return jsonResponse(500, { error: { code: 'INTERNAL', message: 'The request failed on our side; try again. The function log has the detail.' } });
    }
  };
}

/** The API's entry point (index.apiHandler once bundled). */
export const handler: ApiHandler = createApiHandler();
