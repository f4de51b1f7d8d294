/**
 * How init, status and destroy look to people: each planned op rendered as text (pure functions, so the words
 * can change without changing what apply does), the spinner lines while steps run, and the summary tables.
 */
import { errorMessage } from '../errors.js';
import type { DestroyResult } from '../operations/destroy.js';
import type { InitEvent, InitResult } from '../operations/init.js';
import type { StatusResult } from '../operations/status.js';
import type { RecentExecutions } from '../operations/executions.js';
import type { RunEvent } from '../provision/runner.js';
import type { FunctionConfigChange } from '../provision/function.js';
import type { ProvisionOp } from '../provision/steps.js';
import type { StepResult } from '../provision/types.js';
import type { Output, TaskReporter } from './output.js';
import { renderTable, type TableOptions } from './table.js';
import { workflowModeFor } from '../config/stack-settings.js';

function configChangeLine(change: FunctionConfigChange): string {
  switch (change.field) {
    case 'runtime':
    case 'handler':
    case 'role':
      return `${change.field} ${change.from ?? 'none'} → ${change.to}`;
    case 'memory':
      return `memory ${change.from ?? '?'} → ${change.to} MB`;
    case 'timeout':
      return `timeout ${change.from ?? '?'} → ${change.to} s`;
    case 'layers':
      return `layers ${change.from.join(', ') || 'none'} → ${change.to.join(', ')}`;
    case 'logging':
      return `logging ${change.from} → ${change.to}`;
    case 'environment':
      return `environment ${change.variables.map((v) => v.name).join(', ')}`;
  }
}

