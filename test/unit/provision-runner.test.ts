import { describe, expect, it } from 'vitest';
import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import { AwsClients } from '../../src/aws/clients.js';
import { LOCAL_CREDENTIALS } from '../../src/aws/target.js';
import type { StackSettings } from '../../src/config/settings.js';
import { CliError } from '../../src/errors.js';
import { planBucketRemoval } from '../../src/provision/bucket.js';
import { planFunction, type DesiredFunction } from '../../src/provision/function.js';
import { defineStep, runSteps, type RunEvent } from '../../src/provision/runner.js';
import { stackModel } from '../../src/provision/stack.js';
import type { LayerOp } from '../../src/provision/layer.js';
import type { ProvisionContext, StackOutputs, Step } from '../../src/provision/types.js';
import { blocked, noop } from '../../src/provision/types.js';
import { nothingDeployed } from '../../src/operations/status.js';
import { changesOutputs, describeOpDetails, describeOutcome, summaryTable } from '../../src/ui/provision.js';

const settings: StackSettings = {
  stackName: 'demo', sourceBucket: 'demo-source', destBucket: 'demo-dest', table: 'demo-metadata', functionName: 'demo-resize',
  roleName: 'demo-function-role', layerName: 'demo-sharp', sizes: 'thumbnail=200x200', format: 'png', fit: 'cover', arch: 'x86_64',
  memory: 1024, timeout: 60,
};

// These steps make no AWS request (the runner is what is under test); the clients point nowhere.
function provisionContext(): ProvisionContext {
  const clients = new AwsClients({ kind: 'endpoint', region: 'us-east-1', profile: undefined, endpoint: 'http://127.0.0.1:1', endpointOverridden: true, credentials: LOCAL_CREDENTIALS });
  return { clients, stack: stackModel(settings, { account: '123456789012', partition: 'aws' }, 'us-east-1'), artifacts: undefined };
}

/** A step that publishes a layer version and says so in its outputs; `applied` records each apply. */
function publishing(applied: string[]): Step<undefined, LayerOp> {
  return {
    id: 'first',
    resource: 'First',
    name: () => 'one',
    observe: () => Promise.resolve(undefined),
    plan: () => ({ action: 'create', reason: 'does not exist', ops: [{ kind: 'publish-layer-version', version: 7 }] }),
    apply: (_context, _observed, plan) => {
      applied.push(plan.ops.map((op) => op.kind).join(','));
      return Promise.resolve({ outputs: { layerVersionArn: 'arn:applied:7' }, detail: 'published' });
    },
    outputs: () => ({ layerVersionArn: 'arn:as-if:7' }),
  };
}

/** A step that records the outputs it was handed. */
function reading(seen: Readonly<StackOutputs>[]): Step<undefined, LayerOp> {
  return {
    id: 'second',
    resource: 'Second',
    name: () => 'two',
    observe: (_context, inputs) => { seen.push(inputs); return Promise.resolve(undefined); },
    plan: () => noop('nothing to do'),
    apply: () => Promise.reject(new Error('a no-op is never applied')),
  };
}

const conflicting: Step<undefined, LayerOp> = {
  id: 'conflict',
  resource: 'Conflict',
  name: () => 'c',
  observe: () => Promise.resolve(undefined),
  plan: () => blocked('The table exists with another key.', { code: 'TABLE_KEY_SCHEMA_CONFLICT', suggestion: 'Choose another name.' }),
  apply: () => Promise.reject(new Error('a blocked plan is never applied')),
};

