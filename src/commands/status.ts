import { Command } from 'commander';
import type { AppContext } from '../context.js';
import { notImplemented } from './not-implemented.js';
import { action } from './shared.js';

export function statusCommand(): Command {
  return new Command('status').description('status (not implemented yet)').allowUnknownOption().allowExcessArguments().action(
    action((_context: AppContext) => notImplemented('status')),
  );
}