/** One op as short lines for the plan and summary (most ops are one line; a configuration update, one per field). */
export function describeOp(op: ProvisionOp): string[] {
  switch (op.kind) {
    // HTTP API (issue 14); its access-log group shares the log-group ops below
    case 'create-http-api':
      return [`${op.auth === 'JWT' ? 'JWT' : 'IAM'} auth${op.publicReads ? ', public reads' : ''}`, op.cors === undefined ? 'CORS off' : `CORS for ${op.cors}`];
    case 'set-cors':
      return [`CORS ${op.from ?? 'off'} → ${op.to ?? 'off'}`];
    case 'put-integration':
      return [`${op.missing ? 'add' : 'fix'} Lambda proxy integration (payload 2.0) to ${op.functionArn}`];
    case 'put-authorizer':
      return [`${op.missing ? 'add' : 'fix'} JWT authorizer: issuer ${op.issuer}, audience ${op.audience}`];
    case 'delete-authorizer':
      return ['remove the JWT authorizer (IAM auth now)'];
    case 'put-route':
      return [`${op.missing ? 'add' : 'fix'} route ${op.routeKey} (auth ${op.authorization})`];
    case 'put-stage':
      return [op.missing ? 'add stage $default: throttling, access logs, auto-deploy' : `stage $default: ${op.changes.join(', ')}`];
    case 'delete-http-api':
      return ['delete the API with its routes, integration and stage'];
    // buckets
    case 'create-bucket':
      return [`create in ${op.region}`];
    case 'block-public-access':
      return ['turn on all four Block Public Access settings'];
    case 'encrypt-by-default':
      return ['turn on default encryption (SSE-S3)'];
    case 'enforce-bucket-owner':
      return [`object ownership ${op.from ?? 'unset'} → BucketOwnerEnforced`];
    case 'tag-bucket':
      return [`tag ${op.key}=${op.value}`];
    case 'adopt-bucket':
      return ['adopt: it already holds objects, so destroy will keep it'];
    case 'empty-bucket':
      return ['empty it: every object version and delete marker'];
    case 'delete-bucket':
      return ['delete the bucket'];
    case 'restore-bucket-settings':
      return [`keep it, put back what init changed (${op.previous}) and remove the stack's tags`];
    // table
    case 'create-table':
      return [`on-demand, hash key ${op.hashKey} (S)`];
    case 'wait-until-active':
      return [`status ${op.status}: wait until ACTIVE`];
    case 'switch-to-on-demand':
      return [`billing ${op.from} → on-demand`];
    case 'delete-table':
      return ['delete the table and its items'];
    // role
    case 'create-role':
      return ['trust lambda.amazonaws.com only', `inline policy ${op.policyName}`];
    case 'update-trust-policy':
      return ['trust policy differs: lambda.amazonaws.com only'];
    case 'put-inline-policy':
      return [op.missing ? `inline policy ${op.policyName} missing` : `inline policy ${op.policyName}: ${op.differences.join(', ')}`];
    case 'detach-managed-policy':
      return [`detach managed policy ${op.policyArn}`];
    case 'delete-inline-policy':
      return [`delete inline policy ${op.policyName}`];
    case 'delete-role':
      return ['delete the role and its policies'];
    // layer
    case 'publish-layer-version':
      return [op.version === undefined ? 'publish a first version' : `publish version ${op.version}`];
    case 'delete-layer-versions':
      return [`delete ${op.versions.length} version${op.versions.length === 1 ? '' : 's'}`];
    // function
    case 'create-function':
      return [`${op.runtime}, ${op.architecture}, ${op.memory} MB, ${op.timeout} s`];
    case 'update-code':
      return ['code changed'];
    case 'change-architecture':
      return [`architecture ${op.from} → ${op.to}`];
    case 'update-config':
      return op.changes.map(configChangeLine);
    case 'redeploy-failed':
      return [`state Failed (${op.stateReason}): redeploy`];
    case 'delete-function':
      return ['delete the function'];
    // permission
    case 'add-permission':
      return [`allow ${op.principal} from ${op.sourceArn} (account ${op.sourceAccount})`];
    case 'replace-permission':
      return op.changes.map((c) => `${c.field} ${c.from} → ${c.to}`);
    case 'remove-permission':
      return [`remove statement ${op.statementId}`];
    // trigger
    case 'add-trigger':
      return [`${(op.events ?? ['s3:ObjectCreated:*']).map((e) => e.replace(/^s3:/, '').replace(/:\*$/, '')).join(' + ')} → ${op.functionArn}`];
    case 'replace-trigger':
      return op.changes.map((c) => `${c.field} ${c.from} → ${c.to}`);
    case 'keep-one-trigger':
      return [`${op.count} entries target the function; keep one`];
    case 'remove-trigger':
      return [`remove entry ${op.id}, keep other notifications`];
    // outcomes topic
    case 'create-topic':
      return [`create, encrypted with ${op.kmsKey}`];
    case 'encrypt-topic':
      return [`encryption ${op.from ?? 'none'} → ${op.to}`];
    case 'delete-topic':
      return [op.reason === 'notifications-off' ? 'delete: notifications are off' : 'delete the topic and its subscriptions'];
    // notify targets
    case 'subscribe':
      return [`subscribe ${op.protocol} ${op.endpoint}${op.filterPolicy ? ` filtered ${op.filterPolicy}` : ''}`, ...(op.grantNeeded ? [`then ${op.grantNeeded}`] : [])];
    case 'set-filter-policy':
      return [`${op.endpoint}: filter ${op.from ?? 'none'} → ${op.to ?? 'none'}`];
    // failed-events queue
    case 'create-queue':
      return [`create, encrypted (SSE-SQS), keeps messages ${Math.round(op.retentionSeconds / 86_400)} days`];
    case 'set-queue-attributes':
      return op.changes.map((c) =>
        c.name === 'Policy'
          ? c.to === ''
            ? "remove the upload rule's dead-letter grant (workflow mode is off)"
            : 'let EventBridge send the upload rule\'s dead letters (policy for that one rule)'
          : `${c.name} ${c.from ?? 'unset'} → ${c.to}`,
      );
    case 'delete-queue':
      return [op.messages > 0 ? `delete the queue and the ${op.messages} failed event${op.messages === 1 ? '' : 's'} in it` : 'delete the queue'];
    // backfill queue and its mapping (issue 18)
    case 'create-backfill-queue':
      return [`create, encrypted (SSE-SQS), visibility ${op.visibilitySeconds} s, after ${op.maxReceiveCount} receives to the failed-events queue`];
    case 'set-backfill-queue-attributes':
      return op.changes.map((c) => `${c.name} ${c.from ?? 'unset'} → ${c.to}`);
    case 'delete-backfill-queue':
      return [op.messages > 0 ? `delete the queue and the ${op.messages} event${op.messages === 1 ? '' : 's'} waiting in it` : 'delete the queue'];
    case 'create-queue-mapping':
      return [`create: batches of ${op.batchSize}, at most ${op.maximumConcurrency} at once, partial batch failures reported`];
    case 'update-queue-mapping':
      return op.changes.map((c) => `${c.field} ${c.from} → ${c.to}`);
    case 'delete-extra-queue-mapping':
      return [`delete extra mapping ${op.uuid}`];
    case 'delete-queue-mapping':
      return [`delete mapping ${op.uuid}`];
    // log groups (the function's, the HTTP API's access logs, the workflow's execution logs)
    case 'create-log-group':
      return [`create, keeps logs ${op.retentionDays} days`];
    case 'set-log-retention':
      return [`retention ${op.from === undefined ? 'never expire' : `${op.from} days`} → ${op.to} days`];
    case 'delete-log-group':
      return ['delete the log group and its logs'];
    // async invoke
    case 'put-async-invoke-config':
      return [`${op.maximumRetryAttempts} retries, events up to ${op.maximumEventAgeSeconds} s old, then ${op.onFailureArn}`];
    case 'update-async-invoke-config':
      return op.changes.map((c) => `${c.field} ${c.from} → ${c.to}`);
    // table recovery
    case 'set-point-in-time-recovery':
      return [op.enabled ? 'turn on point-in-time recovery' : 'turn off point-in-time recovery'];
    // CDN
    case 'create-oac':
      return [`create origin access control ${op.name} (SigV4, always sign)`];
    case 'create-distribution':
      return [`create distribution: origin ${op.origin}, ${op.priceClass}${op.aliases.length > 0 ? `, aliases ${op.aliases.join(', ')}` : ''}, HTTPS redirect, HTTP/2+3, compression`];
    case 'update-distribution':
      return op.changes.length === 0 ? ['update distribution (attach origin access control)'] : op.changes.map((c) => `${c.field} ${c.from} → ${c.to}`);
    case 'wait-cdn-deployed':
      return [`wait until Deployed (now ${op.status}; minutes on AWS)`];
    case 'disable-distribution':
      return [`disable distribution ${op.id}`];
    case 'delete-distribution':
      return [`delete distribution ${op.id}`];
    case 'delete-oac':
      return [`delete origin access control ${op.id}`];
    // bucket policies
    case 'add-policy-statement':
      return [`add statement ${op.sid}`];
    case 'replace-policy-statement':
      return [`replace statement ${op.sid}`];
    case 'remove-policy-statement':
      return [`remove statement ${op.sid}, keep others`];
    case 'delete-bucket-policy':
      return ['delete the policy (no statements left)'];
    // workflow mode (state machine, rule, bucket delivery to EventBridge)
    case 'create-state-machine':
      return [`create (${op.type})`];
    case 'update-state-machine':
      return [`update ${op.fields.join(' and ')}`];
    case 'replace-state-machine':
      return [`type ${op.from} → ${op.to}: delete and create again`];
    case 'delete-state-machine':
      return ['delete the state machine'];
    case 'put-rule':
      return [op.why === 'missing' ? 'create the rule (Object Created in the source bucket)' : op.why === 'pattern' ? 'rewrite the event pattern' : 'enable the rule'];
    case 'put-rule-target':
      return [`target → ${op.stateMachineArn}, with retries and dead letters → ${op.deadLetterQueueArn}`];
    case 'delete-rule':
      return ['remove the targets and the rule'];
    case 'enable-eventbridge-delivery':
      return [`send ${op.bucket}'s events to EventBridge, keep other notifications`];
  }
}