describe('the step runner', () => {
  it('hands each step the outputs of the steps before it: applied ones, or as if applied in a dry run', async () => {
    const applied: string[] = [];
    const seen: Readonly<StackOutputs>[] = [];
    const events: RunEvent['type'][] = [];
    const results = await runSteps(provisionContext(), [defineStep(publishing(applied)), defineStep(reading(seen))], {
      dryRun: false,
      onEvent: (event) => events.push(event.type),
    });
    expect(applied).toEqual(['publish-layer-version']);
    expect(seen).toEqual([{ layerVersionArn: 'arn:applied:7' }]);
    expect(results.map((r) => [r.status, r.changes, r.detail])).toEqual([['applied', ['publish version 7'], 'published'], ['unchanged', [], undefined]]);
    expect(events).toEqual(['started', 'applying', 'finished', 'started', 'finished']);

    const dry = await runSteps(provisionContext(), [defineStep(publishing(applied)), defineStep(reading(seen))], { dryRun: true });
    expect(applied).toHaveLength(1);
    expect(seen[1]).toEqual({ layerVersionArn: 'arn:as-if:7' });
    expect(dry[0]).toMatchObject({ status: 'planned', action: 'create', ops: [{ kind: 'publish-layer-version', version: 7 }] });
  });

  it('shows a blocked plan in a dry run and fails a real run with its typed error, changing nothing', async () => {
    const applied: string[] = [];
    const steps = [defineStep(conflicting), defineStep(publishing(applied))];
    const dry = await runSteps(provisionContext(), steps, { dryRun: true });
    expect(dry[0]).toMatchObject({ action: 'blocked', status: 'blocked', error: 'TABLE_KEY_SCHEMA_CONFLICT', reason: 'The table exists with another key.' });
    expect(describeOutcome(dry[0]!)).toBe('blocked: The table exists with another key.');
    const error = await runSteps(provisionContext(), steps, { dryRun: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect(error).toMatchObject({ code: 'TABLE_KEY_SCHEMA_CONFLICT', suggestion: 'Choose another name.' });
    expect(applied).toEqual([]);
  });

  it('lets the caller say what remains when a run stops', async () => {
    const failing: Step<undefined, LayerOp> = { ...publishing([]), apply: () => Promise.reject(new Error('boom')) };
    const error = await runSteps(provisionContext(), [defineStep(failing), defineStep(reading([]))], {
      dryRun: false,
      explainStop: (cause, remaining) => new Error(`${(cause as Error).message}; left: ${remaining.map((r) => r.name).join(', ')}`),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: 'boom; left: one, two' });
  });
});

describe('an interrupted run (Ctrl-C)', () => {
  it('finishes the step under way and applies no later one', async () => {
    const applied: string[] = [];
    const interrupt = new AbortController();
    const first = publishing(applied);
    // Ctrl-C comes while the first step applies.
    const interrupting: Step<undefined, LayerOp> = { ...first, apply: (...args) => { interrupt.abort(); return first.apply(...args); } };
    const later = { ...publishing(applied), id: 'later', name: () => 'later' };
    const events: RunEvent[] = [];
    const results = await runSteps(provisionContext(), [defineStep(interrupting), defineStep(later)], { dryRun: false, signal: interrupt.signal, onEvent: (e) => events.push(e) });
    expect(results.map((r) => [r.id, r.status])).toEqual([['first', 'applied']]);
    expect(applied).toEqual(['publish-layer-version']);
    expect(events.map((e) => e.type)).toEqual(['started', 'applying', 'finished']);
  });

  it('leaves a step it was observing as it was, and says so', async () => {
    const applied: string[] = [];
    const interrupt = new AbortController();
    const step = publishing(applied);
    const observing: Step<undefined, LayerOp> = { ...step, observe: () => { interrupt.abort(); return Promise.resolve(undefined); } };
    const events: RunEvent[] = [];
    const results = await runSteps(provisionContext(), [defineStep(observing)], { dryRun: false, signal: interrupt.signal, onEvent: (e) => events.push(e) });
    expect(results).toEqual([]);
    expect(applied).toEqual([]);
    expect(events.map((e) => e.type)).toEqual(['started', 'not-applied']);
  });
});

describe('destroy plans', () => {
  it('give a reason for every bucket they keep or skip', () => {
    expect(planBucketRemoval('demo', { kind: 'kept-by-flag' })).toMatchObject({ action: 'no-op', reason: '--keep-buckets', kept: true });
    expect(planBucketRemoval('demo', { kind: 'presence', presence: { kind: 'absent' } })).toEqual({ action: 'no-op', reason: 'already gone', ops: [] });
    expect(planBucketRemoval('demo', { kind: 'present', tags: { 'img-resizer:stack': 'demo', 'img-resizer:adopted': 'true' } })).toMatchObject({
      action: 'no-op',
      reason: expect.stringMatching(/^adopted bucket, kept/) as string,
      kept: true,
    });
    expect(planBucketRemoval('demo', { kind: 'present', tags: { 'img-resizer:stack': 'other' } })).toMatchObject({ action: 'no-op', kept: true });
    // Untagged (the local stack lost its tags) but recorded as created by this stack: it is the stack's.
    expect(planBucketRemoval('demo', { kind: 'present', tags: {}, createdBy: 'demo' })).toMatchObject({ action: 'delete', ops: [{ kind: 'empty-bucket' }, { kind: 'delete-bucket' }] });
    expect(planBucketRemoval('demo', { kind: 'present', tags: {}, createdBy: 'other' })).toMatchObject({ action: 'no-op', kept: true });
    expect(planBucketRemoval('demo', { kind: 'present', tags: { 'img-resizer:stack': 'other' }, createdBy: 'demo' })).toMatchObject({ action: 'no-op', kept: true });
    expect(planBucketRemoval('demo', { kind: 'present', tags: { 'img-resizer:stack': 'demo' } })).toEqual({
      action: 'delete',
      reason: 'made by this stack',
      ops: [{ kind: 'empty-bucket' }, { kind: 'delete-bucket' }],
    });
  });

  it('read as removals in the summary', () => {
    const base = { id: 'x', resource: 'Source bucket', name: 'b', ops: [], changes: [], durationMs: 1 };
    const table = summaryTable(
      [
        { ...base, action: 'no-op', reason: 'already gone', status: 'unchanged' },
        { ...base, action: 'no-op', reason: '--keep-buckets', status: 'unchanged', kept: true },
        { ...base, action: 'delete', reason: 'made by this stack', status: 'applied', detail: 'was empty' },
      ],
      'remove',
    );
    expect(table.split('\n').slice(2).map((line) => line.replace(/\s+/g, ' '))).toEqual([
      'Source bucket b already gone already gone',
      'Source bucket b kept --keep-buckets',
      'Source bucket b deleted was empty',
    ]);
  });
});

describe('a changed function environment', () => {
  const desired: DesiredFunction = {
    functionName: 'f', roleArn: 'r', runtime: 'nodejs22.x', handler: 'index.handler', memory: 1024, timeout: 60, architecture: 'x86_64',
    layers: [], environment: { SIZES: 'thumb=200x200,large=1200x1200', OUTPUT_FORMAT: 'webp' }, description: 'd', codeSha256: undefined,
  };
  const variables = { SIZES: 'thumb=200x200', OUTPUT_FORMAT: 'webp' };
  const deployed: FunctionConfiguration = {
    Role: 'r', Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 1024, Timeout: 60, Architectures: ['x86_64'], Layers: [],
    Environment: { Variables: variables },
  };

  it('shows old and new values, and notes that earlier outputs are not redone', () => {
    const plan = planFunction(desired, deployed);
    const ops = plan.ops;
    expect(ops.flatMap(describeOpDetails)).toEqual(['environment SIZES: thumb=200x200 → thumb=200x200,large=1200x1200']);
    const step = { id: 'function', resource: 'Function', name: 'f', action: plan.action, reason: '', ops, changes: [], status: 'planned' as const, durationMs: 0 };
    expect(changesOutputs([step])).toBe(true);
    expect(changesOutputs([{ ...step, ops: planFunction({ ...desired, memory: 2048, environment: variables }, deployed).ops }])).toBe(false);
  });
});

describe('status after destroy', () => {
  it('is "not deployed" when every resource would be created', () => {
    const row = (id: string, action: 'create' | 'no-op') => ({ id, resource: id, name: id, action, reason: '', ops: [], changes: [], status: 'planned' as const, durationMs: 0 });
    expect(nothingDeployed([row('identity', 'no-op'), row('source-bucket', 'create'), row('function', 'create')])).toBe(true);
    expect(nothingDeployed([row('identity', 'no-op'), row('source-bucket', 'no-op'), row('function', 'create')])).toBe(false);
  });
});
