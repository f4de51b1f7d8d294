import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bundleFunction } from '../../src/artifact/function-bundle.js';
import { initOptionsFrom } from '../../src/commands/init.js';
import {
  loadStackSettings,
  PRE_SETTING_RUNTIME,
  resolveInitSettings,
  resolveRuntime,
  stackRuntime,
  validateSettings,
  type StackSettings,
} from '../../src/config/settings.js';
import { CliError, UsageError } from '../../src/errors.js';
import { stackTemplate } from '../../src/export/template.js';
import { functionNodeProblem } from '../../src/local/ministack.js';
import { defaultBuildRuntime } from '../../src/operations/build.js';
import { functionRuntimeWarnings, type StatusResult } from '../../src/operations/status.js';
import { desiredApiFunction } from '../../src/provision/api.js';
import { desiredFunction, planFunction, type DesiredFunction } from '../../src/provision/function.js';
import { planLayer } from '../../src/provision/layer.js';
import type { RunStepResult } from '../../src/provision/runner.js';
import { stackModel } from '../../src/provision/stack.js';
import type { ProvisionContext } from '../../src/provision/types.js';
import { defaultRuntime, runtimeInfo, supportedRuntimes } from '../../src/runtimes.js';
import { Output } from '../../src/ui/output.js';
import { describeOp, renderStatus } from '../../src/ui/provision.js';
import { DEFAULT_SETTINGS } from '../helpers/export-settings.js';

const located = () => Promise.resolve({ account: '123456789012', region: 'eu-west-1' });
const IDENTITY = { account: '123456789012', arn: 'arn:aws:iam::123456789012:user/op', partition: 'aws' };

describe('the runtime setting', () => {
  it('takes --runtime over IMG_RESIZER_RUNTIME over the settings file', () => {
    const file = { functionName: 'f', runtime: 'nodejs22.x' as const };
    expect(resolveRuntime('nodejs24.x', { IMG_RESIZER_RUNTIME: 'nodejs22.x' }, file)).toEqual({ runtime: 'nodejs24.x', source: 'flag' });
    expect(resolveRuntime(undefined, { IMG_RESIZER_RUNTIME: 'nodejs24.x' }, file)).toEqual({ runtime: 'nodejs24.x', source: 'env' });
    expect(resolveRuntime(undefined, { IMG_RESIZER_RUNTIME: '' }, file)).toEqual({ runtime: 'nodejs22.x', source: 'file' });
  });

  it('gives a new stack the newest runtime the pipeline supports, and keeps an older settings file on the runtime it was deployed with', () => {
    expect(resolveRuntime(undefined, {}, undefined)).toEqual({ runtime: defaultRuntime(), source: 'default' });
    expect(defaultRuntime()).toBe('nodejs24.x');
    // A file written before the setting existed: its stack runs nodejs22.x, and the next init must not switch it.
    expect(resolveRuntime(undefined, {}, { stackName: 'old', functionName: 'old-resize' })).toEqual({ runtime: PRE_SETTING_RUNTIME, source: 'file' });
    expect(PRE_SETTING_RUNTIME).toBe('nodejs22.x');
    expect(stackRuntime({})).toBe('nodejs22.x');
    expect(stackRuntime({ runtime: 'nodejs24.x' })).toBe('nodejs24.x');
  });

  it('refuses a runtime img-resizer does not deploy, from the environment, the file or the command line, before any AWS call', async () => {
    expect(() => resolveRuntime(undefined, { IMG_RESIZER_RUNTIME: 'nodejs20.x' }, undefined)).toThrow(UsageError);
    expect(() => resolveRuntime(undefined, { IMG_RESIZER_RUNTIME: 'nodejs20.x' }, undefined)).toThrow(/IMG_RESIZER_RUNTIME: runtime must be one of nodejs22\.x, nodejs24\.x/);
    const badFile = { functionName: 'f', runtime: 'python3.13' } as unknown as Partial<StackSettings>;
    expect(() => resolveRuntime(undefined, {}, badFile)).toThrow(/"runtime" \("python3\.13"\) is not one img-resizer deploys/);
    let located_ = false;
    await expect(
      resolveInitSettings({ flags: {}, env: { IMG_RESIZER_RUNTIME: 'nodejs18.x' }, file: undefined, locate: () => { located_ = true; return located(); } }),
    ).rejects.toThrow(UsageError);
    expect(located_).toBe(false);
    expect(() => { validateSettings({ ...DEFAULT_SETTINGS, runtime: 'nodejs20.x' as never }); }).toThrow(/Runtime "nodejs20\.x" is not one img-resizer deploys/);
    expect(() => initOptionsFrom({ runtime: 'nodejs20.x' })).toThrow(CliError);
    expect(initOptionsFrom({ runtime: 'nodejs22.x' }).runtime).toBe('nodejs22.x');
    expect(initOptionsFrom({}).runtime).toBeUndefined();
  });

  it('is resolved and recorded by init, with where it came from', async () => {
    const fresh = await resolveInitSettings({ flags: {}, env: {}, file: undefined, locate: located });
    expect(fresh.settings.runtime).toBe('nodejs24.x');
    expect(fresh.sources.runtime).toBe('default');
    const flagged = await resolveInitSettings({ flags: { runtime: 'nodejs22.x' }, env: {}, file: undefined, locate: located });
    expect(flagged.settings.runtime).toBe('nodejs22.x');
    expect(flagged.sources.runtime).toBe('flag');
    const older = await resolveInitSettings({ flags: {}, env: {}, file: { ...DEFAULT_SETTINGS, region: 'eu-west-1' }, locate: located });
    expect(older.settings.runtime).toBe('nodejs22.x');
  });

  it('reads an older settings file as the runtime its stack was deployed with', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'img-resizer-runtime-'));
    const file = path.join(dir, 'img-resizer.config.json');
    await writeFile(file, JSON.stringify(DEFAULT_SETTINGS));
    expect(stackRuntime(await loadStackSettings(file))).toBe('nodejs22.x');
    await expect(defaultBuildRuntime(file)).resolves.toBe('nodejs22.x');
    await writeFile(file, JSON.stringify({ ...DEFAULT_SETTINGS, runtime: 'nodejs24.x' }));
    expect(stackRuntime(await loadStackSettings(file))).toBe('nodejs24.x');
    await expect(defaultBuildRuntime(file)).resolves.toBe('nodejs24.x');
    await expect(defaultBuildRuntime(path.join(dir, 'none.json'))).resolves.toBe(defaultRuntime());
  });
});

