import { Command } from 'commander';
import type { AppContext } from '../context.js';
import type { ApiUrlResult } from '../operations/api.js';
import { commandAction } from './shared.js';

/** Looks the API up and prints its URL. */
export async function executeApiUrl(context: AppContext): Promise<ApiUrlResult> {
  const [{ runApiUrl }, { renderApiUrl }] = await Promise.all([import('../operations/api.js'), import('../ui/api.js')]);
  const result = await runApiUrl(context);
  renderApiUrl(context.output, result);
  return result;
}

export function apiCommand(): Command {
  const api = new Command('api').description('the stack\'s HTTP API (init --api): its URL');
  api
    .command('url')
    .description('print the URL clients call (POST /uploads, GET /images/{key})')
    .action(commandAction((context) => executeApiUrl(context)));
  return api;
}
