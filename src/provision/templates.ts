import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';

/** A JSON value as templates hold it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type TemplateValue = Json | undefined;

/** The package's templates/ directory (it ships in the npm package next to dist/). */
export function templatesDir(): string {
  return path.join(packageRoot(), 'templates');
}

const cache = new Map<string, Json>();

export function loadTemplate(name: string): Json {
  let template = cache.get(name);
  if (template === undefined) {
    template = JSON.parse(readFileSync(path.join(templatesDir(), name), 'utf8')) as Json;
    cache.set(name, template);
  }
  return template;
}

const WHOLE = /^\$\{(\w+)\}$/;
const INNER = /\$\{(\w+)\}/g;

/**
 * Renders a JSON template. A string that is exactly `${name}` becomes the variable's value of any JSON type
 * (an undefined value removes the property or array element); `${name}` inside a longer string is
 * interpolated. Working on the parsed document means no value can break the JSON around it.
 */
export function renderTemplate(template: Json, vars: Readonly<Record<string, TemplateValue>>): Json {
  const rendered = renderValue(template, vars);
  if (rendered === undefined) throw new Error('template rendered to nothing');
  return rendered;
}

function renderValue(value: Json, vars: Readonly<Record<string, TemplateValue>>): TemplateValue {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(vars, whole[1] ?? '');
    return value.replace(INNER, (_match, name: string) => {
      const v = lookup(vars, name);
      if (v === undefined || (typeof v === 'object' && v !== null)) {
        throw new Error(`template variable \${${name}} must be a scalar inside a string`);
      }
      return String(v);
    });
  }
  if (Array.isArray(value)) {
    return value.map((item) => renderValue(item, vars)).filter((item): item is Json => item !== undefined);
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) {
      const rendered = renderValue(item, vars);
      if (rendered !== undefined) out[key] = rendered;
    }
    return out;
  }
  return value;
}

function lookup(vars: Readonly<Record<string, TemplateValue>>, name: string): TemplateValue {
  if (!Object.hasOwn(vars, name)) throw new Error(`template variable \${${name}} has no value`);
  return vars[name];
}
