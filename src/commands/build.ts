import { Command } from 'commander';
import type { AppContext } from '../context.js';
import { notImplemented } from './not-implemented.js';
import { action } from './shared.js';

export function buildCommand(): Command {
  return new Command('build').description('build (not implemented yet)').allowUnknownOption().allowExcessArguments().action(
    action((_context: AppContext) => notImplemented('build')),
  );
}