/** Old and new values behind an op's short line, where the line alone does not show them. */
export function describeOpDetails(op: ProvisionOp): string[] {
  if (op.kind === 'update-code') return [`code ${op.from ?? 'none'} → ${op.to}`];
  if (op.kind !== 'update-config') return [];
  return op.changes.flatMap((change) =>
    change.field === 'environment' ? change.variables.map((v) => `environment ${v.name}: ${v.from ?? '(unset)'} → ${v.to ?? '(unset)'}`) : [],
  );
}

/** The function's variables that decide what an image becomes: changing them leaves earlier outputs as they were. */
const OUTPUT_SHAPING = new Set(['SIZES', 'OUTPUT_FORMAT', 'FIT', 'OUTPUT_QUALITY', 'ALLOW_UPSCALE', 'BACKGROUND']);

/** Whether a plan changes the sizes, format or fit of a function that already ran. */
export function changesOutputs(steps: readonly StepResult<ProvisionOp>[]): boolean {
  return steps.some((step) =>
    step.ops.some((op) => op.kind === 'update-config' && op.changes.some((c) => c.field === 'environment' && c.variables.some((v) => OUTPUT_SHAPING.has(v.name)))),
  );
}

export const REPROCESS_NOTE =
  'Images already processed keep their old outputs (sizes, format, fit, quality, upscaling, background); `img-resizer backfill --force` redoes them.';

