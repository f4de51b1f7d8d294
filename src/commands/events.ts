import { Command } from 'commander';
import type { AppContext } from '../context.js';
import { ExitCode } from '../errors.js';
import type { EventsResult } from '../operations/events.js';
import { commandAction, type CommandResult } from './shared.js';

/**
 * Prints the stack's events as they arrive until Ctrl-C (or SIGTERM), then removes its temporary queue.
 * `signal` lets a caller (a test) end it instead.
 */
export async function executeEvents(context: AppContext, signal?: AbortSignal): Promise<EventsResult> {
  const { runEvents, eventLine } = await import('../operations/events.js');
  const { output } = context;
  const controller = new AbortController();
  const stop = () => {
    controller.abort();
  };
  signal?.addEventListener('abort', stop, { once: true });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await runEvents(context, {
      signal: controller.signal,
      onReady: (queue) => {
        output.note(`Listening through ${queue}; Ctrl-C stops and removes it.`);
      },
      onEvent: async (event) => {
        // One JSON document per line under --json (the notification as the function published it).
        output.line(output.json ? JSON.stringify(event.kind === 'notification' ? event.notification : { body: event.body }) : eventLine(event));
        await output.drained();
      },
    });
    output.note(`Stopped after ${result.received} event${result.received === 1 ? '' : 's'}; removed ${result.queueName}.`);
    return { ...result, exitCode: ExitCode.Ok };
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    signal?.removeEventListener('abort', stop);
  }
}

export function eventsCommand(): Command {
  return new Command('events')
    .description('print the stack\'s notifications as they arrive (one line each; JSON lines with --json) until Ctrl-C')
    .action(commandAction((context): Promise<CommandResult> => executeEvents(context)));
}
