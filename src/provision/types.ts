import type { AwsClients } from '../aws/clients.js';
import type { PropagationRetry } from '../aws/lambda.js';
import type { Output } from '../ui/output.js';
import type { StackModel } from './stack.js';

export type PlanAction = 'create' | 'update' | 'no-op';

/** What a step intends to do, and why. Computed by a pure function from desired and observed state. */
export interface Plan {
  action: PlanAction;
  reason: string;
  /** One short line per difference, e.g. "memory 512 → 1024 MB". */
  changes: string[];
}

/** The packages `init` deploys; absent for `status`, which compares configuration but not code. */
export interface DeployArtifacts {
  functionZip: { bytes: Buffer; codeSha256: string; size: number };
  layerZip: { bytes: Buffer; sha256: string; size: number; description: string };
}

/** What later steps learn from earlier ones (ARNs only known once a resource exists). */
export interface StepOutputs {
  roleArn?: string;
  layerVersionArn?: string;
  functionArn?: string | undefined;
  /** The function as last observed or configured (status checks its links). */
  functionExists?: boolean;
}

export interface ProvisionContext {
  clients: AwsClients;
  stack: StackModel;
  output: Output;
  dryRun: boolean;
  artifacts: DeployArtifacts | undefined;
  outputs: StepOutputs;
  /** IAM propagation retry timing (tests shorten it). */
  propagationRetry?: PropagationRetry | undefined;
}

/**
 * One resource: observe what exists, plan (pure) what to do, apply it. `settle` records what later
 * steps need from this one, both after apply and, in a dry run, as if it had been applied.
 */
export interface Step<Observed = unknown> {
  id: string;
  /** What kind of resource, for people: "Source bucket". */
  resource: string;
  /** Its name in AWS. */
  name(context: ProvisionContext): string;
  observe(context: ProvisionContext): Promise<Observed>;
  plan(context: ProvisionContext, observed: Observed): Plan;
  apply(context: ProvisionContext, observed: Observed, plan: Plan, progress: (text: string) => void): Promise<void>;
  settle?(context: ProvisionContext, observed: Observed, plan: Plan, applied: boolean): void;
}

/** The outcome of one step in a run. */
export interface StepResult {
  id: string;
  resource: string;
  name: string;
  action: PlanAction;
  reason: string;
  changes: string[];
  /** planned: dry run; applied: changed now; unchanged: no-op; failed: threw. */
  status: 'planned' | 'applied' | 'unchanged' | 'failed';
  durationMs: number;
  error?: string;
}

/** Plans that differ from nothing are easy to read as a no-op. */
export function noop(reason: string): Plan {
  return { action: 'no-op', reason, changes: [] };
}

export function changesPlan(changes: string[], reasonWhenNone: string): Plan {
  if (changes.length === 0) return noop(reasonWhenNone);
  return { action: 'update', reason: changes.join('; '), changes };
}
