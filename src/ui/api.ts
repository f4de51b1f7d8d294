import type { ApiUrlResult } from '../operations/api.js';
import type { Output } from './output.js';

/** `api url`: the URL alone on stdout, so `API=$(img-resizer api url)` works; --json adds auth. */
export function renderApiUrl(output: Output, result: ApiUrlResult): void {
  if (output.json) {
    output.result({ url: result.url, apiId: result.apiId, auth: result.auth, publicReads: result.publicReads });
    return;
  }
  output.line(result.url);
}
