/**
 * The stack's HTTP API as a client calls it (`upload --via-api`, issue 14): `POST /uploads` for a presigned S3
 * POST, the form upload straight to S3, and `GET /images/{key}` for the item. Requests are signed with SigV4
 * (service `execute-api`, the SDK's own signer, credentials and hash) or carry a bearer token. Node's fetch is
 * the transport: these are three plain HTTPS calls, which no SDK client models.
 */
import { openAsBlob } from 'node:fs';
import path from 'node:path';
import type { ApiGatewayV2Client } from '@aws-sdk/client-apigatewayv2';
import { SignatureV4 } from '@smithy/signature-v4';
import { encodeKeyPath } from '../../lambda-src/core/api/paths.js';
import type { MetadataItem } from '../../lambda-src/core/metadata.js';
import { CliError, ExitCode } from '../errors.js';

/** How the API authorises callers: SigV4 with the stack's credentials, or a bearer token (never logged). */
export type HttpApiAuth = { kind: 'iam'; signer: SignatureV4 } | { kind: 'jwt'; token: string };

/** `POST /uploads`' answer (lambda-src/core/api/router.ts, createUpload). */
export interface PresignedUpload {
  imageId: string;
  bucket: string;
  key: string;
  upload: { method: string; url: string; fields: Record<string, string>; maxBytes: number; expiresInSeconds: number };
  statusUrl: string;
}

/** `GET /images/{key}`: the item with a Url on each output, or a PENDING stand-in while the function has not recorded it. */
export type ApiImage = Omit<MetadataItem, 'Status'> & { Status: MetadataItem['Status'] | 'PENDING' };

/** A refusal by the API or by S3's policy check: the HTTP status, the answer's code, and a next step. */
export class HttpApiError extends CliError {
  readonly status: number;
  readonly apiCode: string | undefined;

  constructor(code: string, message: string, options: { status: number; apiCode: string | undefined; suggestion: string; exitCode?: ExitCode }) {
    super(code, message, { suggestion: options.suggestion, exitCode: options.exitCode ?? ExitCode.Failed });
    this.name = 'HttpApiError';
    this.status = options.status;
    this.apiCode = options.apiCode;
  }

  /** A refusal of the caller or a missing API rather than of one file: every other file would get the same. */
  get affectsEveryFile(): boolean {
    return this.code === 'API_UNAUTHORIZED' || this.code === 'API_FORBIDDEN' || this.code === 'API_NO_ROUTE';
  }
}

/**
 * The SigV4 signer of `execute-api` for the region and credentials the SDK clients resolved (profile, SSO, env,
 * the local stack's dummy keys), with the SDK's own SHA-256.
 */
export function executeApiSigner(client: ApiGatewayV2Client): SignatureV4 {
  const { credentials, region, sha256 } = client.config;
  return new SignatureV4({ service: 'execute-api', region, credentials, sha256 });
}

export interface HttpApiClientOptions {
  /** The API's URL as `api url` prints it (no trailing slash). */
  baseUrl: string;
  auth: HttpApiAuth;
  /** Node's fetch unless given (tests pass one that records the requests it forwards). */
  fetch?: typeof fetch;
}

export class HttpApiClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** `POST /uploads`: the presigned POST for one file. */
  async createUpload(request: { filename: string; contentType: string; bytes: number; prefix?: string | undefined }): Promise<PresignedUpload> {
    const body = JSON.stringify(request);
    const response = await this.send('POST', '/uploads', body);
    if (response.status !== 201) throw apiRefusal(response, 'POST /uploads');
    return parseJson(response.text, 'POST /uploads') as PresignedUpload;
  }

  /** `GET /images/{key}`: the item (or PENDING), or undefined while the API knows nothing of the key yet. */
  async getImage(key: string): Promise<ApiImage | undefined> {
    const response = await this.send('GET', `/images/${encodeKeyPath(key)}`);
    if (response.status === 404 && errorCode(response.text) === 'NOT_FOUND') return undefined;
    if (response.status !== 200) throw apiRefusal(response, 'GET /images/{key}');
    return parseJson(response.text, 'GET /images/{key}') as ApiImage;
  }

  /**
   * The upload itself, straight to S3 with the presigned POST: a multipart form, the policy's fields first and
   * the file last (S3 ignores fields after it). The file is read as it is sent, not loaded whole.
   */
  async postFile(upload: PresignedUpload, file: { path: string; contentType: string }): Promise<void> {
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.upload.fields)) form.append(name, value);
    form.append('file', await openAsBlob(file.path, { type: file.contentType }), path.basename(file.path));
    const response = await this.fetch(upload.upload.url, { method: upload.upload.method, body: form, redirect: 'manual' });
    const text = await response.text();
    if (response.status >= 200 && response.status < 300) return;
    throw s3Refusal(response.status, text, upload);
  }

  private async send(method: 'GET' | 'POST', route: string, body?: string): Promise<{ status: number; text: string }> {
    const url = new URL(`${this.baseUrl}${route}`);
    let headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    const { auth } = this.options;
    if (auth.kind === 'jwt') {
      headers.authorization = `Bearer ${auth.token}`;
    } else {
      const signed = await auth.signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        // The host header is signed as fetch will send it (with the port when there is one).
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      });
      // fetch sets Host itself, from the same URL.
      const { host: _host, ...rest } = signed.headers;
      headers = rest;
    }
    const response = await this.fetch(url, { method, headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
    return { status: response.status, text: await response.text() };
  }
}