type Mode = 'deploy' | 'remove';

function detailOf(result: StepResult): string {
  if (result.action === 'no-op' || result.status === 'failed' || result.status === 'blocked') return result.reason;
  return result.changes.length > 0 ? result.changes.join('; ') : result.reason;
}

function doneVerb(action: StepResult['action']): string {
  return action === 'create' ? 'created' : action === 'delete' ? 'deleted' : 'updated';
}

/** One step's outcome in a line, as the spinner ends. */
export function describeOutcome(result: StepResult, mode: Mode = 'deploy'): string {
  switch (result.status) {
    case 'applied':
      if (result.action === 'delete') return result.detail ? `deleted (${result.detail})` : 'deleted';
      return `${doneVerb(result.action)} (${detailOf(result)})`;
    case 'planned':
      return `will ${result.action} (${detailOf(result)})`;
    case 'unchanged':
      if (mode === 'remove') return result.kept ? `kept (${result.reason})` : 'already gone';
      return `up to date (${result.reason})`;
    case 'blocked':
      return `blocked: ${result.reason}`;
    case 'failed':
      return `failed: ${result.reason}`;
  }
}

/** The summary table at the end of a run. */
export function summaryTable(results: readonly StepResult[], mode: Mode = 'deploy', table: TableOptions = {}): string {
  const verb = (r: StepResult): string => {
    if (r.status === 'failed' || r.status === 'blocked') return r.status;
    if (r.action === 'no-op') return mode === 'remove' ? (r.kept ? 'kept' : 'already gone') : 'up to date';
    if (r.status === 'planned') return `will ${r.action}`;
    return doneVerb(r.action);
  };
  const detail = (r: StepResult): string => (r.status === 'applied' && r.detail ? r.detail : detailOf(r));
  return renderTable(
    ['Resource', 'Name', 'Action', 'Detail'],
    results.map((r) => [r.resource, r.name, verb(r), detail(r)]),
    { ...table, shrink: RESOURCE_TABLE_SHRINK },
  );
}

/** Narrowed first: the detail, then the name (resource and state/action are short and always read). */
const RESOURCE_TABLE_SHRINK = [3, 1];

/** A spinner per step, driven by the runner's events. */
export function stepReporter(output: Output, mode: Mode = 'deploy'): (event: InitEvent | RunEvent) => void {
  const tasks = new Map<string, TaskReporter>();
  const applying = { create: 'creating', update: 'updating', delete: 'deleting', 'no-op': 'checking', blocked: 'checking' } as const;
  // The step under way and its spinner text: Ctrl-C is said on that line, so no other line cuts into the spinner.
  let current: { id: string; text: string } | undefined;
  let stopping = false;
  const STOPPING = ' (Ctrl-C: stopping after this step; press again to quit now)';
  const update = (id: string, text: string): void => {
    current = { id, text };
    tasks.get(id)?.update(stopping ? `${text}${STOPPING}` : text);
  };
  return (event) => {
    switch (event.type) {
      case 'settings-written':
        output.note(`Settings written to ${event.file}`);
        return;
      case 'interrupted':
        stopping = true;
        if (output.interactive && current) update(current.id, current.text);
        else output.warn(`Interrupted: stopping after the current step (Ctrl-C again to quit now).`);
        return;
      case 'started':
        tasks.set(event.id, output.task(`${event.label}: checking`));
        update(event.id, `${event.label}: checking`);
        return;
      case 'applying':
        update(event.id, `${event.label}: ${applying[event.action]}`);
        return;
      case 'progress':
        update(event.id, `${event.label}: ${event.text}`);
        return;
      case 'not-applied':
        current = undefined;
        tasks.get(event.id)?.skip(`${event.label}: not applied (interrupted)`);
        return;
      case 'finished': {
        current = undefined;
        const line = `${event.label}: ${describeOutcome(event.result, mode)}`;
        if (event.result.status === 'applied') tasks.get(event.id)?.succeed(line);
        else if (event.result.status === 'blocked') tasks.get(event.id)?.fail(line);
        else tasks.get(event.id)?.skip(line);
        return;
      }
      case 'failed':
        current = undefined;
        tasks.get(event.id)?.fail(`${event.label}: ${errorMessage(event.error)}`);
        return;
    }
  };
}

