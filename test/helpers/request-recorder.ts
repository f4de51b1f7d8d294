import type { AnyClient, ClientHook } from '../../src/aws/clients.js';

export interface RecordedRequest {
  service: string;
  operation: string;
  method: string;
  path: string;
}

const READ_ONLY = /^(Get|List|Head|Describe|Scan|Query|BatchGet)/;

/**
 * Records every HTTP request the SDK sends (each retry too: it sits below the retry middleware),
 * so tests can count calls without mocking anything.
 */
export class RequestRecorder {
  readonly requests: RecordedRequest[] = [];

  readonly hook: ClientHook = (client: AnyClient, serviceName: string) => {
    (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { request?: { method?: string; path?: string } }) => {
          this.requests.push({
            service: serviceName,
            operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
            method: args.request?.method ?? '',
            path: args.request?.path ?? '',
          });
          return next(args);
        },
      { step: 'deserialize', name: 'testRequestRecorder' },
    );
  };

  /** Requests whose operation can change state. */
  mutating(): RecordedRequest[] {
    return this.requests.filter((r) => !READ_ONLY.test(r.operation));
  }

  operations(): string[] {
    return this.requests.map((r) => `${r.service}:${r.operation}`);
  }

  clear(): void {
    this.requests.length = 0;
  }
}

/** Records the input of every command of one kind a client sends, so a test can check what went out. */
export function captureInputs<T>(client: AnyClient, commandName: string): T[] {
  const inputs: T[] = [];
  (client.middlewareStack as { add: (mw: unknown, options: unknown) => void }).add(
    (next: (args: { input: T }) => Promise<unknown>, context: { commandName?: string }) => (args: { input: T }) => {
      if (context.commandName === commandName) inputs.push(args.input);
      return next(args);
    },
    { step: 'initialize', name: `capture${commandName}` },
  );
  return inputs;
}