function parseJson(text: string, route: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError('API_BAD_ANSWER', `${route} answered with something that is not JSON.`, {
      suggestion: 'Check that the URL is the stack\'s API: `img-resizer api url`, then `img-resizer status`.',
    });
  }
}

/** The code of the API's `{"error":{"code","message"}}`; API Gateway's own refusals (`{"message"}`) have none. */
function errorCode(text: string): string | undefined {
  return apiErrorBody(text).code;
}

function apiErrorBody(text: string): { code: string | undefined; message: string | undefined } {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown }; message?: unknown; Message?: unknown };
    const code = typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
    const message = [parsed.error?.message, parsed.message, parsed.Message].find((m): m is string => typeof m === 'string');
    return { code, message };
  } catch {
    return { code: undefined, message: undefined };
  }
}

/** An API answer that is not the expected success, as a typed error that says what to do next. */
export function apiRefusal(response: { status: number; text: string }, route: string): HttpApiError {
  const { code, message } = apiErrorBody(response.text);
  const said = `${code === undefined ? '' : ` ${code}`}${message === undefined ? '' : `: ${message}`}`;
  const common = { status: response.status, apiCode: code };
  switch (response.status) {
    case 401:
      return new HttpApiError('API_UNAUTHORIZED', `The API refused ${route} (401${said}).`, {
        ...common,
        suggestion: 'The API takes a JWT: pass a valid, unexpired token for its issuer and audience with --api-token or IMG_RESIZER_API_TOKEN.',
        exitCode: ExitCode.Usage,
      });
    case 403:
      return new HttpApiError('API_FORBIDDEN', `The API refused ${route} (403${said}).`, {
        ...common,
        suggestion:
          'With IAM auth the caller needs execute-api:Invoke on this API: check the credentials in use (--profile, AWS_PROFILE) and their policy. With JWT auth, check the token\'s scopes.',
        exitCode: ExitCode.Usage,
      });
    case 404:
      if (code === undefined || code === 'NO_ROUTE') {
        return new HttpApiError('API_NO_ROUTE', `Nothing answers ${route} at the stack's API (404${said}).`, {
          ...common,
          suggestion: 'Check the API with `img-resizer status`; `img-resizer init --api` recreates its routes.',
        });
      }
      return new HttpApiError('API_NOT_FOUND', `The API answered ${route} with 404${said}.`, { ...common, suggestion: 'Check the key with `img-resizer metadata list`.' });
    case 413:
      return new HttpApiError('API_TOO_LARGE', `The API refused ${route} as too large (413${said}).`, {
        ...common,
        suggestion: 'The request body only describes the file; check that nothing between you and the API rewrites it.',
      });
    case 429:
      return new HttpApiError('API_THROTTLED', `The API is throttling requests (429${said}).`, {
        ...common,
        suggestion: 'Upload fewer files at once (--concurrency), or raise the stage\'s limits with `img-resizer init --api --api-throttle-rate N`.',
      });
    default:
      if (response.status === 400) {
        return new HttpApiError(code === undefined ? 'API_BAD_REQUEST' : `API_${code}`, `The API refused ${route} (400${said}).`, {
          ...common,
          suggestion: badRequestSuggestion(code),
        });
      }
      return new HttpApiError('API_ERROR', `The API answered ${route} with ${response.status}${said}.`, {
        ...common,
        suggestion: 'Look at the API function\'s logs (`<stack>-api`) and check the stack with `img-resizer status`.',
      });
  }
}

function badRequestSuggestion(code: string | undefined): string {
  switch (code) {
    case 'UNSUPPORTED_TYPE':
      return 'Only JPEG, PNG, WebP, GIF, AVIF and TIFF go through the API; upload other files directly (without --via-api) if the pipeline should see them.';
    case 'TOO_LARGE':
      return 'The file is over the stack\'s size limit (MAX_BYTES); resize it first with `img-resizer resize`.';
    case 'INVALID_PREFIX':
      return 'Leave out --prefix: the API puts uploads under its own upload prefix.';
    default:
      return 'Upload it again; if it keeps failing, the API and this CLI may be of different versions (`img-resizer status`).';
  }
}

/** S3's XML error (`<Code>`, `<Message>`) for a refused form upload, as a typed error. */
function s3Refusal(status: number, text: string, upload: PresignedUpload): HttpApiError {
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const said = `S3 refused the upload of ${upload.key} (${status}${code === undefined ? '' : ` ${code}`}${message === undefined ? '' : `: ${message}`})`;
  const common = { status, apiCode: code };
  if (code === 'EntityTooLarge' || code === 'EntityTooSmall') {
    return new HttpApiError('UPLOAD_SIZE_REFUSED', `${said}.`, { ...common, suggestion: 'The file changed size after the API was asked; upload it again.' });
  }
  if (code === 'AccessDenied' && message !== undefined && /expire/i.test(message)) {
    return new HttpApiError('UPLOAD_URL_EXPIRED', `${said}.`, { ...common, suggestion: `The presigned POST expired (after ${upload.upload.expiresInSeconds} s); upload again, with a lower --concurrency on a slow link.` });
  }
  return new HttpApiError('UPLOAD_REFUSED', `${said}.`, { ...common, suggestion: 'Upload it again; `img-resizer status` checks the bucket and the API function\'s role.' });
}
