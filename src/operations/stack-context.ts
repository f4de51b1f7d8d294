import type { AwsClients } from '../aws/clients.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { stackModel, type StackModel } from '../provision/stack.js';
import { checkRegion, targetRegion } from './provision-target.js';

/** The deployed stack a command works on: its settings file, names and ARNs, and the clients. */
export async function loadStack(context: AppContext): Promise<{ stack: StackModel; clients: AwsClients }> {
  const settings = await loadStackSettings(context.settingsFile);
  const clients = await context.clients();
  const identity = await context.identity();
  const region = await targetRegion(context);
  checkRegion(settings, region, context.settingsFile);
  return { stack: stackModel(settings, identity, region), clients };
}
