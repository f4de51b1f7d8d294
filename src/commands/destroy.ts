import { Command } from 'commander';
import { deleteTable } from '../aws/dynamodb.js';
import { deleteRoleCompletely } from '../aws/iam.js';
import { deleteFunction, deleteLayerVersion, listLayerVersions, removePermission } from '../aws/lambda.js';
import {
  deleteBucket,
  emptyBucket,
  getBucketSettings,
  getNotificationConfiguration,
  headBucket,
  putNotificationConfiguration,
} from '../aws/s3.js';
import { inquirerPrompter, loadStackSettings, type Prompter, type StackSettings } from '../config/settings.js';
import type { AppContext } from '../context.js';
import { ExitCode, UsageError, errorMessage } from '../errors.js';
import { explainError } from '../provision/runner.js';
import { ADOPTED_TAG, INVOKE_STATEMENT_ID, STACK_TAG, stackModel } from '../provision/stack.js';
import { desiredTrigger, isOurs, removeTrigger } from '../provision/trigger.js';
import { renderTable } from '../ui/output.js';
import { checkRegion, targetRegion } from './init.js';
import { action } from './shared.js';

export interface DestroyOptions {
  keepBuckets?: boolean | undefined;
  /** Asks for confirmation; default inquirer when the context may prompt. */
  prompter?: Prompter | undefined;
}

export interface DestroyedResource {
  resource: string;
  name: string;
  /** deleted: removed now; gone: was already absent; kept: left in place (and why, in detail). */
  outcome: 'deleted' | 'gone' | 'kept' | 'cancelled';
  detail: string;
}

export interface DestroyResult {
  exitCode: ExitCode;
  cancelled: boolean;
  settings: StackSettings;
  resources: DestroyedResource[];
  /** What destroy deliberately does not delete (the function's log group), one line each. */
  left: string[];
}

/**
 * Removes what `init` created, trigger first so nothing starts the function while it goes, each step
 * tolerant of what is already gone. Buckets are emptied (every version and delete marker) and deleted only
 * when tagged as this stack's, so a settings file pointing at someone else's bucket cannot empty it.
 */
