/** `api url`: where the stack's HTTP API answers (issue 14). */
import { apiInvokeUrl, findHttpApi } from '../aws/apigateway.js';
import { loadStackSettings, type StackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { apiAuth, apiNames } from '../provision/api.js';
import { STACK_TAG } from '../provision/stack.js';

export interface ApiUrlResult {
  exitCode: ExitCode;
  url: string;
  apiId: string;
  auth: 'AWS_IAM' | 'JWT';
  publicReads: boolean;
}

/** `settings`: the stack's, when the caller has read them already (else read from the settings file). */
export async function runApiUrl(context: AppContext, settings?: StackSettings): Promise<ApiUrlResult> {
  settings ??= await loadStackSettings(context.settingsFile);
  if (settings.api !== true) {
    throw new CliError('API_NOT_ENABLED', `The stack ${settings.stackName} has no HTTP API.`, { suggestion: 'Run `img-resizer init --api` to add it.' });
  }
  const clients = await context.clients();
  const api = await findHttpApi(clients.apigateway, apiNames(settings.stackName).apiName, { key: STACK_TAG, value: settings.stackName });
  if (api?.ApiId === undefined) {
    throw new CliError('API_NOT_FOUND', `The HTTP API ${apiNames(settings.stackName).apiName} does not exist.`, {
      suggestion: 'Run `img-resizer init --api` to create it.',
      exitCode: ExitCode.Drift,
    });
  }
  return {
    exitCode: ExitCode.Ok,
    url: apiInvokeUrl({ apiId: api.ApiId, apiEndpoint: api.ApiEndpoint }, clients.target.endpoint),
    apiId: api.ApiId,
    auth: apiAuth(settings).type,
    publicReads: settings.apiPublicReads === true,
  };
}
