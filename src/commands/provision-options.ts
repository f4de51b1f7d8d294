/**
 * Reads commander's parsed option values (an untyped record) into typed fields, checking each at runtime
 * rather than casting: a value of the wrong type is a bug in the command's declaration, reported as usage.
 */
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../errors.js';

export type RawOptions = Readonly<Record<string, unknown>>;

export function optionalString(raw: RawOptions, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined || typeof value === 'string') return value;
  throw new UsageError(`--${kebab(key)} takes text.`);
}

export function optionalNumber(raw: RawOptions, key: string): number | undefined {
  const value = raw[key];
  if (value === undefined || typeof value === 'number') return value;
  throw new UsageError(`--${kebab(key)} takes a number.`);
}

/** A --X / --no-X pair: undefined when neither was given. */
export function optionalBoolean(raw: RawOptions, key: string): boolean | undefined {
  const value = raw[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new UsageError(`--${kebab(key)} takes no value.`);
}

/** Commander's parser for a whole number from 0 to `max`. */
export function parseWholeNumber(name: string, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) > max) throw new InvalidArgumentError(`${name} must be a whole number from 0 to ${max}.`);
    return Number(value);
  };
}

export function flag(raw: RawOptions, key: string): boolean {
  return raw[key] === true;
}

export function optionalChoice<T extends string>(raw: RawOptions, key: string, choices: readonly T[]): T | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  const match = choices.find((choice) => choice === value);
  if (match === undefined) throw new UsageError(`--${kebab(key)} must be one of ${choices.join(', ')}.`);
  return match;
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
