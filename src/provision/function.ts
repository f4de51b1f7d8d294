import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import {
  createFunction,
  getFunction,
  updateFunctionCode,
  updateFunctionConfiguration,
  waitForFunctionActive,
  waitForFunctionUpdated,
  type FunctionSpec,
} from '../aws/lambda.js';
import { FUNCTION_HANDLER, FUNCTION_RUNTIME } from './stack.js';
import { changesPlan, type Plan, type ProvisionContext, type Step } from './types.js';

export interface DesiredFunction extends FunctionSpec {
  /** Base64 SHA-256 of the zip (Lambda's CodeSha256); undefined when code is not compared (status). */
  codeSha256: string | undefined;
}

/** Changes to the code (UpdateFunctionCode) start with this word; the rest are configuration. */
const CODE = 'code';
const ARCHITECTURE = 'architecture';

export function functionDifferences(desired: DesiredFunction, observed: FunctionConfiguration): string[] {
  const changes: string[] = [];
  if (desired.codeSha256 !== undefined && observed.CodeSha256 !== desired.codeSha256) changes.push(`${CODE} changed`);
  const architecture = observed.Architectures?.[0] ?? 'x86_64';
  if (architecture !== desired.architecture) changes.push(`${ARCHITECTURE} ${architecture} → ${desired.architecture}`);
  if (observed.Runtime !== desired.runtime) changes.push(`runtime ${observed.Runtime ?? 'none'} → ${desired.runtime}`);
  if (observed.Handler !== desired.handler) changes.push(`handler ${observed.Handler ?? 'none'} → ${desired.handler}`);
  if (observed.MemorySize !== desired.memory) changes.push(`memory ${observed.MemorySize ?? '?'} → ${desired.memory} MB`);
  if (observed.Timeout !== desired.timeout) changes.push(`timeout ${observed.Timeout ?? '?'} → ${desired.timeout} s`);
  if (observed.Role !== desired.roleArn) changes.push(`role ${observed.Role ?? 'none'} → ${desired.roleArn}`);
  const layers = (observed.Layers ?? []).map((l) => l.Arn ?? '');
  if (!sameList(layers, desired.layers)) changes.push(`layers ${layers.join(', ') || 'none'} → ${desired.layers.join(', ')}`);
  const environment = observed.Environment?.Variables ?? {};
  const names = new Set([...Object.keys(environment), ...Object.keys(desired.environment)]);
  const differing = [...names].filter((name) => environment[name] !== desired.environment[name]).sort();
  if (differing.length > 0) changes.push(`environment ${differing.join(', ')}`);
  return changes;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

export function planFunction(desired: DesiredFunction, observed: FunctionConfiguration | undefined): Plan {
  if (!observed) {
    return {
      action: 'create',
      reason: 'does not exist',
      changes: [`${desired.runtime}, ${desired.architecture}, ${desired.memory} MB, ${desired.timeout} s`],
    };
  }
  const changes = functionDifferences(desired, observed);
  if (observed.State === 'Failed') changes.push(`state Failed (${observed.StateReason ?? 'no reason given'}): redeploy`);
  return changesPlan(changes, desired.codeSha256 === undefined ? 'configured as required' : 'code and configuration current');
}

export function desiredFunction(context: ProvisionContext): DesiredFunction {
  const { stack, outputs, artifacts } = context;
  const { settings } = stack;
  return {
    functionName: settings.functionName,
    roleArn: outputs.roleArn ?? stack.roleArn,
    runtime: FUNCTION_RUNTIME,
    handler: FUNCTION_HANDLER,
    memory: settings.memory,
    timeout: settings.timeout,
    architecture: settings.arch,
    layers: outputs.layerVersionArn ? [outputs.layerVersionArn] : [],
    environment: stack.environment,
    description: `img-resizer stack ${settings.stackName}: resizes images uploaded to ${settings.sourceBucket}`,
    codeSha256: artifacts?.functionZip.codeSha256,
  };
}

export const functionStep: Step<FunctionConfiguration | undefined> = {
  id: 'function',
  resource: 'Function',
  name: (context) => context.stack.settings.functionName,
  observe: (context) => getFunction(context.clients.lambda, context.stack.settings.functionName),
  plan: (context, observed) => planFunction(desiredFunction(context), observed),
  async apply(context, observed, plan, progress) {
    const { lambda } = context.clients;
    const desired = desiredFunction(context);
    const zip = context.artifacts?.functionZip.bytes;
    if (!zip) throw new Error('the function step needs the built function zip');
    const name = desired.functionName;
    if (plan.action === 'create') {
      progress('creating');
      const created = await createFunction(lambda, desired, zip, context.stack.tags, context.propagationRetry, (attempt) => {
        progress(`waiting for the new role to reach Lambda (attempt ${attempt})`);
      });
      context.outputs.functionArn = created.FunctionArn;
      progress('waiting until Active');
      await waitForFunctionActive(lambda, name);
      return;
    }
    // Lambda refuses a change while the previous one is still in progress (say, from an interrupted run).
    // A Pending function is still being created: that is the Active waiter's business, not the Updated one's.
    if (observed?.State === 'Pending') await waitForFunctionActive(lambda, name);
    if (observed?.LastUpdateStatus === 'InProgress') await waitForFunctionUpdated(lambda, name);
    const codeChanged = plan.changes.some((c) => c.startsWith(CODE) || c.startsWith(ARCHITECTURE) || c.startsWith('state Failed'));
    const configChanged = plan.changes.some((c) => !c.startsWith(CODE) && !c.startsWith(ARCHITECTURE));
    if (codeChanged) {
      progress('updating code');
      await updateFunctionCode(lambda, name, zip, desired.architecture);
      await waitForFunctionUpdated(lambda, name);
    }
    if (configChanged) {
      progress('updating configuration');
      await updateFunctionConfiguration(lambda, desired);
      await waitForFunctionUpdated(lambda, name);
    }
  },
  settle(context, observed, _plan, applied) {
    context.outputs.functionArn ??= observed?.FunctionArn ?? context.stack.functionArn;
    context.outputs.functionExists = applied || observed !== undefined;
  },
};
