import { CliError } from '../errors.js';
import { loadTemplate, renderTemplate, type Json } from './templates.js';

export const STATE_MACHINE_TEMPLATE = 'state-machine.asl.json';

/** What the definition refers to. The optional parts add their states only when present. */
export interface StateMachineDefinitionInput {
  stackName: string;
  partition: string;
  functionArn: string;
  table: string;
  /** The stack's notification topic: adds the Notify state (sns:publish). */
  topicArn?: string | undefined;
  /** The stack's dead-letter queue: unexpected errors are sent there before the execution fails. */
  deadLetterQueueUrl?: string | undefined;
}

/** Service errors worth retrying on the Record state's direct DynamoDB integration. */
const RECORD_RETRY: Json = [
  {
    ErrorEquals: [
      'DynamoDB.ProvisionedThroughputExceededException',
      'DynamoDB.ThrottlingException',
      'DynamoDB.RequestLimitExceeded',
      'DynamoDB.InternalServerErrorException',
      'DynamoDB.SdkClientException',
    ],
    IntervalSeconds: 1,
    MaxAttempts: 6,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

/**
 * Renders the state machine from templates/state-machine.asl.json. States that need a resource the stack does not
 * have (Notify without a topic, DeadLetter without a queue) become unreachable and are dropped, so the template
 * stays one readable document.
 */
export function renderStateMachineDefinition(input: StateMachineDefinitionInput): Record<string, Json> {
  const onError = input.deadLetterQueueUrl === undefined ? 'Failed' : 'DeadLetter';
  const rendered = renderTemplate(loadTemplate(STATE_MACHINE_TEMPLATE), {
    stackName: input.stackName,
    partition: input.partition,
    functionArn: input.functionArn,
    table: input.table,
    topicArn: input.topicArn ?? 'unused',
    deadLetterQueueUrl: input.deadLetterQueueUrl ?? 'unused',
    onError,
    afterRecord: input.topicArn === undefined ? 'Outcome' : 'Notify',
    recordRetry: RECORD_RETRY,
    recordCatch: [
      { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.superseded', Next: 'Superseded' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: onError },
    ],
  }) as Record<string, Json>;
  const definition = dropUnreachableStates(rendered);
  const problems = validateStateMachineDefinition(definition);
  if (problems.length > 0) {
    throw new CliError('STATE_MACHINE_INVALID', `The rendered state machine definition is invalid: ${problems.join('; ')}.`, {
      suggestion: `Check templates/${STATE_MACHINE_TEMPLATE} (a local edit?) or reinstall img-resizer.`,
    });
  }
  return definition;
}

function isRecord(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every state name a state can go to next (Next, Default, each Choice's and Catch's Next). */
export function transitionsOf(state: Record<string, Json>): string[] {
  const targets: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
  };
  add(state.Next);
  add(state.Default);
  for (const list of [state.Choices, state.Catch]) {
    if (Array.isArray(list)) for (const entry of list) if (isRecord(entry)) add(entry.Next);
  }
  return targets;
}

function dropUnreachableStates(definition: Record<string, Json>): Record<string, Json> {
  const states = isRecord(definition.States) ? definition.States : {};
  const reachable = new Set<string>();
  const queue = typeof definition.StartAt === 'string' ? [definition.StartAt] : [];
  while (queue.length > 0) {
    const name = queue.shift();
    if (name === undefined || reachable.has(name)) continue;
    reachable.add(name);
    const state = states[name];
    if (isRecord(state)) queue.push(...transitionsOf(state));
  }
  return { ...definition, States: Object.fromEntries(Object.entries(states).filter(([name]) => reachable.has(name))) };
}

const TERMINAL_TYPES = new Set(['Succeed', 'Fail']);
const STATE_TYPES = new Set(['Task', 'Choice', 'Pass', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map']);
const ARN = /^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12})?:.+$/;
const INTEGRATION = /^arn:aws[\w-]*:states:::[\w-]+:\w+(\.sync|\.waitForTaskToken)?$/;

/**
 * Structural checks before apply (Step Functions validates too, but only once the role and everything else
 * exist): states and their types, every transition leads to a state, every non-terminal state has Next or End,
 * every Task names an integration, the resources they act on are ARNs (or the queue's URL), and no placeholder
 * is left. Returns the problems found, empty when none.
 */
export function validateStateMachineDefinition(definition: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(definition)) return ['the definition is not a JSON object'];
  const text = JSON.stringify(definition);
  const placeholder = /\$\{\w+\}/.exec(text);
  if (placeholder) problems.push(`placeholder ${placeholder[0]} was not rendered`);
  const states = definition.States;
  if (!isRecord(states) || Object.keys(states).length === 0) return [...problems, 'no States'];
  if (typeof definition.StartAt !== 'string' || !(definition.StartAt in states)) problems.push(`StartAt ${JSON.stringify(definition.StartAt)} is not a state`);
  for (const [name, state] of Object.entries(states)) {
    if (!isRecord(state)) {
      problems.push(`state ${name} is not an object`);
      continue;
    }
    const type = state.Type;
    if (typeof type !== 'string' || !STATE_TYPES.has(type)) problems.push(`state ${name} has no valid Type`);
    for (const target of transitionsOf(state)) if (!(target in states)) problems.push(`state ${name} goes to ${target}, which does not exist`);
    const terminal = (typeof type === 'string' && TERMINAL_TYPES.has(type)) || type === 'Choice' || state.End === true;
    if (!terminal && typeof state.Next !== 'string') problems.push(`state ${name} has neither Next nor End`);
    if (type === 'Choice' && (!Array.isArray(state.Choices) || state.Choices.length === 0)) problems.push(`choice ${name} has no Choices`);
    if (type === 'Task') {
      if (typeof state.Resource !== 'string' || !INTEGRATION.test(state.Resource)) problems.push(`task ${name} has no service integration Resource`);
      const parameters = isRecord(state.Parameters) ? state.Parameters : {};
      for (const field of ['FunctionName', 'TopicArn']) {
        const value = parameters[field];
        if (field in parameters && (typeof value !== 'string' || !ARN.test(value))) problems.push(`task ${name}: ${field} ${JSON.stringify(value)} is not an ARN`);
      }
      if ('TableName' in parameters && (typeof parameters.TableName !== 'string' || parameters.TableName === '')) problems.push(`task ${name} has no TableName`);
      if ('QueueUrl' in parameters && (typeof parameters.QueueUrl !== 'string' || !/^https?:\/\//.test(parameters.QueueUrl))) {
        problems.push(`task ${name}: QueueUrl is not a URL`);
      }
    }
  }
  return problems;
}
