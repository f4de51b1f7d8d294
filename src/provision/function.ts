import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import {
  createFunction,
  deleteFunction,
  getFunction,
  updateFunctionCode,
  updateFunctionConfiguration,
  waitForFunctionActive,
  waitForFunctionUpdated,
  type FunctionSpec,
} from '../aws/lambda.js';
import { FUNCTION_ENV } from '../../lambda-src/core/settings.js';
import { stackRuntime } from '../config/settings.js';
import { FUNCTION_HANDLER } from './stack.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';

export interface DesiredFunction extends FunctionSpec {
  /** Base64 SHA-256 of the zip (Lambda's CodeSha256); undefined when code is not compared (status). */
  codeSha256: string | undefined;
}

/** One configuration field that differs, with its old and new value. */
export type FunctionConfigChange =
  | { field: 'runtime' | 'handler' | 'role'; from: string | undefined; to: string }
  | { field: 'memory' | 'timeout'; from: number | undefined; to: number }
  | { field: 'layers'; from: string[]; to: string[] }
  /** Log format and group, as "JSON /aws/lambda/name". */
  | { field: 'logging'; from: string; to: string }
  | { field: 'environment'; variables: { name: string; from: string | undefined; to: string | undefined }[] };

export type FunctionOp =
  | { kind: 'create-function'; runtime: string; architecture: string; memory: number; timeout: number }
  | { kind: 'update-code'; from: string | undefined; to: string }
  /** Lambda sets the architecture with the code (UpdateFunctionCode). */
  | { kind: 'change-architecture'; from: string; to: string }
  | { kind: 'update-config'; changes: FunctionConfigChange[] }
  /** A function left Failed (say, by a bad package) gets its code and configuration again. */
  | { kind: 'redeploy-failed'; stateReason: string };

export interface FunctionRemovalOp { kind: 'delete-function' }

export function functionDifferences(desired: DesiredFunction, observed: FunctionConfiguration): FunctionOp[] {
  const ops: FunctionOp[] = [];
  if (desired.codeSha256 !== undefined && observed.CodeSha256 !== desired.codeSha256) ops.push({ kind: 'update-code', from: observed.CodeSha256, to: desired.codeSha256 });
  const architecture = observed.Architectures?.[0] ?? 'x86_64';
  if (architecture !== desired.architecture) ops.push({ kind: 'change-architecture', from: architecture, to: desired.architecture });
  const changes: FunctionConfigChange[] = [];
  if (observed.Runtime !== desired.runtime) changes.push({ field: 'runtime', from: observed.Runtime, to: desired.runtime });
  if (observed.Handler !== desired.handler) changes.push({ field: 'handler', from: observed.Handler, to: desired.handler });
  if (observed.MemorySize !== desired.memory) changes.push({ field: 'memory', from: observed.MemorySize, to: desired.memory });
  if (observed.Timeout !== desired.timeout) changes.push({ field: 'timeout', from: observed.Timeout, to: desired.timeout });
  if (observed.Role !== desired.roleArn) changes.push({ field: 'role', from: observed.Role, to: desired.roleArn });
  const layers = (observed.Layers ?? []).map((l) => l.Arn ?? '');
  if (!sameList(layers, desired.layers)) changes.push({ field: 'layers', from: layers, to: [...desired.layers] });
  if (desired.logGroup !== undefined) {
    const logging = `${observed.LoggingConfig?.LogFormat ?? 'Text'} ${observed.LoggingConfig?.LogGroup ?? `/aws/lambda/${desired.functionName}`}`;
    const wanted = `JSON ${desired.logGroup}`;
    if (logging !== wanted) changes.push({ field: 'logging', from: logging, to: wanted });
  }
  const environment = observed.Environment?.Variables ?? {};
  const names = new Set([...Object.keys(environment), ...Object.keys(desired.environment)]);
  const variables = [...names]
    .filter((name) => environment[name] !== desired.environment[name])
    .sort()
    .map((name) => ({ name, from: environment[name], to: desired.environment[name] }));
  if (variables.length > 0) changes.push({ field: 'environment', variables });
  if (changes.length > 0) ops.push({ kind: 'update-config', changes });
  return ops;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}

export function planFunction(desired: DesiredFunction, observed: FunctionConfiguration | undefined): Plan<FunctionOp> {
  if (!observed) {
    return {
      action: 'create',
      reason: 'does not exist',
      ops: [{ kind: 'create-function', runtime: desired.runtime, architecture: desired.architecture, memory: desired.memory, timeout: desired.timeout }],
    };
  }
  const ops = functionDifferences(desired, observed);
  if (observed.State === 'Failed') ops.push({ kind: 'redeploy-failed', stateReason: observed.StateReason ?? 'no reason given' });
  return opsPlan(ops, desired.codeSha256 === undefined ? 'configured as required' : 'code and configuration current');
}

