/**
 * The backfill queue (issue 18, `init --backfill-queue`) in the template: the queue with init's attributes
 * (SSE-SQS, visibility timeout, retention, redrive to the failed-events queue) and the event source mapping
 * that feeds the function from it (batch size, maximum concurrency, partial batch failures), both from the
 * values init's steps use. The function role's sqs statement comes with the role (exportedFunctionPolicy).
 */
import type { Json } from '../provision/templates.js';
import { BACKFILL_MAX_RECEIVE_COUNT, desiredBackfillQueueAttributes, queueMappingSpec } from '../provision/backfill-queue.js';
import { LOGICAL_ID, concreteModel, getAtt, ref, tagList, type TemplateInput, type TemplatePart } from './template-model.js';

export function backfillPart(input: TemplateInput): TemplatePart {
  const { settings } = input;
  if (settings.backfillQueue !== true) return { resources: {} };
  const model = concreteModel(settings);
  // init's attributes; the redrive target becomes the template's queue. The visibility timeout is init's
  // six times the function's timeout, for the timeout the settings give (the Timeout parameter's default):
  // CloudFormation has no arithmetic to follow a changed parameter.
  const attributes = desiredBackfillQueueAttributes({ settings, failedEventsQueueArn: model.failedEventsQueueArn });
  const mapping = queueMappingSpec({ settings, backfillQueueArn: model.backfillQueueArn });
  return {
    resources: {
      [LOGICAL_ID.backfillQueue]: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: model.backfillQueueName,
          SqsManagedSseEnabled: attributes.SqsManagedSseEnabled === 'true',
          VisibilityTimeout: Number(attributes.VisibilityTimeout),
          MessageRetentionPeriod: Number(attributes.MessageRetentionPeriod),
          RedrivePolicy: { deadLetterTargetArn: getAtt(LOGICAL_ID.failedEventsQueue, 'Arn'), maxReceiveCount: BACKFILL_MAX_RECEIVE_COUNT },
          Tags: tagList(settings),
        },
      },
      [LOGICAL_ID.backfillQueueMapping]: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          FunctionName: ref(LOGICAL_ID.function),
          EventSourceArn: getAtt(LOGICAL_ID.backfillQueue, 'Arn'),
          Enabled: true,
          BatchSize: mapping.batchSize,
          ScalingConfig: { MaximumConcurrency: mapping.maximumConcurrency },
          FunctionResponseTypes: (mapping.reportBatchItemFailures ? ['ReportBatchItemFailures'] : []) as Json,
        },
      },
    },
    outputs: {
      BackfillQueueUrl: { Description: '`img-resizer backfill --via queue` fills this queue; the function works through it', Value: ref(LOGICAL_ID.backfillQueue) },
    },
  };
}