describe('the runtime in the plan', () => {
  const settings: StackSettings = { ...DEFAULT_SETTINGS, runtime: 'nodejs24.x', api: true };
  const context: ProvisionContext = { clients: undefined as never, stack: stackModel(settings, IDENTITY, 'us-east-1'), artifacts: undefined };

  it('deploys the resize function and the API function on the setting', () => {
    expect(desiredFunction(context, {}).runtime).toBe('nodejs24.x');
    expect(desiredApiFunction(context, {}).runtime).toBe('nodejs24.x');
    const older: ProvisionContext = { ...context, stack: stackModel(DEFAULT_SETTINGS, IDENTITY, 'us-east-1') };
    expect(desiredFunction(older, {}).runtime).toBe('nodejs22.x');
  });

  it('shows a function on another runtime as a configuration change, old → new', () => {
    const desired: DesiredFunction = { ...desiredFunction(context, {}), codeSha256: 'abc=' };
    const deployed: FunctionConfiguration = {
      FunctionName: desired.functionName,
      Role: desired.roleArn,
      Runtime: 'nodejs22.x',
      Handler: desired.handler,
      MemorySize: desired.memory,
      Timeout: desired.timeout,
      Architectures: [desired.architecture],
      Layers: [],
      Environment: { Variables: { ...desired.environment } },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: desired.logGroup },
      CodeSha256: 'abc=',
      State: 'Active',
    };
    expect(planFunction(desired, { ...deployed, Runtime: 'nodejs24.x' }).action).toBe('no-op');
    const plan = planFunction(desired, deployed);
    expect(plan.action).toBe('update');
    expect(plan.ops).toEqual([{ kind: 'update-config', changes: [{ field: 'runtime', from: 'nodejs22.x', to: 'nodejs24.x' }] }]);
    expect(plan.ops.flatMap((op) => describeOp(op))).toEqual(['runtime nodejs22.x → nodejs24.x']);
    expect(planFunction(desired, undefined).ops).toEqual([expect.objectContaining({ kind: 'create-function', runtime: 'nodejs24.x' })]);
  });

  it('publishes a layer version when the latest is for another runtime, and says which', () => {
    const hash = 'a'.repeat(64);
    const latest = { Version: 3, Description: `sharp 0.35.5 linux-x64 glibc sha256:${hash}`, CompatibleArchitectures: ['x86_64' as const], CompatibleRuntimes: ['nodejs22.x' as const] };
    expect(planLayer({ sha256: hash, architecture: 'x86_64', runtime: 'nodejs22.x' }, { versions: [latest] }).action).toBe('no-op');
    expect(planLayer({ sha256: hash, architecture: 'x86_64', runtime: 'nodejs24.x' }, { versions: [latest] })).toEqual({
      action: 'update',
      reason: 'version 3 is for nodejs22.x, not nodejs24.x',
      ops: [{ kind: 'publish-layer-version', version: 4 }],
    });
    // status compares no bytes, but the runtime still counts.
    expect(planLayer({ sha256: undefined, architecture: 'x86_64', runtime: 'nodejs24.x' }, { versions: [latest] }).action).toBe('update');
  });

  it('puts the runtime into the exported template (function and layer)', () => {
    for (const format of ['cloudformation', 'sam'] as const) {
      const template = stackTemplate({
        settings,
        format,
        functionCode: { kind: 'local', file: 'function.zip' },
        layerContent: { kind: 'local', file: 'sharp-layer-x86_64.zip' },
        layerDescription: 'sharp 0.35.5 linux-x64 glibc sha256:00',
      }) as unknown as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
      const resources = Object.values(template.Resources);
      const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' || r.Type === 'AWS::Serverless::Function');
      const layer = resources.find((r) => r.Type.endsWith('LayerVersion'));
      expect(fn?.Properties.Runtime, format).toBe('nodejs24.x');
      expect(layer?.Properties.CompatibleRuntimes, format).toEqual(['nodejs24.x']);
    }
  });
});

