// Loaded with `node --import`: records every module specifier the program resolves (its own imports and its
// dependencies' ESM imports, and the first import of each CommonJS package), one resolved URL per line, in the
// file named by IMPORT_LOG, and each HTTP request it starts. Used by test/unit/startup-imports.test.ts.
import { subscribe } from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
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

// And each HTTP request the program starts, as it starts (in the program's own thread, so in order with what it
// does next): "REQUEST-START <method> <host> <path>".
subscribe('http.client.request.start', ({ request }) => {
  appendFileSync(process.env.IMPORT_LOG, `REQUEST-START ${request.method} ${request.host} ${request.path}\n`);
});