/** Old and new values of the plan's changes, one indented line each, under the table. */
function printDetails(output: Output, steps: readonly StepResult<ProvisionOp>[]): void {
  const lines = steps.flatMap((step) => step.ops.flatMap(describeOpDetails).map((line) => `  ${step.resource}: ${line}`));
  if (lines.length === 0) return;
  output.info('Changes in detail:');
  for (const line of lines) output.info(line);
  output.info('');
}

/** Interactive init: the plan, before the question whether to apply it. */
export function renderPlan(output: Output, steps: readonly StepResult<ProvisionOp>[]): void {
  output.info('');
  output.info(summaryTable(steps, 'deploy', { width: output.tableWidth }));
  output.info('');
  printDetails(output, steps);
  if (changesOutputs(steps)) output.warn(REPROCESS_NOTE);
}

export function renderInit(output: Output, result: InitResult): void {
  const { settings } = result;
  if (output.json) {
    output.result({
      dryRun: result.dryRun, upToDate: result.upToDate, outcome: result.outcome, settingsFile: result.settingsFile, settings, steps: result.steps,
      ...(result.outcome === 'interrupted' ? { notApplied: result.notApplied } : {}),
      ...(result.warnings?.length ? { warnings: result.warnings } : {}),
    });
    return;
  }
  for (const warning of result.warnings ?? []) output.warn(`${warning.message} ${warning.suggestion}`);
  if (result.outcome === 'cancelled') {
    output.info('Nothing was changed.');
    return;
  }
  if (result.outcome === 'interrupted') {
    renderInterruptedInit(output, result);
    return;
  }
  output.info('');
  output.info(summaryTable(result.steps, 'deploy', { width: output.tableWidth }));
  output.info('');
  if (result.outcome !== 'up-to-date') printDetails(output, result.steps);
  if (changesOutputs(result.steps)) output.warn(REPROCESS_NOTE);
  switch (result.outcome) {
    case 'up-to-date':
      output.success('Everything is up to date; nothing changed.');
      return;
    case 'blocked':
      output.warn('Dry run: nothing was changed, and a real run would stop at the blocked step above; resolve it first.');
      return;
    case 'planned':
      output.info('Dry run: nothing was changed. Run without --dry-run to apply this plan.');
      return;
    case 'applied': {
      const where = settings.prefix ? `s3://${settings.sourceBucket}/${settings.prefix}` : `s3://${settings.sourceBucket}/`;
      output.success(`Stack "${settings.stackName}" is ready: images uploaded to ${where} are resized into s3://${settings.destBucket}/.`);
      output.info(`Try it: ${result.commandLine} upload <image> --wait`);
    }
  }
}

