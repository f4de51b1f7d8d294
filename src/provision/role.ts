import type { Role } from '@aws-sdk/client-iam';
import {
  createRole,
  deleteInlinePolicy,
  deleteRoleCompletely,
  detachManagedPolicy,
  getRole,
  getRolePolicy,
  listRolePermissions,
  putRolePolicy,
  updateTrustPolicy,
} from '../aws/iam.js';
import { parsePolicyDocument, policiesEqual, policyDifferences } from './policy.js';
import { INLINE_POLICY_NAME } from './stack.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type StackOutputs, type Step } from './types.js';

export interface DesiredRole {
  roleName: string;
  trustPolicy: unknown;
  policyName: string;
  policy: unknown;
}

export interface ObservedRole {
  role: Role | undefined;
  /** The inline policy's document as IAM returned it (URL-encoded JSON). */
  policyDocument: string | undefined;
  /** Everything else the role grants: the function must get exactly what the inline policy says, no more. */
  otherInlinePolicies?: string[] | undefined;
  managedPolicies?: string[] | undefined;
}

export type RoleOp =
  | { kind: 'create-role'; policyName: string }
  | { kind: 'update-trust-policy' }
  /** `differences` empty: the policy is missing. */
  | { kind: 'put-inline-policy'; policyName: string; missing: boolean; differences: string[] }
  | { kind: 'detach-managed-policy'; policyArn: string }
  | { kind: 'delete-inline-policy'; policyName: string };

export interface RoleRemovalOp { kind: 'delete-role' }

export function planRole(desired: DesiredRole, observed: ObservedRole): Plan<RoleOp> {
  if (!observed.role) return { action: 'create', reason: 'does not exist', ops: [{ kind: 'create-role', policyName: desired.policyName }] };
  const ops: RoleOp[] = [];
  const trust = parsePolicyDocument(observed.role.AssumeRolePolicyDocument);
  if (!policiesEqual(desired.trustPolicy, trust)) ops.push({ kind: 'update-trust-policy' });
  const policy = parsePolicyDocument(observed.policyDocument);
  if (policy === undefined) ops.push({ kind: 'put-inline-policy', policyName: desired.policyName, missing: true, differences: [] });
  else if (!policiesEqual(desired.policy, policy)) {
    ops.push({ kind: 'put-inline-policy', policyName: desired.policyName, missing: false, differences: policyDifferences(desired.policy, policy) });
  }
  // Say, the full-access policies of the original manual setup, left on a role init now manages.
  for (const policyArn of observed.managedPolicies ?? []) ops.push({ kind: 'detach-managed-policy', policyArn });
  for (const name of observed.otherInlinePolicies ?? []) if (name !== desired.policyName) ops.push({ kind: 'delete-inline-policy', policyName: name });
  return opsPlan(ops, 'trust and inline policy as required');
}

/**
 * What tells one role from another: its name, documents and purpose. The function's role, the API function's
 * and workflow mode's two are all this step over their own spec.
 */
export interface RoleStepSpec {
  id: string;
  resource: string;
  roleName: (context: ProvisionContext) => string;
  policyName: string;
  trustPolicy: (context: ProvisionContext) => unknown;
  policy: (context: ProvisionContext, inputs: Readonly<StackOutputs>) => unknown;
  /** What the role is for, in its IAM description after "img-resizer stack NAME: ". */
  description: string;
  /** For a role whose ARN later steps need: the outputs that carry it, and the ARN it has before it exists. */
  arn?: { outputs: (roleArn: string) => StackOutputs; expected: (context: ProvisionContext) => string };
}

function desiredRoleOf(spec: RoleStepSpec, context: ProvisionContext, inputs: Readonly<StackOutputs>): DesiredRole {
  return { roleName: spec.roleName(context), trustPolicy: spec.trustPolicy(context), policyName: spec.policyName, policy: spec.policy(context, inputs) };
}

