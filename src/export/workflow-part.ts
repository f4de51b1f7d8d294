/**
 * Workflow mode (issue 17, `init --orchestration stepfunctions`) in the template: the state machine rendered
 * from templates/state-machine.asl.json by init's `renderStateMachineDefinition`, its role and EventBridge's
 * (policies from init's workflow-documents), the execution log group, and the rule that starts an execution for
 * each "Object Created" event of the source bucket (whose EventBridge delivery bucketsPart turns on instead of the
 * direct trigger, as init's trigger step does in this mode).
 */
import { operationalSettings } from '../config/stack-settings.js';
import { loggingConfiguration } from '../aws/stepfunctions.js';
import { renderStateMachineDefinition } from '../provision/state-machine-definition.js';
import { WORKFLOW_LOG_RETENTION_DAYS, WORKFLOW_POLICY_NAME, failedEventsQueueUrl, workflowNames } from '../provision/workflow.js';
import { workflowModeFor } from '../config/stack-settings.js';
import {
  eventsRolePolicy,
  eventsTrustPolicy,
  failedEventsQueuePolicy,
  objectCreatedPattern,
  ruleTargetRetryPolicy,
  stateMachinePolicy,
  stateMachineTrustPolicy,
} from '../provision/workflow-documents.js';
import type { Json } from '../provision/templates.js';
import { LOGICAL_ID, PARAMETER, concreteModel, getAtt, ref, substituteStrings, tagList, type JsonObject, type TemplateInput, type TemplatePart } from './template-model.js';

/** The ARNs the state machine's policy names, built from names as init builds them (so the role depends on nothing). */
function referencedArns(settings: TemplateInput['settings']) {
  const model = concreteModel(settings);
  return {
    functionArn: `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:\${${PARAMETER.functionName}}`,
    tableArn: `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/\${${PARAMETER.table}}`,
    topicArn: operationalSettings(settings).notifications ? `arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:${model.topicName}` : undefined,
    deadLetterQueueArn: `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:${model.failedEventsQueueName}`,
  };
}

/**
 * The definition init renders (and validates), rendered with the concrete values of a placeholder account, whose
 * ARNs, table and queue URL then become DefinitionSubstitutions: the state machine gets the deployed values.
 */
export function exportedDefinition(settings: TemplateInput['settings']): { definition: Json; substitutions: JsonObject } {
  const model = concreteModel(settings);
  const notifications = operationalSettings(settings).notifications;
  const queueUrl = failedEventsQueueUrl(model);
  const rendered = renderStateMachineDefinition({
    stackName: settings.stackName,
    partition: model.partition,
    functionArn: model.functionArn,
    table: settings.table,
    topicArn: notifications ? model.topicArn : undefined,
    deadLetterQueueUrl: queueUrl,
  });
  const swaps: [string, string, Json][] = [
    [model.functionArn, 'FunctionArn', getAtt(LOGICAL_ID.function, 'Arn')],
    [settings.table, 'TableName', ref(PARAMETER.table)],
    [queueUrl, 'FailedEventsQueueUrl', ref(LOGICAL_ID.failedEventsQueue)],
    ...(notifications ? [[model.topicArn, 'OutcomesTopicArn', ref(LOGICAL_ID.topic)] as [string, string, Json]] : []),
  ];
  const used = new Set<string>();
  const swap = (value: Json): Json => {
    if (typeof value === 'string') {
      const match = swaps.find(([concrete]) => concrete === value);
      if (match) {
        used.add(match[1]);
        return `\${${match[1]}}`;
      }
      // The service integrations' ARNs keep the aws partition: cfn-lint's state machine schema takes no other.
      return value;
    }
    if (Array.isArray(value)) return value.map(swap);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, swap(item)]));
    return value;
  };
  const definition = swap(rendered);
  const substitutions: JsonObject = {};
  for (const [, key, reference] of swaps) if (used.has(key)) substitutions[key] = reference;
  return { definition, substitutions };
}

