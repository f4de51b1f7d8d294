import type { AwsClients } from '../aws/clients.js';
import type { PropagationRetry } from '../aws/lambda.js';
import type { StackModel } from './stack.js';

export type PlanAction = 'create' | 'update' | 'delete' | 'no-op' | 'blocked';

/** Why a step cannot go on, as the typed error apply fails with (a dry run and status show it instead). */
export interface Blocker {
  code: string;
  suggestion: string;
}

/** A change to make: apply switches on each op's `kind`; people read the ops rendered by src/ui/provision.ts. */
export interface ChangePlan<Op> {
  action: 'create' | 'update' | 'delete';
  reason: string;
  ops: readonly Op[];
}

export interface NoopPlan {
  action: 'no-op';
  reason: string;
  ops: readonly never[];
  /** Destroy: the resource exists and is deliberately left in place (adopted, --keep-buckets), not already gone. */
  kept?: true;
}

/** A conflict found while planning (a table with another key, an overlapping trigger): nothing is changed. */
export interface BlockedPlan {
  action: 'blocked';
  reason: string;
  ops: readonly never[];
  blocker: Blocker;
}

/** What a step intends to do, and why. Computed by a pure function from desired and observed state. */
export type Plan<Op> = ChangePlan<Op> | NoopPlan | BlockedPlan;

/** The packages `init` deploys; absent for `status`, which compares configuration but not code. */
export interface DeployArtifacts {
  functionZip: { bytes: Buffer; codeSha256: string; size: number };
  layerZip: { bytes: Buffer; sha256: string; size: number; description: string };
}

/**
 * What later steps learn from earlier ones (ARNs only known once a resource exists). Each step returns its
 * part; the runner hands the accumulated, read-only record to the steps after it.
 */
export interface StackOutputs {
  roleArn?: string;
  layerVersionArn?: string;
  functionArn?: string;
  /** Whether the function exists (or will, after this run): the permission step looks it up only then. */
  functionExists?: boolean;
  /** The HTTP API's (issue 14): its function's ARN and existence, and the API's id and endpoint. */
  apiRoleArn?: string;
  apiFunctionArn?: string;
  apiFunctionExists?: boolean;
  apiId?: string;
  apiEndpoint?: string;
  apiLogGroupArn?: string;
  /** The stack's CloudFront distribution (src/provision/cdn.ts), when the CDN is on and it exists or will. */
  distributionArn?: string;
  distributionId?: string;
  /** What the function writes into each output's Url: https://<domain or first alias>, the local form on MiniStack. */
  cdnBaseUrl?: string;
  /** Workflow mode: the state machine the rule starts. */
  stateMachineArn?: string;
  /** The failed-events queue's URL (the workflow's DeadLetter state sends to it). */
  failedEventsQueueUrl?: string;
}

/** What a run needs besides the earlier steps' outputs. Read-only: steps share nothing through it. */
export interface ProvisionContext {
  readonly clients: AwsClients;
  readonly stack: StackModel;
  readonly artifacts: DeployArtifacts | undefined;
  /** IAM propagation retry timing (tests shorten it). */
  readonly propagationRetry?: PropagationRetry | undefined;
  /** Where a target that can lose tags (the local stack) records what the stack created; none on AWS. */
  readonly ownership?: OwnershipRecord | undefined;
}

/**
 * The buckets a stack created, recorded when created, so ownership does not rest on tags alone: after an unclean
 * stop the local stack keeps a bucket's objects but loses its tags. init and destroy consult it.
 */
export interface OwnershipRecord {
  /** The stack that created this bucket, if the record has it. */
  bucketCreatedBy(bucket: string): Promise<string | undefined>;
  recordBucketCreated(bucket: string, stack: string): Promise<void>;
  forgetBucket(bucket: string): Promise<void>;
}

/** What apply did: outputs for later steps, and a short detail for people ("emptied first: 5 object versions"). */
export interface Applied {
  outputs?: StackOutputs;
  detail?: string;
}

/**
 * One resource: observe what exists, plan (pure) what to do, apply it. `outputs` says what later steps learn from
 * this one when apply did not run (no-op, dry run, status), as if it had been applied.
 */
export interface Step<Observed, Op> {
  id: string;
  /** What kind of resource, for people: "Source bucket". */
  resource: string;
  /** Its name in AWS. */
  name(context: ProvisionContext): string;
  observe(context: ProvisionContext, inputs: Readonly<StackOutputs>): Promise<Observed>;
  plan(context: ProvisionContext, observed: Observed, inputs: Readonly<StackOutputs>): Plan<Op>;
  apply(
    context: ProvisionContext,
    observed: Observed,
    plan: ChangePlan<Op>,
    inputs: Readonly<StackOutputs>,
    progress: (text: string) => void,
  ): Promise<Applied | undefined>;
  outputs?(context: ProvisionContext, observed: Observed, plan: Plan<Op>, inputs: Readonly<StackOutputs>): StackOutputs;
}

/** The outcome of one step in a run. */
export interface StepResult<Op = unknown> {
  id: string;
  resource: string;
  name: string;
  action: PlanAction;
  reason: string;
  /** The plan as data. */
  ops: readonly Op[];
  /** The ops rendered for people, one line each. */
  changes: string[];
  /** planned: dry run; applied: changed now; unchanged: no-op; blocked: a conflict, nothing changed; failed: threw. */
  status: 'planned' | 'applied' | 'unchanged' | 'blocked' | 'failed';
  durationMs: number;
  /** What apply reported, e.g. how many objects emptying a bucket deleted. */
  detail?: string;
  /** Destroy: left in place on purpose (see reason). */
  kept?: true;
  error?: string;
}

/** Plans that differ from nothing are easy to read as a no-op. */
export function noop(reason: string, options: { kept?: true } = {}): NoopPlan {
  return { action: 'no-op', reason, ops: [], ...options };
}

export function blocked(reason: string, blocker: Blocker): BlockedPlan {
  return { action: 'blocked', reason, ops: [], blocker };
}

/** An update of the given ops, or a no-op (with its reason) when there are none. An empty reason: the runner says the ops. */
export function opsPlan<Op>(ops: readonly Op[], reasonWhenNone: string, reason = ''): Plan<Op> {
  if (ops.length === 0) return noop(reasonWhenNone);
  return { action: 'update', reason, ops };
}