/** The function as the settings describe it, wired to what the role and layer steps returned. */
export function desiredFunction(context: ProvisionContext, inputs: Readonly<StackOutputs>): DesiredFunction {
  const { stack, artifacts } = context;
  const { settings } = stack;
  return {
    functionName: settings.functionName,
    roleArn: inputs.roleArn ?? stack.roleArn,
    runtime: stackRuntime(settings),
    handler: FUNCTION_HANDLER,
    memory: settings.memory,
    timeout: settings.timeout,
    architecture: settings.arch,
    layers: inputs.layerVersionArn ? [inputs.layerVersionArn] : [],
    // The CDN's address is known once its step ran (a new distribution gets its domain name from CloudFront).
    environment: inputs.cdnBaseUrl === undefined ? stack.environment : { ...stack.environment, [FUNCTION_ENV.cdnBaseUrl]: inputs.cdnBaseUrl },
    description: `img-resizer stack ${settings.stackName}: resizes images uploaded to ${settings.sourceBucket}`,
    codeSha256: artifacts?.functionZip.codeSha256,
    logGroup: stack.logGroupName,
  };
}

/**
 * What tells one function from another: its name, its desired configuration (handler, role, environment ...) and
 * what later steps learn from it. The resize function and the API function are both this step over their own.
 */
export interface FunctionStepSpec {
  id: string;
  resource: string;
  functionName: (context: ProvisionContext) => string;
  desired: (context: ProvisionContext, inputs: Readonly<StackOutputs>) => DesiredFunction;
  /** What later steps learn: its ARN (the one it will have, before it exists) and whether it exists. */
  outputs: (functionArn: string, exists: boolean) => StackOutputs;
  expectedArn: (context: ProvisionContext) => string;
}

/** A function from the built zip: created, or its code and configuration brought back to the desired ones. */
export function lambdaFunctionStep(spec: FunctionStepSpec): Step<FunctionConfiguration | undefined, FunctionOp> {
  return {
    id: spec.id,
    resource: spec.resource,
    name: spec.functionName,
    observe: (context) => getFunction(context.clients.lambda, spec.functionName(context)),
    plan: (context, observed, inputs) => planFunction(spec.desired(context, inputs), observed),
    async apply(context, observed, plan, inputs, progress) {
      const { lambda } = context.clients;
      const desired = spec.desired(context, inputs);
      const zip = context.artifacts?.functionZip.bytes;
      if (!zip) throw new Error(`the ${spec.id} step needs the built function zip`);
      const name = desired.functionName;
      if (plan.ops.some((op) => op.kind === 'create-function')) {
        progress('creating');
        const created = await createFunction(lambda, desired, zip, context.stack.tags, context.propagationRetry, (attempt) => {
          progress(`waiting for the new role to reach Lambda (attempt ${attempt})`);
        });
        progress('waiting until Active');
        await waitForFunctionActive(lambda, name);
        return { outputs: spec.outputs(created.FunctionArn ?? spec.expectedArn(context), true) };
      }
      // Lambda refuses a change while the previous one is still in progress (say, from an interrupted run).
      // A Pending function is still being created: that is the Active waiter's business, not the Updated one's.
      if (observed?.State === 'Pending') await waitForFunctionActive(lambda, name);
      if (observed?.LastUpdateStatus === 'InProgress') await waitForFunctionUpdated(lambda, name);
      const kinds = new Set(plan.ops.map((op) => op.kind));
      if (kinds.has('update-code') || kinds.has('change-architecture') || kinds.has('redeploy-failed')) {
        progress('updating code');
        await updateFunctionCode(lambda, name, zip, desired.architecture);
        await waitForFunctionUpdated(lambda, name);
      }
      if (kinds.has('update-config') || kinds.has('redeploy-failed')) {
        progress('updating configuration');
        await updateFunctionConfiguration(lambda, desired);
        await waitForFunctionUpdated(lambda, name);
      }
      return undefined;
    },
    // In a dry run a function planned for creation does not exist yet: nothing to look up behind it.
    outputs: (context, observed) => spec.outputs(observed?.FunctionArn ?? spec.expectedArn(context), observed !== undefined),
  };
}

export function lambdaFunctionRemovalStep(spec: Pick<FunctionStepSpec, 'id' | 'resource' | 'functionName'>): Step<FunctionConfiguration | undefined, FunctionRemovalOp> {
  return {
    id: spec.id,
    resource: spec.resource,
    name: spec.functionName,
    observe: (context) => getFunction(context.clients.lambda, spec.functionName(context)),
    plan: (_context, observed): Plan<FunctionRemovalOp> =>
      observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-function' }] } : noop('already gone'),
    async apply(context) {
      await deleteFunction(context.clients.lambda, spec.functionName(context));
      return undefined;
    },
  };
}

const resizeFunctionSpec: FunctionStepSpec = {
  id: 'function',
  resource: 'Function',
  functionName: (context) => context.stack.settings.functionName,
  desired: desiredFunction,
  outputs: (functionArn, functionExists) => ({ functionArn, functionExists }),
  expectedArn: (context) => context.stack.functionArn,
};

export const functionStep = lambdaFunctionStep(resizeFunctionSpec);
export const functionRemovalStep = lambdaFunctionRemovalStep(resizeFunctionSpec);
