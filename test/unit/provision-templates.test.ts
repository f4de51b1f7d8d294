import { describe, expect, it } from 'vitest';
import { loadTemplate, renderTemplate } from '../../src/provision/templates.js';

describe('templates', () => {
  it('substitutes whole values of any type, interpolates inside strings, and drops undefined', () => {
    const template = { a: '${list}', b: 'arn:${p}:s3:::${bucket}/*', c: ['${gone}', 'kept'], d: { e: '${gone}' }, n: '${n}' };
    expect(renderTemplate(template, { list: ['x', 'y'], p: 'aws', bucket: 'b"q', gone: undefined, n: 7 })).toEqual({
      a: ['x', 'y'],
      b: 'arn:aws:s3:::b"q/*',
      c: ['kept'],
      d: {},
      n: 7,
    });
    expect(() => renderTemplate({ a: '${missing}' }, {})).toThrow(/\$\{missing\} has no value/);
  });

  it('ship as valid JSON with the placeholders the code fills', () => {
    const names = (template: unknown): string[] => [...JSON.stringify(template).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!).sort();
    expect(names(loadTemplate('lambda-trust-policy.json'))).toEqual([]);
    expect(new Set(names(loadTemplate('function-policy.json')))).toEqual(
      new Set([
        'account', 'destBucket', 'functionName', 'partition', 'region', 'sourceBucket', 'sourcePrefix', 'table', 'tableActions',
        'removeResizedObjectsStatement', 'publishOutcomesStatement', 'sendFailedEventsStatement', 'consumeBackfillQueueStatement',
      ]),
    );
    expect(names(loadTemplate('queue-send-policy-statement.json'))).toEqual(['queueArn', 'service', 'sid', 'sourceArn']);
    expect(new Set(names(loadTemplate('notification-configuration.json')))).toEqual(new Set(['events', 'functionArn', 'id', 'prefix', 'suffix']));
    expect(new Set(names(loadTemplate('s3-event.json')))).toEqual(
      new Set(['bucket', 'configurationId', 'eTag', 'eventName', 'eventTime', 'key', 'partition', 'principalId', 'region', 'requestId', 'sequencer', 'size']),
    );
  });
});
