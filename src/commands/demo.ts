import { Command } from 'commander';
import type { AppContext } from '../context.js';
import { notImplemented } from './not-implemented.js';
import { action } from './shared.js';

export function demoCommand(): Command {
  return new Command('demo').description('demo (not implemented yet)').allowUnknownOption().allowExcessArguments().action(
    action((_context: AppContext) => notImplemented('demo')),
  );
}
