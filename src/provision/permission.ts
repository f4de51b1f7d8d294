import {
  addInvokePermission,
  getPolicyStatements,
  removePermission,
  type InvokePermission,
  type PolicyStatement,
} from '../aws/lambda.js';
import { awsErrorName } from '../errors.js';
import { INVOKE_STATEMENT_ID } from './stack.js';
import { changesPlan, type Plan, type ProvisionContext, type Step } from './types.js';

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

/**
 * Observed: the function's policy statements, or undefined when the function does not exist yet.
 */
export function planPermission(desired: InvokePermission, observed: PolicyStatement[] | undefined): Plan {
  const ours = observed?.find((s) => s.Sid === desired.statementId);
  if (!ours) {
    return {
      action: 'create',
      reason: observed === undefined ? 'the function does not exist yet' : `statement ${desired.statementId} missing`,
      changes: [`allow ${desired.principal} from ${desired.sourceArn} (account ${desired.sourceAccount})`],
    };
  }
  const changes: string[] = [];
  if (ours.Effect !== undefined && ours.Effect !== 'Allow') changes.push(`effect ${ours.Effect} → Allow`);
  if (principalOf(ours) !== desired.principal) changes.push(`principal ${principalOf(ours) ?? 'none'} → ${desired.principal}`);
  if (actionsOf(ours) !== 'lambda:InvokeFunction') changes.push(`action ${actionsOf(ours)} → lambda:InvokeFunction`);
  const sourceArn = conditionValue(ours, 'ArnLike', 'AWS:SourceArn') ?? conditionValue(ours, 'ArnEquals', 'AWS:SourceArn');
  if (sourceArn !== desired.sourceArn) changes.push(`source ${sourceArn ?? 'any'} → ${desired.sourceArn}`);
  const account = conditionValue(ours, 'StringEquals', 'AWS:SourceAccount');
  if (account !== desired.sourceAccount) changes.push(`source account ${account ?? 'any'} → ${desired.sourceAccount}`);
  return changesPlan(changes, `S3 may invoke it, from ${desired.sourceArn} only`);
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

export const permissionStep: Step<PolicyStatement[] | undefined> = {
  id: 'permission',
  resource: 'Invoke permission',
  name: () => INVOKE_STATEMENT_ID,
  async observe(context) {
    // Skip the lookup when the function step just planned to create it (dry run): there is nothing to find.
    if (context.outputs.functionExists === false) return undefined;
    return getPolicyStatements(context.clients.lambda, context.stack.settings.functionName);
  },
  plan: (context, observed) => planPermission(desiredPermission(context), observed),
  async apply(context, _observed, plan, progress) {
    const desired = desiredPermission(context);
    const { lambda } = context.clients;
    if (plan.action === 'update') {
      progress('replacing');
      await removePermission(lambda, desired.functionName, desired.statementId);
    }
    try {
      await addInvokePermission(lambda, desired);
    } catch (error) {
      // Added meanwhile by another run: replace it, so it surely says what we want.
      if (awsErrorName(error) !== 'ResourceConflictException') throw error;
      await removePermission(lambda, desired.functionName, desired.statementId);
      await addInvokePermission(lambda, desired);
    }
  },
};
