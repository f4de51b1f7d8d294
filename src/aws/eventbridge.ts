import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type EventBridgeClient,
  type Target,
} from '@aws-sdk/client-eventbridge';
import { awsErrorName } from '../errors.js';

export interface ObservedRule {
  eventPattern: string | undefined;
  state: string | undefined;
  targets: Target[];
}

/** The rule on the default bus and its targets, or undefined when there is no such rule. */
export async function describeRule(events: EventBridgeClient, name: string): Promise<ObservedRule | undefined> {
  try {
    const rule = await events.send(new DescribeRuleCommand({ Name: name }));
    const targets = await events.send(new ListTargetsByRuleCommand({ Rule: name }));
    return { eventPattern: rule.EventPattern, state: rule.State, targets: targets.Targets ?? [] };
  } catch (error) {
    if (awsErrorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

export async function putRule(events: EventBridgeClient, input: { name: string; eventPattern: string; description: string; tags: Record<string, string> }): Promise<void> {
  await events.send(
    new PutRuleCommand({
      Name: input.name,
      EventPattern: input.eventPattern,
      State: 'ENABLED',
      Description: input.description,
      Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

export async function putTarget(events: EventBridgeClient, rule: string, target: Target): Promise<void> {
  const response = await events.send(new PutTargetsCommand({ Rule: rule, Targets: [target] }));
  const [failed] = response.FailedEntries ?? [];
  if (failed) throw new Error(`EventBridge refused the target of ${rule}: ${failed.ErrorCode ?? ''} ${failed.ErrorMessage ?? ''}`.trim());
}

/** Removes the targets, then the rule (EventBridge refuses to delete a rule that has targets). */
export async function deleteRule(events: EventBridgeClient, name: string): Promise<void> {
  const observed = await describeRule(events, name);
  if (!observed) return;
  const ids = observed.targets.map((target) => target.Id ?? '').filter(Boolean);
  if (ids.length > 0) await events.send(new RemoveTargetsCommand({ Rule: name, Ids: ids }));
  await events.send(new DeleteRuleCommand({ Name: name }));
}
