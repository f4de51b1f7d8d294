// Runs a command with the official Node.js of a major first on PATH, installed into the user's cache
// directory by the project's own installer (src/local/node-runtime.ts: the npm registry's node-linux-*
// packages, pinned per major). CI uses it to run the tests and the CLI on the newest LTS while this script
// itself, and the machine, stay on their own Node (20.9+).
// Usage: npm run with-node -- 24 -- npm run test:unit
import { spawn } from 'node:child_process';
import { installNodeRuntime, pathWithFirst, type NodeRuntimeInstall } from '../src/local/node-runtime.js';
import { CliError, errorMessage } from '../src/errors.js';

function fail(message: string, exitCode: number): never {
  process.stderr.write(`with-node: ${message}\n`);
  process.exit(exitCode);
}

const [majorArg, separator, command, ...args] = process.argv.slice(2);
const major = Number(majorArg);
if (!Number.isInteger(major) || separator !== '--' || command === undefined) {
  fail('usage: npm run with-node -- <major> -- <command> [args...]', 2);
}
let install: NodeRuntimeInstall;
try {
  install = await installNodeRuntime(major);
} catch (error) {
  const suggestion = error instanceof CliError && error.suggestion ? `\n${error.suggestion}` : '';
  fail(`${errorMessage(error)}${suggestion}`, 1);
}
process.stderr.write(`with-node: Node.js v${install.version} first on PATH (${install.binDir})${install.installed ? ', installed now' : ''}\n`);
const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, PATH: pathWithFirst(install.binDir) } });
child.on('error', (error) => { fail(`cannot run ${command}: ${error.message}`, 127); });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => { process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)); });