export function workflowPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  if (!workflowModeFor(settings)) return { resources: {} };
  // Names with the concrete region, as init derives them (the roles carry it when the function's role does).
  const names = workflowNames({ settings, partition: 'aws', region: settings.region ?? '', account: '000000000000' });
  const arns = referencedArns(settings);
  const { definition, substitutions } = exportedDefinition(settings);
  const logging = loggingConfiguration('${LOG_GROUP_ARN}');
  return {
    resources: {
      [LOGICAL_ID.workflowLogGroup]: {
        Type: 'AWS::Logs::LogGroup',
        Properties: { LogGroupName: names.logGroupName, RetentionInDays: WORKFLOW_LOG_RETENTION_DAYS, Tags: tagList(settings) },
      },
      [LOGICAL_ID.stateMachineRole]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: names.stateMachineRoleName,
          Description: `img-resizer stack ${settings.stackName}: the workflow state machine's role`,
          AssumeRolePolicyDocument: substituteStrings(stateMachineTrustPolicy('${AWS::AccountId}') as unknown as Json),
          Policies: [
            {
              PolicyName: WORKFLOW_POLICY_NAME,
              PolicyDocument: substituteStrings(stateMachinePolicy({ account: '${AWS::AccountId}', ...arns, logDelivery: true }) as unknown as Json),
            },
          ],
          Tags: tagList(settings),
        },
      },
      [LOGICAL_ID.stateMachine]: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          StateMachineName: names.stateMachineName,
          StateMachineType: settings.stateMachineType === 'standard' ? 'STANDARD' : 'EXPRESS',
          RoleArn: getAtt(LOGICAL_ID.stateMachineRole, 'Arn'),
          Definition: definition,
          DefinitionSubstitutions: substitutions,
          // init's logging configuration, in CloudFormation's casing.
          LoggingConfiguration: {
            Level: logging.level ?? 'ALL',
            IncludeExecutionData: logging.includeExecutionData ?? false,
            Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(LOGICAL_ID.workflowLogGroup, 'Arn') } }],
          },
          Tags: tagList(settings),
        },
      },
      [LOGICAL_ID.eventsRole]: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: names.eventsRoleName,
          Description: `img-resizer stack ${settings.stackName}: lets EventBridge start the workflow`,
          AssumeRolePolicyDocument: substituteStrings(eventsTrustPolicy('${AWS::AccountId}') as unknown as Json),
          Policies: [{ PolicyName: WORKFLOW_POLICY_NAME, PolicyDocument: substituteStrings(eventsRolePolicy(`\${${LOGICAL_ID.stateMachine}}`) as unknown as Json) }],
          Tags: tagList(settings),
        },
      },
      [LOGICAL_ID.uploadRule]: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: names.ruleName,
          Description: `img-resizer stack ${settings.stackName}: uploads start the workflow`,
          State: 'ENABLED',
          EventPattern: substituteStrings(objectCreatedPattern(`\${${PARAMETER.sourceBucket}}`, { prefix: settings.prefix, suffix: settings.suffix })),
          Targets: [
            {
              Id: 'workflow',
              Arn: ref(LOGICAL_ID.stateMachine),
              RoleArn: getAtt(LOGICAL_ID.eventsRole, 'Arn'),
              // init's retries and dead-letter queue: an upload EventBridge cannot deliver is kept, not lost.
              RetryPolicy: ruleTargetRetryPolicy(operationalSettings(settings).maxEventAgeSeconds),
              DeadLetterConfig: { Arn: getAtt(LOGICAL_ID.failedEventsQueue, 'Arn') },
            },
          ],
        },
      },
      // init's grant on the failed-events queue: EventBridge may send it the upload rule's dead letters, nothing else.
      [LOGICAL_ID.failedEventsQueuePolicy]: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [ref(LOGICAL_ID.failedEventsQueue)],
          PolicyDocument: substituteStrings(
            failedEventsQueuePolicy({ queueArn: `\${${LOGICAL_ID.failedEventsQueue}.Arn}`, ruleArn: `\${${LOGICAL_ID.uploadRule}.Arn}` }) as unknown as Json,
          ),
        },
      },
    },
    outputs: {
      StateMachineArn: { Description: 'Each upload starts an execution of this state machine', Value: ref(LOGICAL_ID.stateMachine) },
    },
  };
}
