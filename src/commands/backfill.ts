import { Command } from 'commander';
import type { AppContext } from '../context.js';
import { notImplemented } from './not-implemented.js';
import { action } from './shared.js';

export function backfillCommand(): Command {
  return new Command('backfill').description('backfill (not implemented yet)').allowUnknownOption().allowExcessArguments().action(
    action((_context: AppContext) => notImplemented('backfill')),
  );
}