export async function runDestroy(context: AppContext, options: DestroyOptions = {}): Promise<DestroyResult> {
  const settings = await loadStackSettings(context.settingsFile);
  const { output } = context;
  const clients = await context.clients();
  const identity = await context.identity();
  const region = await targetRegion(context);
  checkRegion(settings, region, context.settingsFile);
  const stack = stackModel(settings, identity, region);
  const buckets = [...new Set([settings.sourceBucket, settings.destBucket])];

  if (!context.yes) {
    const prompter = options.prompter ?? (context.canPrompt ? inquirerPrompter : undefined);
    if (!prompter) {
      throw new UsageError('destroy deletes resources and needs confirmation.', 'Run it at a terminal, or add --yes.');
    }
    const what = options.keepBuckets
      ? `the function, layer, role, table and trigger of stack "${settings.stackName}" (buckets kept)`
      : `stack "${settings.stackName}", including buckets ${buckets.join(' and ')} with every object in them`;
    if (!(await prompter.confirm(`Delete ${what}?`, false))) {
      output.info('Nothing was deleted.');
      return { exitCode: ExitCode.Ok, cancelled: true, settings, resources: [], left: [] };
    }
  }

  const resources: DestroyedResource[] = [];
  const step = async (resource: string, name: string, remove: (progress: (text: string) => void) => Promise<Omit<DestroyedResource, 'resource' | 'name'>>) => {
    const task = output.task(`${resource} ${name}: deleting`);
    try {
      const outcome = await remove((text) => { task.update(`${resource} ${name}: ${text}`); });
      resources.push({ resource, name, ...outcome });
      const line = `${resource} ${name}: ${outcome.outcome === 'deleted' ? 'deleted' : outcome.outcome === 'gone' ? 'already gone' : 'kept'}${outcome.detail ? ` (${outcome.detail})` : ''}`;
      if (outcome.outcome === 'deleted') task.succeed(line);
      else task.skip(line);
    } catch (caught) {
      const error = explainError(caught, resource);
      task.fail(`${resource} ${name}: ${errorMessage(error)}`);
      throw error;
    }
  };
  const { s3, lambda, iam, dynamodb } = clients;

  await step('Upload trigger', settings.sourceBucket, async () => {
    const current = await getNotificationConfiguration(s3, settings.sourceBucket);
    const ours = desiredTrigger({ id: stack.notificationId, functionArn: stack.functionArn });
    if (!current?.LambdaFunctionConfigurations?.some((entry) => isOurs(entry, ours))) return { outcome: 'gone', detail: '' };
    await putNotificationConfiguration(s3, settings.sourceBucket, removeTrigger(current, ours), { skipDestinationValidation: true });
    return { outcome: 'deleted', detail: 'other notifications kept' };
  });
  await step('Invoke permission', INVOKE_STATEMENT_ID, async () =>
    ({ outcome: (await removePermission(lambda, settings.functionName, INVOKE_STATEMENT_ID)) ? 'deleted' : 'gone', detail: '' }),
  );
  await step('Function', settings.functionName, async () =>
    ({ outcome: (await deleteFunction(lambda, settings.functionName)) ? 'deleted' : 'gone', detail: '' }),
  );
  await step('sharp layer', settings.layerName, async () => {
    const versions = await listLayerVersions(lambda, settings.layerName);
    for (const version of versions) if (version.Version !== undefined) await deleteLayerVersion(lambda, settings.layerName, version.Version);
    return versions.length > 0 ? { outcome: 'deleted', detail: `${versions.length} version${versions.length === 1 ? '' : 's'}` } : { outcome: 'gone', detail: '' };
  });
  await step('Function role', settings.roleName, async () =>
    ({ outcome: (await deleteRoleCompletely(iam, settings.roleName)) ? 'deleted' : 'gone', detail: '' }),
  );
  await step('Metadata table', settings.table, async (progress) => {
    progress('deleting and waiting until gone');
    return { outcome: (await deleteTable(dynamodb, settings.table)) ? 'deleted' : 'gone', detail: '' };
  });
  for (const bucket of buckets) {
    const resource = bucket === settings.sourceBucket ? 'Source bucket' : 'Destination bucket';
    if (options.keepBuckets) {
      resources.push({ resource, name: bucket, outcome: 'kept', detail: '--keep-buckets' });
      output.task(`${resource} ${bucket}`).skip(`${resource} ${bucket}: kept (--keep-buckets)`);
      continue;
    }
    await step(resource, bucket, async (progress) => {
      const presence = await headBucket(s3, bucket);
      if (presence.kind === 'absent') return { outcome: 'gone', detail: '' };
      if (presence.kind !== 'present') return { outcome: 'kept', detail: 'not accessible to these credentials' };
      const { tags } = await getBucketSettings(s3, bucket);
      if (tags[STACK_TAG] !== settings.stackName) {
        return { outcome: 'kept', detail: `not tagged ${STACK_TAG}=${settings.stackName}, so not emptied` };
      }
      if (tags[ADOPTED_TAG] === 'true') {
        return { outcome: 'kept', detail: 'it held objects before init adopted it, so it stays with them' };
      }
      progress('emptying');
      const deleted = await emptyBucket(s3, bucket, (n) => { progress(`emptying: ${n} deleted`); });
      await deleteBucket(s3, bucket);
      return { outcome: 'deleted', detail: deleted === 0 ? 'was empty' : `emptied first: ${deleted} object version${deleted === 1 ? '' : 's'} and delete marker${deleted === 1 ? '' : 's'}` };
    });
  }

  // Lambda itself creates the function's log group on first run (the role may create it); destroy leaves it,
  // with its logs, for whoever investigates later, and says so.
  const left = [`log group ${functionLogGroup(settings.functionName)}`];

  if (output.json) output.result({ stackName: settings.stackName, resources, left });
  else {
    output.info('');
    output.info(renderTable(['Resource', 'Name', 'Result', 'Detail'], resources.map((r) => [r.resource, r.name, r.outcome, r.detail])));
    output.info('');
    for (const item of left) output.info(`left: ${item} (its logs stay; \`aws logs delete-log-group\` removes it)`);
    output.success(`Stack "${settings.stackName}" is gone${options.keepBuckets ? ' (buckets kept)' : ''}. The settings file stays, so \`img-resizer init\` can bring it back.`);
  }
  return { exitCode: ExitCode.Ok, cancelled: false, settings, resources, left };
}

/** The CloudWatch Logs group Lambda writes the function's logs to. */
export function functionLogGroup(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

export function destroyCommand(): Command {
  return new Command('destroy')
    .description('remove what init created, trigger first (asks first on a terminal; --yes otherwise)')
    .option('--keep-buckets', 'keep both buckets and their objects')
    .action(
      action(async (context: AppContext, options: { keepBuckets?: boolean }) => {
        const result = await runDestroy(context, options);
        return result.exitCode;
      }),
    );
}
