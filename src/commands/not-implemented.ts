import { CliError } from '../errors.js';

export function notImplemented(name: string): never {
  throw new CliError('NOT_IMPLEMENTED', `\`${name}\` is not implemented yet.`);
}