/** Workflow mode's line under the links: the last executions' outcomes and the newest failure. */
export function describeRecentExecutions(recent: RecentExecutions): string {
  if (recent.unavailable !== undefined) return `Last executions: not listed (${recent.unavailable}).`;
  if (recent.checked === 0) return 'Last executions: none yet.';
  const outcomes = Object.entries(recent.outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  const failure = recent.lastFailure;
  const newest = failure
    ? `; newest failure ${failure.startedAt ?? ''} ${failure.object ?? failure.name}: ${failure.error ?? 'no error recorded'} (\`img-resizer executions --failed\`)`
    : '';
  return `Last ${recent.checked} execution${recent.checked === 1 ? '' : 's'}: ${outcomes}${newest}.`;
}

/** Ctrl-C stopped init between steps: what was done, what was not, and that init finishes it. */
function renderInterruptedInit(output: Output, result: InitResult): void {
  const applied = result.steps.filter((s) => s.status === 'applied').length;
  output.info('');
  if (result.steps.length > 0) {
    output.info('Done before the interrupt:');
    output.info(summaryTable(result.steps, 'deploy', { width: output.tableWidth }));
    output.info('');
  }
  output.info('Not applied:');
  output.info(renderTable(['Resource', 'Name'], (result.notApplied ?? []).map((s) => [s.resource, s.name]), { width: output.tableWidth }));
  output.info('');
  output.warn(
    `Interrupted: ${applied} step${applied === 1 ? '' : 's'} applied, ${result.notApplied?.length ?? 0} not. ` +
      `The stack is incomplete; run \`${result.commandLine} init\` again to finish it (it continues where this run stopped).`,
  );
}

export function renderStatus(output: Output, result: StatusResult): void {
  const { settings, resources, links } = result;
  if (output.json) {
    output.result({
      ok: result.ok,
      state: result.state,
      stackName: settings.stackName,
      orchestration: settings.orchestration ?? 'direct',
      resources,
      links,
      runtimeWarnings: result.runtimeWarnings,
      ...(result.recentExecutions ? { recentExecutions: result.recentExecutions } : {}),
    });
    return;
  }
  if (result.state === 'not-deployed') {
    // Every row would say MISSING: one line says it better.
    output.warn(`Stack "${settings.stackName}" is not deployed: none of its resources exist. \`img-resizer init\` creates it.`);
    return;
  }
  const state = (r: StepResult): string =>
    r.status === 'failed' ? 'ERROR' : r.status === 'blocked' ? 'BLOCKED' : r.action === 'no-op' ? 'OK' : r.action === 'create' ? 'MISSING' : 'DIFFERS';
  if (workflowModeFor(settings)) output.info(`Orchestration: stepfunctions (${settings.stateMachineType ?? 'express'}); \`img-resizer executions\` lists recent runs.\n`);
  output.info(renderTable(['Resource', 'Name', 'State', 'Detail'], resources.map((r) => [r.resource, r.name, state(r), detailOf(r)]), { width: output.tableWidth, shrink: RESOURCE_TABLE_SHRINK }));
  output.info('');
  output.info(renderTable(['Link', 'State', 'Detail'], links.map((l) => [l.link, l.ok ? 'OK' : 'DRIFT', l.detail]), { width: output.tableWidth, shrink: [2, 0] }));
  output.info('');
  if (result.recentExecutions) {
    output.info(describeRecentExecutions(result.recentExecutions));
    output.info('');
  }
  // Before the verdict: a deprecation is worth acting on even when everything else is as the settings say.
  for (const w of result.runtimeWarnings) output.warn(`${w.functionName}: ${w.message}\n  ${w.suggestion} (source: ${w.source})`);
  switch (result.state) {
    case 'ok':
      output.success(`Stack "${settings.stackName}" is as the settings say.`);
      return;
    case 'drifted':
      output.warn(`Stack "${settings.stackName}" has drifted from its settings; \`img-resizer init\` converges it.`);
  }
}

export function renderDestroy(output: Output, result: DestroyResult): void {
  const { settings } = result;
  if (result.cancelled) {
    if (output.json) output.result({ stackName: settings.stackName, cancelled: true, resources: [], steps: [], left: [] });
    else output.info('Nothing was deleted.');
    return;
  }
  if (output.json) {
    output.result({ stackName: settings.stackName, dryRun: result.dryRun, resources: result.resources, steps: result.steps, left: result.left });
    return;
  }
  const outcome = (r: DestroyResult['resources'][number]): string => (r.outcome === 'planned' ? 'will delete' : r.outcome);
  output.info('');
  output.info(renderTable(['Resource', 'Name', 'Result', 'Detail'], result.resources.map((r) => [r.resource, r.name, outcome(r), r.detail]), { width: output.tableWidth, shrink: RESOURCE_TABLE_SHRINK }));
  output.info('');
  for (const item of result.left) output.info(`left: ${item} (its logs stay; \`aws logs delete-log-group\` removes it)`);
  if (result.dryRun) {
    output.info('Dry run: nothing was deleted. Run without --dry-run to remove what is marked "will delete".');
    return;
  }
  output.success(`Stack "${settings.stackName}" is gone${result.keepBuckets ? ' (buckets kept)' : ''}. The settings file stays, so \`img-resizer init\` can bring it back.`);
}
