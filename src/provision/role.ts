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
import { INLINE_POLICY_NAME, type StackModel } from './stack.js';
import { noop, opsPlan, type Plan, type Step } from './types.js';

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

async function observeRole(context: { clients: { iam: Parameters<typeof getRole>[0] }; stack: StackModel }): Promise<ObservedRole> {
  const { iam } = context.clients;
  const { roleName } = context.stack.settings;
  const role = await getRole(iam, roleName);
  if (!role) return { role, policyDocument: undefined };
  const [policyDocument, others] = await Promise.all([getRolePolicy(iam, roleName, INLINE_POLICY_NAME), listRolePermissions(iam, roleName)]);
  return { role, policyDocument, otherInlinePolicies: others.inline, managedPolicies: others.managed };
}

export const roleStep: Step<ObservedRole, RoleOp> = {
  id: 'role',
  resource: 'Function role',
  name: (context) => context.stack.settings.roleName,
  observe: (context) => observeRole(context),
  plan: (context, observed) => planRole(desiredRole(context.stack), observed),
  async apply(context, observed, plan, _inputs, progress) {
    const { iam } = context.clients;
    const desired = desiredRole(context.stack);
    const trust = JSON.stringify(desired.trustPolicy);
    const policy = JSON.stringify(desired.policy);
    let roleArn = observed.role?.Arn ?? context.stack.roleArn;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'create-role': {
          progress('creating');
          const role = await createRole(iam, {
            roleName: desired.roleName,
            trustPolicy: trust,
            description: `img-resizer stack ${context.stack.settings.stackName}: the resize function's execution role`,
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
    return { outputs: { roleArn } };
  },
  outputs: (context, observed) => ({ roleArn: observed.role?.Arn ?? context.stack.roleArn }),
};

function desiredRole(stack: StackModel): DesiredRole {
  return { roleName: stack.settings.roleName, trustPolicy: stack.trustPolicy, policyName: INLINE_POLICY_NAME, policy: stack.functionPolicy };
}

export const roleRemovalStep: Step<Role | undefined, RoleRemovalOp> = {
  id: 'role',
  resource: 'Function role',
  name: (context) => context.stack.settings.roleName,
  observe: (context) => getRole(context.clients.iam, context.stack.settings.roleName),
  plan: (_context, observed): Plan<RoleRemovalOp> =>
    observed ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'delete-role' }] } : noop('already gone'),
  async apply(context) {
    await deleteRoleCompletely(context.clients.iam, context.stack.settings.roleName);
    return undefined;
  },
};
