import { readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SIZE_SPEC } from '../../lambda-src/core/sizes.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { DEFAULT_MEMORY_MB, DEFAULT_SETTINGS_FILE, DEFAULT_STACK_NAME, DEFAULT_TIMEOUT_S, derivedNames, type StackSettings } from './stack-settings.js';

/** Reading and writing the settings file. */

export function settingsPath(configFlag: string | undefined, cwd = process.cwd()): string {
  return path.resolve(cwd, configFlag ?? DEFAULT_SETTINGS_FILE);
}

export async function readSettingsFile(file: string): Promise<Partial<StackSettings> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('not a JSON object');
    }
    return parsed;
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`, 'Fix or delete the file, then run `img-resizer init` again.');
  }
}

/** Settings of an initialised stack; a clear error when `init` has not run. */
export async function loadStackSettings(file: string): Promise<StackSettings> {
  const settings = await readSettingsFile(file);
  if (!settings) {
    throw new CliError('NOT_INITIALISED', `No settings file at ${file}.`, {
      exitCode: ExitCode.Usage,
      suggestion: 'Run `img-resizer init` first (add --local for the local stack), or point --config at the file.',
    });
  }
  const required = ['sourceBucket', 'destBucket', 'table', 'functionName'] as const;
  for (const key of required) {
    if (typeof settings[key] !== 'string' || settings[key] === '') {
      throw new UsageError(`${file} lacks "${key}".`, 'Run `img-resizer init` to rewrite it.');
    }
  }
  // Files written before a field existed get its default, derived from the stack name like init does.
  const stackName = settings.stackName ?? DEFAULT_STACK_NAME;
  return {
    ...derivedNames(stackName),
    sizes: DEFAULT_SIZE_SPEC,
    format: 'png',
    fit: 'cover',
    arch: 'x86_64',
    memory: DEFAULT_MEMORY_MB,
    timeout: DEFAULT_TIMEOUT_S,
    ...settings,
    stackName,
  } as StackSettings;
}

/** Written atomically so an interrupted write never leaves half a file. */
export async function writeSettingsFile(file: string, settings: StackSettings): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(settings, null, 2)}\n`, 'utf8');
  await rename(temporary, file);
}
