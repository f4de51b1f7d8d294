// Loaded with `node --import`: records every module specifier the program resolves (its own imports and its
// dependencies' ESM imports, and the first import of each CommonJS package), one resolved URL per line, in the
// file named by IMPORT_LOG. Used by test/unit/startup-imports.test.ts.
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(log, resolved.url + '\\n');
  return resolved;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { log: process.env.IMPORT_LOG } });
