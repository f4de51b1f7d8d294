import type { ExecutionListItem, ExecutionStatus, SFNClient } from '@aws-sdk/client-sfn';
import { describeExecution, listExecutionsPage } from '../aws/stepfunctions.js';
import { CliError, ExitCode, awsErrorName, errorMessage } from '../errors.js';
import { loadStackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { stackModel } from '../provision/stack.js';
import { workflowNames } from '../provision/workflow.js';
import { checkRegion, targetRegion } from './provision-target.js';
import { workflowModeFor } from '../config/stack-settings.js';

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
  if (!workflowModeFor(settings)) {
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
  const listed = await newestExecutions(clients.sfn, stateMachineArn, limit, options.failed ? NOT_SUCCEEDED : [undefined]);
  const executions: ExecutionSummary[] = [];
  for (const execution of listed) executions.push(await summarize(clients.sfn, execution));
  return { exitCode: ExitCode.Ok, stateMachineArn, executions };
}

/** The newest `limit` executions of the given statuses (undefined: any), newest first; typed errors for the two known refusals. */
async function newestExecutions(sfn: SFNClient, stateMachineArn: string, limit: number, statuses: readonly (ExecutionStatus | undefined)[]): Promise<ExecutionListItem[]> {
  const listed: ExecutionListItem[] = [];
  try {
    for (const statusFilter of statuses) listed.push(...(await listExecutionsPage(sfn, stateMachineArn, { maxResults: limit, statusFilter })));
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
  return listed.slice(0, limit);
}

/** One execution with its object and, when it failed, its error (one DescribeExecution). */
async function summarize(sfn: SFNClient, execution: ExecutionListItem): Promise<ExecutionSummary> {
  const described = await describeExecution(sfn, execution.executionArn ?? '');
  return {
    name: execution.name ?? '',
    status: execution.status ?? 'UNKNOWN',
    startedAt: execution.startDate?.toISOString(),
    stoppedAt: execution.stopDate?.toISOString(),
    object: objectOf(described.input),
    ...(described.error === undefined ? {} : { error: described.error }),
    ...(described.cause === undefined ? {} : { cause: described.cause }),
  };
}

/** What `status` shows of a workflow's last executions: their outcomes, and the newest one that did not succeed. */
export interface RecentExecutions {
  /** How many of the newest executions were read (at most STATUS_EXECUTIONS). */
  checked: number;
  /** How many of them ended in each status (RUNNING included). */
  outcomes: Record<string, number>;
  lastFailure?: ExecutionSummary;
  /** Why none could be read: Express on AWS (not listable), no state machine, or the service's refusal. */
  unavailable?: string;
}

export const STATUS_EXECUTIONS = 10;

/**
 * The last executions' outcomes for `status`: one ListExecutions and at most one DescribeExecution. Informational
 * only: an image that failed is a FAILED item (not drift), and anything worse is counted by the failed-events
 * queue's link; so a refusal here is reported, never thrown.
 */
export async function recentExecutions(sfn: SFNClient, stateMachineArn: string): Promise<RecentExecutions> {
  try {
    const newest = await newestExecutions(sfn, stateMachineArn, STATUS_EXECUTIONS, [undefined]);
    const outcomes: Record<string, number> = {};
    for (const execution of newest) {
      const status = execution.status ?? 'UNKNOWN';
      outcomes[status] = (outcomes[status] ?? 0) + 1;
    }
    const failure = newest.find((execution) => execution.status !== undefined && NOT_SUCCEEDED.includes(execution.status));
    return { checked: newest.length, outcomes, ...(failure ? { lastFailure: await summarize(sfn, failure) } : {}) };
  } catch (error) {
    const reason = error instanceof CliError && error.code === 'EXPRESS_NOT_LISTABLE' ? 'AWS lists no Express executions; they are in the workflow\'s log group' : errorMessage(error);
    return { checked: 0, outcomes: {}, unavailable: reason };
  }
}