async function observeRole(iam: ProvisionContext['clients']['iam'], roleName: string, policyName: string): Promise<ObservedRole> {
  const role = await getRole(iam, roleName);
  if (!role) return { role, policyDocument: undefined };
  const [policyDocument, others] = await Promise.all([getRolePolicy(iam, roleName, policyName), listRolePermissions(iam, roleName)]);
  return { role, policyDocument, otherInlinePolicies: others.inline, managedPolicies: others.managed };
}

/** A role with exactly one inline policy and the trust it needs: created, or brought back to that. */
export function iamRoleStep(spec: RoleStepSpec): Step<ObservedRole, RoleOp> {
  const { arn } = spec;
  return {
    id: spec.id,
    resource: spec.resource,
    name: spec.roleName,
    observe: (context) => observeRole(context.clients.iam, spec.roleName(context), spec.policyName),
    plan: (context, observed, inputs) => planRole(desiredRoleOf(spec, context, inputs), observed),
    async apply(context, observed, plan, inputs, progress) {
      const { iam } = context.clients;
      const desired = desiredRoleOf(spec, context, inputs);
      const trust = JSON.stringify(desired.trustPolicy);
      const policy = JSON.stringify(desired.policy);
      let roleArn = observed.role?.Arn;
      for (const op of plan.ops) {
        switch (op.kind) {
          case 'create-role': {
            progress('creating');
            const role = await createRole(iam, {
              roleName: desired.roleName,
              trustPolicy: trust,
              description: `img-resizer stack ${context.stack.settings.stackName}: ${spec.description}`,
              tags: context.stack.tags,
            });
            roleArn = role?.Arn ?? roleArn;
            await putRolePolicy(iam, desired.roleName, op.policyName, policy);
            break;
          }
          case 'update-trust-policy':
            await updateTrustPolicy(iam, desired.roleName, trust);
            break;
          case 'put-inline-policy':
            await putRolePolicy(iam, desired.roleName, op.policyName, policy);
            break;
          case 'detach-managed-policy':
            await detachManagedPolicy(iam, desired.roleName, op.policyArn);
            break;
          case 'delete-inline-policy':
            await deleteInlinePolicy(iam, desired.roleName, op.policyName);
            break;
        }
      }
      return arn ? { outputs: arn.outputs(roleArn ?? arn.expected(context)) } : undefined;
    },
    ...(arn ? { outputs: (context: ProvisionContext, observed: ObservedRole) => arn.outputs(observed.role?.Arn ?? arn.expected(context)) } : {}),
  };
}

/** Deletes the role with its policies, when it is there. */
export function iamRoleRemovalStep(spec: Pick<RoleStepSpec, 'id' | 'resource' | 'roleName'>, reason = 'made by this stack'): Step<Role | undefined, RoleRemovalOp> {
  return {
    id: spec.id,
    resource: spec.resource,
    name: spec.roleName,
    observe: (context) => getRole(context.clients.iam, spec.roleName(context)),
    plan: (_context, observed): Plan<RoleRemovalOp> => (observed ? { action: 'delete', reason, ops: [{ kind: 'delete-role' }] } : noop('already gone')),
    async apply(context) {
      await deleteRoleCompletely(context.clients.iam, spec.roleName(context));
      return undefined;
    },
  };
}

const functionRoleSpec: RoleStepSpec = {
  id: 'role',
  resource: 'Function role',
  roleName: (context) => context.stack.settings.roleName,
  policyName: INLINE_POLICY_NAME,
  trustPolicy: (context) => context.stack.trustPolicy,
  policy: (context) => context.stack.functionPolicy,
  description: 'the resize function\'s execution role',
  arn: { outputs: (roleArn) => ({ roleArn }), expected: (context) => context.stack.roleArn },
};

export const roleStep = iamRoleStep(functionRoleSpec);
export const roleRemovalStep = iamRoleRemovalStep(functionRoleSpec);
