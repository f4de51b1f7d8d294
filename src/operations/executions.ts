import { DescribeExecutionCommand, ListExecutionsCommand, type ExecutionStatus } from '@aws-sdk/client-sfn';
import { CliError, ExitCode, awsErrorName } from '../errors.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { stackModel } from '../provision/stack.js';
import { workflowNames } from '../provision/workflow.js';
import { checkRegion, targetRegion } from './provision-target.js';

export interface ExecutionsOptions {
  /** Only executions that did not succeed (FAILED, TIMED_OUT, ABORTED). */
  failed?: boolean | undefined;
  /** At most this many (newest first). */
  limit?: number | undefined;
}

export interface ExecutionSummary {
  name: string;
  status: string;
  startedAt: string | undefined;
  stoppedAt: string | undefined;
  /** The object the execution was about, from its input. */
  object: string | undefined;
  /** Failed executions: the error (an image error code such as CORRUPT_IMAGE, or the service error) and its cause. */
  error?: string;
  cause?: string;
}

export interface ExecutionsResult {
  exitCode: ExitCode;
  stateMachineArn: string;
  executions: ExecutionSummary[];
}

const NOT_SUCCEEDED: ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED'];

function objectOf(input: string | undefined): string | undefined {
  try {
    const event = JSON.parse(input ?? '') as { detail?: { bucket?: { name?: string }; object?: { key?: string } } };
    const bucket = event.detail?.bucket?.name;
    const key = event.detail?.object?.key;
    return bucket && key ? `s3://${bucket}/${key}` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lists the workflow's recent executions, newest first, with the error of those that failed. Step Functions keeps
 * the history of Standard workflows (90 days); for Express ones AWS lists none (their history is in the log
 * group), while the local stack lists both.
 */
export async function listExecutions(context: AppContext, options: ExecutionsOptions = {}): Promise<ExecutionsResult> {
  const settings = await loadStackSettings(context.settingsFile);
  if (settings.orchestration !== 'stepfunctions') {
    throw new CliError('NOT_WORKFLOW_MODE', 'The stack runs in direct mode: uploads invoke the function, there are no executions.', {
      exitCode: ExitCode.Usage,
      suggestion: 'Switch with `img-resizer init --orchestration stepfunctions`, or see `img-resizer metadata --status FAILED`.',
    });
  }
  const clients = await context.clients();
  const region = await targetRegion(context);
  checkRegion(settings, region, context.settingsFile);
  const stack = stackModel(settings, await context.identity(), region);
  const { stateMachineArn } = workflowNames(stack);
  const limit = options.limit ?? 20;
  const statuses: (ExecutionStatus | undefined)[] = options.failed ? NOT_SUCCEEDED : [undefined];
  const listed = [];
  try {
    for (const statusFilter of statuses) {
      const page = await clients.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: limit, ...(statusFilter ? { statusFilter } : {}) }));
      listed.push(...(page.executions ?? []));
    }
  } catch (error) {
    if (awsErrorName(error) === 'StateMachineDoesNotExist') {
      throw new CliError('STATE_MACHINE_MISSING', `The state machine ${stateMachineArn} does not exist.`, { suggestion: 'Run `img-resizer init` to create it.' });
    }
    if (awsErrorName(error) === 'StateMachineTypeNotSupported') {
      throw new CliError('EXPRESS_NOT_LISTABLE', 'Step Functions does not list the executions of Express workflows.', {
        suggestion: 'Use `--state-machine-type standard` for a listable history, or read the executions in CloudWatch Logs.',
      });
    }
    throw error;
  }
  listed.sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0));
  const executions: ExecutionSummary[] = [];
  for (const execution of listed.slice(0, limit)) {
    const described = await clients.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
    executions.push({
      name: execution.name ?? '',
      status: execution.status ?? 'UNKNOWN',
      startedAt: execution.startDate?.toISOString(),
      stoppedAt: execution.stopDate?.toISOString(),
      object: objectOf(described.input),
      ...(described.error === undefined ? {} : { error: described.error }),
      ...(described.cause === undefined ? {} : { cause: described.cause }),
    });
  }
  return { exitCode: ExitCode.Ok, stateMachineArn, executions };
}
