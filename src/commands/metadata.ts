import { Command } from 'commander';
import type { AppContext } from '../context.js';
import { notImplemented } from './not-implemented.js';
import { action } from './shared.js';

export function metadataCommand(): Command {
  return new Command('metadata').description('metadata (not implemented yet)').allowUnknownOption().allowExcessArguments().action(
    action((_context: AppContext) => notImplemented('metadata')),
  );
}
