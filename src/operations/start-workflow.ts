import { setTimeout as sleep } from 'node:timers/promises';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { executionEnd, runSyncExecution, startExecution } from '../aws/stepfunctions.js';
import type { InvokeResult } from './invoke-function.js';

/**
 * Workflow mode's counterpart of invokeSynchronously: runs one execution to its end and reports a failed one the
 * way a function error is reported (the error name, and its cause). Express workflows run synchronously
 * (StartSyncExecution); Standard ones are started and polled.
 */
export async function runWorkflowSynchronously(
  sfn: SFNClient,
  stateMachineArn: string,
  type: 'express' | 'standard',
  event: unknown,
  pollMs = 500,
): Promise<InvokeResult> {
  const input = JSON.stringify(event);
  let status: string | undefined;
  let error: string | undefined;
  let cause: string | undefined;
  if (type === 'express') {
    ({ status, error, cause } = await runSyncExecution(sfn, stateMachineArn, input));
  } else {
    const executionArn = await startExecution(sfn, stateMachineArn, input);
    for (;;) {
      ({ status, error, cause } = await executionEnd(sfn, executionArn));
      if (status !== 'RUNNING' && status !== 'PENDING_REDRIVE') break;
      await sleep(pollMs);
    }
  }
  if (status === 'SUCCEEDED') return { functionError: undefined, errorMessage: undefined, attempts: 1 };
  return { functionError: error ?? status ?? 'FAILED', errorMessage: cause ?? error ?? `execution ${status ?? 'failed'}`, attempts: 1 };
}
