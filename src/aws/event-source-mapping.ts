import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { awsErrorName } from '../errors.js';

/** How a queue feeds the function (the parts of a mapping the stack sets). */
export interface QueueMappingSpec {
  functionName: string;
  queueArn: string;
  batchSize: number;
  /** ScalingConfig.MaximumConcurrency: at most this many invocations from the queue at once (2-1000). */
  maximumConcurrency: number;
  /** ReportBatchItemFailures: only the messages the function names come back. */
  reportBatchItemFailures: boolean;
}

/** The mappings from this queue to this function (normally one). */
export async function listQueueMappings(lambda: LambdaClient, functionName: string, queueArn: string): Promise<EventSourceMappingConfiguration[]> {
  const mappings: EventSourceMappingConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: functionName, EventSourceArn: queueArn, ...(marker ? { Marker: marker } : {}) }));
    mappings.push(...(page.EventSourceMappings ?? []));
    marker = page.NextMarker;
  } while (marker);
  return mappings;
}

function mappingParameters(spec: QueueMappingSpec): {
  BatchSize: number;
  ScalingConfig: { MaximumConcurrency: number };
  FunctionResponseTypes: 'ReportBatchItemFailures'[];
} {
  return {
    BatchSize: spec.batchSize,
    ScalingConfig: { MaximumConcurrency: spec.maximumConcurrency },
    FunctionResponseTypes: spec.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
  };
}

export async function createQueueMapping(lambda: LambdaClient, spec: QueueMappingSpec, tags: Record<string, string>): Promise<string | undefined> {
  const created = await lambda.send(
    new CreateEventSourceMappingCommand({ FunctionName: spec.functionName, EventSourceArn: spec.queueArn, Enabled: true, Tags: tags, ...mappingParameters(spec) }),
  );
  return created.UUID;
}

export async function updateQueueMapping(lambda: LambdaClient, uuid: string, spec: QueueMappingSpec): Promise<void> {
  await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true, ...mappingParameters(spec) }));
}

/** Deletes the mapping; false when it was already gone. */
export async function deleteQueueMapping(lambda: LambdaClient, uuid: string): Promise<boolean> {
  try {
    await lambda.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    return true;
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return false;
    throw error;
  }
}
