/**
 * Queue policy documents: the grant that lets one AWS service (SNS, EventBridge, S3) send to a queue, and only
 * on behalf of one source (its `aws:SourceArn`). Pure, so plans and tests compare them with what SQS returns.
 */
import { loadTemplate, renderTemplate, type Json } from './templates.js';

export interface QueueSendGrant {
  sid: string;
  /** The sending service's principal, e.g. `sns.amazonaws.com`. */
  service: string;
  queueArn: string;
  /** The one topic, rule or bucket the service may send for. */
  sourceArn: string;
}

/** One statement of a queue's resource policy (templates/queue-send-policy-statement.json). */
export function queueSendStatement(grant: QueueSendGrant): Json {
  return renderTemplate(loadTemplate('queue-send-policy-statement.json'), {
    sid: grant.sid,
    service: grant.service,
    queueArn: grant.queueArn,
    sourceArn: grant.sourceArn,
  });
}