describe('the bundle', () => {
  it("targets the runtime's Node major (esbuild's target), the default runtime's when none is given", async () => {
    for (const runtime of supportedRuntimes()) {
      expect((await bundleFunction({ runtime: runtime.id })).target).toBe(`node${runtime.nodeMajor}`);
    }
    expect((await bundleFunction()).target).toBe(runtimeInfo(defaultRuntime()).esbuildTarget);
  });
});

describe("the local stack's Node", () => {
  it('is fine when it runs the runtime\'s major, and says to restart it otherwise (with the port when not the default)', () => {
    expect(functionNodeProblem({ running: true, port: 4566, functionNodeVersion: 'v24.21.0' }, 'nodejs24.x')).toBeUndefined();
    expect(functionNodeProblem({ running: false, port: 4566, functionNodeVersion: undefined }, 'nodejs24.x')).toBeUndefined();
    expect(functionNodeProblem({ running: true, port: 4566, functionNodeVersion: 'v22.23.3' }, 'nodejs24.x')).toBe(
      'The local stack on port 4566 runs functions on Node.js v22.23.3, but nodejs24.x needs Node.js 24: ' +
        'restart it (`img-resizer local stop && img-resizer local start`) so they run on Node.js 24. Its state is kept.',
    );
    // v2 is not v22: the major is compared whole.
    expect(functionNodeProblem({ running: true, port: 4570, functionNodeVersion: 'v2.0.0' }, 'nodejs22.x')).toContain('local stop --port 4570 && img-resizer local start --port 4570');
    expect(functionNodeProblem({ running: true, port: 4566, functionNodeVersion: undefined }, 'nodejs22.x')).toContain("the machine's own node");
  });
});

describe('status and the runtime of the deployed functions', () => {
  const observed = (id: string, name: string, runtime: string): RunStepResult => ({
    id, resource: 'Function', name, action: 'no-op', reason: '', ops: [], changes: [], status: 'unchanged', durationMs: 0,
    observed: { FunctionName: name, Runtime: runtime },
  });
  const results = [observed('function', 'demo-resize', 'nodejs22.x'), observed('api-function', 'demo-api', 'nodejs24.x')];

  it('warns of a runtime Lambda deprecates within 90 days or has deprecated, for each function', () => {
    expect(functionRuntimeWarnings(results, new Date('2026-11-29T12:00:00Z'))).toEqual([]);
    const soon = functionRuntimeWarnings(results, new Date('2027-03-01T12:00:00Z'));
    expect(soon).toEqual([expect.objectContaining({ functionName: 'demo-resize', runtime: 'nodejs22.x', level: 'deprecating', daysToDeprecation: 60 })]);
    expect(soon[0]?.suggestion).toContain('--runtime nodejs24.x');
    const later = functionRuntimeWarnings(results, new Date('2028-05-01T12:00:00Z'));
    expect(later.map((w) => [w.functionName, w.level])).toEqual([['demo-resize', 'update-blocked'], ['demo-api', 'deprecated']]);
    expect(functionRuntimeWarnings([observed('function', 'old', 'nodejs20.x')], new Date('2026-11-29'))[0]?.level).toBe('unsupported');
  });

  it('prints the warnings (stderr) and puts them into --json, without changing the exit code', () => {
    const runtimeWarnings = functionRuntimeWarnings(results, new Date('2027-03-01T12:00:00Z'));
    const result: StatusResult = {
      exitCode: 0, state: 'ok', ok: true, settings: DEFAULT_SETTINGS, resources: [], links: [], failedEvents: 0, runtimeWarnings,
    };
    const text = render(result, false);
    expect(text.err).toContain('demo-resize: Lambda deprecates nodejs22.x on 2027-04-30 (in 60 days)');
    expect(text.err).toContain('Switch the function to nodejs24.x (--runtime nodejs24.x) and run init again. (source: https://docs.aws.amazon.com/lambda/');
    expect(text.out).toContain('is as the settings say');
    const json = JSON.parse(render(result, true).out) as { ok: boolean; runtimeWarnings: { functionName: string; level: string; source: string }[] };
    expect(json.ok).toBe(true);
    expect(json.runtimeWarnings).toEqual([expect.objectContaining({ functionName: 'demo-resize', level: 'deprecating', runtime: 'nodejs22.x' })]);
  });
});

function render(result: StatusResult, json: boolean): { out: string; err: string } {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  renderStatus(new Output({ json, debug: false, stdout: out, stderr: err, interactive: false }), result);
  return { out: Buffer.concat(chunks.out).toString('utf8'), err: Buffer.concat(chunks.err).toString('utf8') };
}
