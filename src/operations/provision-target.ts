import type { StackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { UsageError } from '../errors.js';

/**
 * The region the clients talk to; the settings file records it and later commands must match it. Read from the
 * STS client, which every command has already built to say who it is (S3's is heavier to load).
 */
export async function targetRegion(context: AppContext): Promise<string> {
  const clients = await context.clients();
  return clients.sts.config.region();
}

export function checkRegion(settings: Partial<StackSettings>, region: string, file: string): void {
  if (settings.region !== undefined && settings.region !== region) {
    throw new UsageError(
      `The stack in ${file} lives in ${settings.region}, but this command targets ${region}.`,
      `Add --region ${settings.region} (or set AWS_REGION), or use another --config for a stack in ${region}.`,
    );
  }
}
