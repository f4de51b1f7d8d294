import type { FunctionEventInvokeConfig } from '@aws-sdk/client-lambda';
import { getEventInvokeConfig, putEventInvokeConfig, type AsyncInvokeSettings } from '../aws/lambda.js';
import { operationalSettings } from '../config/settings.js';
import { noop, type Plan, type ProvisionContext, type Step } from './types.js';

export type AsyncInvokeOp =
  | ({ kind: 'put-async-invoke-config' } & AsyncInvokeSettings)
  | { kind: 'update-async-invoke-config'; changes: { field: string; from: string; to: string }[] };

export function desiredAsyncInvoke(context: ProvisionContext): AsyncInvokeSettings {
  const { retryAttempts, maxEventAgeSeconds } = operationalSettings(context.stack.settings);
  return { maximumRetryAttempts: retryAttempts, maximumEventAgeSeconds: maxEventAgeSeconds, onFailureArn: context.stack.failedEventsQueueArn };
}

export function planAsyncInvoke(desired: AsyncInvokeSettings, observed: FunctionEventInvokeConfig | undefined): Plan<AsyncInvokeOp> {
  if (!observed) return { action: 'create', reason: 'not configured', ops: [{ kind: 'put-async-invoke-config', ...desired }] };
  const have = {
    retries: String(observed.MaximumRetryAttempts ?? 2),
    'event age': String(observed.MaximumEventAgeInSeconds ?? 21_600),
    'on failure': observed.DestinationConfig?.OnFailure?.Destination ?? 'none',
  };
  const want = { retries: String(desired.maximumRetryAttempts), 'event age': String(desired.maximumEventAgeSeconds), 'on failure': desired.onFailureArn };
  const changes = (Object.keys(want) as (keyof typeof want)[]).filter((field) => have[field] !== want[field]).map((field) => ({ field, from: have[field], to: want[field] }));
  if (changes.length === 0) return noop(`${want.retries} retries, events up to ${want['event age']} s old, then the failed-events queue`);
  return { action: 'update', reason: '', ops: [{ kind: 'update-async-invoke-config', changes }] };
}

/**
 * How Lambda treats an S3 event the function failed on: a few retries within an age limit, then the event goes
 * to the failed-events queue (`img-resizer failures`) instead of being dropped. Removed with the function.
 */
export const asyncInvokeStep: Step<FunctionEventInvokeConfig | undefined, AsyncInvokeOp> = {
  id: 'async-invoke',
  resource: 'Retries and failures',
  name: (context) => context.stack.settings.functionName,
  // A function planned for creation (dry run) has no configuration to read yet.
  observe: (context, inputs) => (inputs.functionExists === false ? Promise.resolve(undefined) : getEventInvokeConfig(context.clients.lambda, context.stack.settings.functionName)),
  plan: (context, observed) => planAsyncInvoke(desiredAsyncInvoke(context), observed),
  async apply(context) {
    await putEventInvokeConfig(context.clients.lambda, context.stack.settings.functionName, desiredAsyncInvoke(context));
    return undefined;
  },
};
