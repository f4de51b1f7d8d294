import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
  type Role,
} from '@aws-sdk/client-iam';
import { awsErrorName } from '../errors.js';

function isNoSuchEntity(error: unknown): boolean {
  return awsErrorName(error) === 'NoSuchEntity' || awsErrorName(error) === 'NoSuchEntityException';
}

export async function getRole(iam: IAMClient, roleName: string): Promise<Role | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role;
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
}

/** The inline policy's document as IAM returns it (URL-encoded JSON), or undefined. */
export async function getRolePolicy(iam: IAMClient, roleName: string, policyName: string): Promise<string | undefined> {
  try {
    return (await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))).PolicyDocument;
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
}

export async function createRole(
  iam: IAMClient,
  input: { roleName: string; trustPolicy: string; description: string; tags: Record<string, string> },
): Promise<Role | undefined> {
  const response = await iam.send(
    new CreateRoleCommand({
      RoleName: input.roleName,
      AssumeRolePolicyDocument: input.trustPolicy,
      Description: input.description,
      Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return response.Role;
}

export async function updateTrustPolicy(iam: IAMClient, roleName: string, trustPolicy: string): Promise<void> {
  await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: trustPolicy }));
}

/** Creates or replaces an inline policy. */
export async function putRolePolicy(iam: IAMClient, roleName: string, policyName: string, document: string): Promise<void> {
  await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: policyName, PolicyDocument: document }));
}

/** The role's other permissions: inline policy names and attached managed policy ARNs (every page). */
export async function listRolePermissions(iam: IAMClient, roleName: string): Promise<{ inline: string[]; managed: string[] }> {
  const inline: string[] = [];
  const managed: string[] = [];
  let marker: string | undefined;
  do {
    const page = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    inline.push(...(page.PolicyNames ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  do {
    const page = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker: marker }));
    managed.push(...(page.AttachedPolicies ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : [])));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return { inline, managed };
}

export async function detachManagedPolicy(iam: IAMClient, roleName: string, policyArn: string): Promise<void> {
  await ignoreMissing(iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })));
}

export async function deleteInlinePolicy(iam: IAMClient, roleName: string, policyName: string): Promise<void> {
  await ignoreMissing(iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })));
}

/**
 * Deletes the role after removing its inline policies and detaching managed ones (IAM refuses to delete a role
 * that still has any). False when the role was already gone.
 */
export async function deleteRoleCompletely(iam: IAMClient, roleName: string): Promise<boolean> {
  try {
    const { inline, managed } = await listRolePermissions(iam, roleName);
    for (const policyName of inline) await deleteInlinePolicy(iam, roleName, policyName);
    for (const policyArn of managed) await detachManagedPolicy(iam, roleName, policyArn);
    await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if (isNoSuchEntity(error)) return false;
    throw error;
  }
}

async function ignoreMissing(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
  }
}
