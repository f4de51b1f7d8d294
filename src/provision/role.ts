import type { Role } from '@aws-sdk/client-iam';
import { createRole, deleteInlinePolicy, detachManagedPolicy, getRole, getRolePolicy, listRolePermissions, putRolePolicy, updateTrustPolicy } from '../aws/iam.js';
import { parsePolicyDocument, policiesEqual, policyDifferences } from './policy.js';
import { INLINE_POLICY_NAME } from './stack.js';
import { changesPlan, type Plan, type Step } from './types.js';

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

const DETACH = 'detach managed policy ';
const DELETE = 'delete inline policy ';

export function planRole(desired: DesiredRole, observed: ObservedRole): Plan {
  if (!observed.role) {
    return {
      action: 'create',
      reason: 'does not exist',
      changes: ['trust lambda.amazonaws.com only', `inline policy ${desired.policyName}`],
    };
  }
  const changes: string[] = [];
  const trust = parsePolicyDocument(observed.role.AssumeRolePolicyDocument);
  if (!policiesEqual(desired.trustPolicy, trust)) changes.push('trust policy differs: lambda.amazonaws.com only');
  const policy = parsePolicyDocument(observed.policyDocument);
  if (policy === undefined) changes.push(`inline policy ${desired.policyName} missing`);
  else if (!policiesEqual(desired.policy, policy)) {
    changes.push(`inline policy ${desired.policyName}: ${policyDifferences(desired.policy, policy).join(', ')}`);
  }
  // Say, the full-access policies of the original manual setup, left on a role init now manages.
  for (const arn of observed.managedPolicies ?? []) changes.push(`${DETACH}${arn}`);
  for (const name of observed.otherInlinePolicies ?? []) if (name !== desired.policyName) changes.push(`${DELETE}${name}`);
  return changesPlan(changes, 'trust and inline policy as required');
}

export const roleStep: Step<ObservedRole> = {
  id: 'role',
  resource: 'Function role',
  name: (context) => context.stack.settings.roleName,
  async observe(context) {
    const { iam } = context.clients;
    const { roleName } = context.stack.settings;
    const role = await getRole(iam, roleName);
    if (!role) return { role, policyDocument: undefined };
    const [policyDocument, others] = await Promise.all([getRolePolicy(iam, roleName, INLINE_POLICY_NAME), listRolePermissions(iam, roleName)]);
    return { role, policyDocument, otherInlinePolicies: others.inline, managedPolicies: others.managed };
  },
  plan: (context, observed) => planRole(desiredRole(context.stack), observed),
  async apply(context, observed, plan, progress) {
    const { iam } = context.clients;
    const desired = desiredRole(context.stack);
    const trust = JSON.stringify(desired.trustPolicy);
    const policy = JSON.stringify(desired.policy);
    if (plan.action === 'create') {
      progress('creating');
      const role = await createRole(iam, {
        roleName: desired.roleName,
        trustPolicy: trust,
        description: `img-resizer stack ${context.stack.settings.stackName}: the resize function's execution role`,
        tags: context.stack.tags,
      });
      context.outputs.roleArn = role?.Arn ?? context.stack.roleArn;
      await putRolePolicy(iam, desired.roleName, desired.policyName, policy);
      return;
    }
    if (plan.changes.some((c) => c.startsWith('trust'))) await updateTrustPolicy(iam, desired.roleName, trust);
    if (plan.changes.some((c) => c.startsWith('inline'))) await putRolePolicy(iam, desired.roleName, desired.policyName, policy);
    for (const change of plan.changes) {
      if (change.startsWith(DETACH)) await detachManagedPolicy(iam, desired.roleName, change.slice(DETACH.length));
      if (change.startsWith(DELETE)) await deleteInlinePolicy(iam, desired.roleName, change.slice(DELETE.length));
    }
    context.outputs.roleArn = observed.role?.Arn ?? context.stack.roleArn;
  },
  settle(context, observed) {
    context.outputs.roleArn ??= observed.role?.Arn ?? context.stack.roleArn;
  },
};

function desiredRole(stack: { settings: { roleName: string }; trustPolicy: unknown; functionPolicy: unknown }): DesiredRole {
  return { roleName: stack.settings.roleName, trustPolicy: stack.trustPolicy, policyName: INLINE_POLICY_NAME, policy: stack.functionPolicy };
}
