/**
 * Where the CDN answers, on AWS and on the local stack, and the one place that knows how to reach the local one.
 *
 * MiniStack serves a distribution to requests whose Host is `<label>.cloudfront.localhost:<port>` (the label is
 * the first part of its `dxxxx.cloudfront.net` domain name). `*.localhost` resolves to loopback in Chromium and
 * curl, but not necessarily in Node's resolver, and the emulator speaks plain HTTP while the distribution
 * redirects HTTP to HTTPS. So requests from this CLI go to the endpoint's own address with that Host and
 * `X-Forwarded-Proto: https` (what a TLS-terminating proxy in front would send); browsers in the tests send the
 * same header (LOCAL_CDN_HEADERS).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AwsTarget } from '../aws/target.js';

/** Headers a request to the local distribution carries so its HTTPS redirect does not apply. */
export const LOCAL_CDN_HEADERS: Readonly<Record<string, string>> = { 'X-Forwarded-Proto': 'https' };

/** The local form of a distribution's address, or undefined on AWS. */
export function localCdnBaseUrl(target: Pick<AwsTarget, 'endpoint' | 'kind'>, domainName: string): string | undefined {
  if (target.kind === 'aws' || target.endpoint === undefined) return undefined;
  const endpoint = new URL(target.endpoint);
  const label = domainName.split('.')[0] ?? domainName;
  return `${endpoint.protocol}//${label}.cloudfront.localhost:${endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80')}`;
}

export interface CdnResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A GET or HEAD of a CDN URL (no redirects followed). On the local stack the request goes to loopback with the
 * distribution's Host: node:http rather than fetch(), because fetch() replaces a Host header with the URL's.
 */
export function fetchThroughCdn(url: string, method: 'GET' | 'HEAD' = 'GET'): Promise<CdnResponse> {
  const parsed = new URL(url);
  const local = parsed.hostname.endsWith('.cloudfront.localhost');
  const send = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      {
        host: local ? '127.0.0.1' : parsed.hostname,
        port: parsed.port || (parsed.protocol === 'https:' ? 443 : 80),
        path: `${parsed.pathname}${parsed.search}`,
        method,
        headers: { host: parsed.host, ...(local ? LOCAL_CDN_HEADERS : {}) },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${parsed.host} within 30 s`)));
    request.on('error', reject);
    request.end();
  });
}
