import {
  addInvokePermission,
  getPolicyStatements,
  removePermission,
  type InvokePermission,
  type PolicyStatement,
} from '../aws/lambda.js';
import { awsErrorName } from '../errors.js';
import { INVOKE_STATEMENT_ID } from './stack.js';
import { noop, opsPlan, type Plan, type ProvisionContext, type Step } from './types.js';

export const S3_PRINCIPAL = 's3.amazonaws.com';

/** Condition values by key, case-insensitively (IAM keys are case-insensitive; services vary in casing). */
function conditionValue(statement: PolicyStatement, operator: string, key: string): string | undefined {
  const block = statement.Condition?.[operator];
  if (!block) return undefined;
  const entry = Object.entries(block).find(([k]) => k.toLowerCase() === key.toLowerCase());
  const value = entry?.[1];
  return Array.isArray(value) ? value.join(',') : value;
}

function principalOf(statement: PolicyStatement): string | undefined {
  const { Principal } = statement;
  if (typeof Principal === 'string') return Principal;
  const service = Principal?.Service;
  return Array.isArray(service) ? service.join(',') : service;
}

function actionsOf(statement: PolicyStatement): string {
  return [statement.Action ?? []].flat().join(',');
}

export type PermissionField = 'effect' | 'principal' | 'action' | 'source' | 'source account';

export type PermissionOp =
  | { kind: 'add-permission'; principal: string; sourceArn: string; sourceAccount: string }
  /** RemovePermission then AddPermission: Lambda has no update for a statement. */
  | { kind: 'replace-permission'; changes: { field: PermissionField; from: string; to: string }[] };

export interface PermissionRemovalOp { kind: 'remove-permission'; statementId: string }

/**
 * Observed: the function's policy statements, or undefined when the function does not exist yet.
 */
export function planPermission(desired: InvokePermission, observed: PolicyStatement[] | undefined): Plan<PermissionOp> {
  const ours = observed?.find((s) => s.Sid === desired.statementId);
  if (!ours) {
    return {
      action: 'create',
      reason: observed === undefined ? 'the function does not exist yet' : `statement ${desired.statementId} missing`,
      ops: [{ kind: 'add-permission', principal: desired.principal, sourceArn: desired.sourceArn, sourceAccount: desired.sourceAccount }],
    };
  }
  const changes: { field: PermissionField; from: string; to: string }[] = [];
  if (ours.Effect !== undefined && ours.Effect !== 'Allow') changes.push({ field: 'effect', from: ours.Effect, to: 'Allow' });
  if (principalOf(ours) !== desired.principal) changes.push({ field: 'principal', from: principalOf(ours) ?? 'none', to: desired.principal });
  if (actionsOf(ours) !== 'lambda:InvokeFunction') changes.push({ field: 'action', from: actionsOf(ours), to: 'lambda:InvokeFunction' });
  const sourceArn = conditionValue(ours, 'ArnLike', 'AWS:SourceArn') ?? conditionValue(ours, 'ArnEquals', 'AWS:SourceArn');
  if (sourceArn !== desired.sourceArn) changes.push({ field: 'source', from: sourceArn ?? 'any', to: desired.sourceArn });
  const account = conditionValue(ours, 'StringEquals', 'AWS:SourceAccount');
  if (account !== desired.sourceAccount) changes.push({ field: 'source account', from: account ?? 'any', to: desired.sourceAccount });
  return opsPlan(changes.length > 0 ? [{ kind: 'replace-permission', changes }] : [], `S3 may invoke it, from ${desired.sourceArn} only`);
}

export function desiredPermission(context: ProvisionContext): InvokePermission {
  return {
    functionName: context.stack.settings.functionName,
    statementId: INVOKE_STATEMENT_ID,
    principal: S3_PRINCIPAL,
    sourceArn: context.stack.sourceBucketArn,
    sourceAccount: context.stack.account,
  };
}

export const permissionStep: Step<PolicyStatement[] | undefined, PermissionOp> = {
  id: 'permission',
  resource: 'Invoke permission',
  name: () => INVOKE_STATEMENT_ID,
  async observe(context, inputs) {
    // Skip the lookup when the function step just planned to create it (dry run): there is nothing to find.
    if (inputs.functionExists === false) return undefined;
    return getPolicyStatements(context.clients.lambda, context.stack.settings.functionName);
  },
  plan: (context, observed) => planPermission(desiredPermission(context), observed),
  async apply(context, _observed, plan, _inputs, progress) {
    const desired = desiredPermission(context);
    const { lambda } = context.clients;
    for (const op of plan.ops) {
      switch (op.kind) {
        case 'replace-permission':
          progress('replacing');
          await removePermission(lambda, desired.functionName, desired.statementId);
          await addOrReplace(lambda, desired);
          break;
        case 'add-permission':
          await addOrReplace(lambda, desired);
          break;
      }
    }
    return undefined;
  },
};

async function addOrReplace(lambda: Parameters<typeof addInvokePermission>[0], desired: InvokePermission): Promise<void> {
  try {
    await addInvokePermission(lambda, desired);
  } catch (error) {
    // Added meanwhile by another run: replace it, so it surely says what we want.
    if (awsErrorName(error) !== 'ResourceConflictException') throw error;
    await removePermission(lambda, desired.functionName, desired.statementId);
    await addInvokePermission(lambda, desired);
  }
}

export const permissionRemovalStep: Step<PolicyStatement[] | undefined, PermissionRemovalOp> = {
  id: 'permission',
  resource: 'Invoke permission',
  name: () => INVOKE_STATEMENT_ID,
  observe: (context) => getPolicyStatements(context.clients.lambda, context.stack.settings.functionName),
  plan: (_context, observed): Plan<PermissionRemovalOp> =>
    observed?.some((s) => s.Sid === INVOKE_STATEMENT_ID)
      ? { action: 'delete', reason: 'made by this stack', ops: [{ kind: 'remove-permission', statementId: INVOKE_STATEMENT_ID }] }
      : noop('already gone'),
  async apply(context, _observed, plan) {
    for (const op of plan.ops) await removePermission(context.clients.lambda, context.stack.settings.functionName, op.statementId);
    return undefined;
  },
};
