/**
 * The `--notify` targets: where the stack's topic delivers outcomes besides `img-resizer events`. The protocol
 * is read off the target; a filter policy (on the message attributes: type, status, errorCode, format,
 * sourcePrefix) narrows what one target gets.
 */

export const NOTIFY_PROTOCOLS = ['sqs', 'lambda', 'https', 'email'] as const;
export type NotifyProtocol = (typeof NOTIFY_PROTOCOLS)[number];

export interface NotifyTarget {
  /** A queue or function ARN, an https:// URL, or an e-mail address. */
  endpoint: string;
  /** Attribute name → accepted values; absent: every message. */
  filter?: Record<string, string[]> | undefined;
}

export const FILTER_ATTRIBUTES = ['type', 'status', 'errorCode', 'format', 'sourcePrefix'] as const;

/** The protocol SNS needs for a target, or an error saying what a target may be. */
export function notifyProtocol(endpoint: string): NotifyProtocol {
  if (/^arn:aws[\w-]*:sqs:[\w-]+:\d{12}:[\w-]{1,80}(\.fifo)?$/.test(endpoint)) return 'sqs';
  if (/^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]{1,64}(:[\w$-]+)?$/.test(endpoint)) return 'lambda';
  if (/^https:\/\/[^\s/]+/.test(endpoint)) return 'https';
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(endpoint)) return 'email';
  throw new Error(`"${endpoint}" is not an SQS queue ARN, a Lambda function ARN, an https:// URL or an e-mail address`);
}

/** `key=value[,value...]` into the target's filter; repeated keys add values. */
export function addFilter(target: NotifyTarget, text: string): NotifyTarget {
  const match = /^(\w+)=(.+)$/.exec(text);
  if (!match) throw new Error(`filter "${text}" is not key=value (e.g. status=FAILED)`);
  const [, key = '', values = ''] = match;
  if (!(FILTER_ATTRIBUTES as readonly string[]).includes(key)) throw new Error(`filter key "${key}" is not one of ${FILTER_ATTRIBUTES.join(', ')}`);
  const filter = { ...(target.filter ?? {}) };
  filter[key] = [...new Set([...(filter[key] ?? []), ...values.split(',').map((v) => v.trim()).filter(Boolean)])];
  return { ...target, filter };
}

/**
 * IMG_RESIZER_NOTIFY: targets separated by whitespace, each `TARGET` or `TARGET|key=value|key=value`
 * (the form `--notify TARGET --notify-filter key=value` takes on one line).
 */
export function parseNotifyList(raw: string): NotifyTarget[] {
  return raw
    .split(/\s+/)
    .filter(Boolean)
    .map((entry) => {
      const [endpoint = '', ...filters] = entry.split('|');
      notifyProtocol(endpoint);
      return filters.reduce<NotifyTarget>((target, filter) => addFilter(target, filter), { endpoint });
    });
}

/** The SNS FilterPolicy document of a target (keys sorted so equal policies compare equal as text). */
export function filterPolicy(target: NotifyTarget): string | undefined {
  if (!target.filter || Object.keys(target.filter).length === 0) return undefined;
  const sorted = Object.fromEntries(Object.entries(target.filter).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));
  return JSON.stringify(sorted);
}
