import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { OutputFollower } from '../src/client/output-follower.js';
import type { ResourceChange, ResourceWatch } from '../src/client/resource-watch.js';
import type { TaskExecution } from '../src/domain/schema.js';

/** A log body the test writes to and ends. */
function controlledLog(): { body: AsyncIterable<Uint8Array>; write(text: string): void; end(): void } {
  const chunks: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    body: {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (chunks.length > 0) yield chunks.shift()!;
          else if (ended) return;
          else await new Promise<void>((resolve) => (wake = resolve));
        }
      },
    },
    write(text) {
      chunks.push(new TextEncoder().encode(text));
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
  };
}

describe('OutputFollower.logEnded', () => {
  it('waits for a log it hears of in the same change as the caller, whichever listener runs first', async () => {
    const log = controlledLog();
    const emitter = new EventEmitter<{ change: [ResourceChange] }>();
    const watch = Object.assign(emitter, {
      services: new Map(),
      tasks: new Map(),
      executions: new Map<string, TaskExecution>(),
      client: { fetchLog: async () => ({ body: log.body }) },
    }) as unknown as ResourceWatch;
    const lines: string[] = [];
    const follower = new OutputFollower(watch, {
      initial: () => 'all',
      onItem: (_source, item) => {
        if (item.kind === 'line') lines.push(item.text);
      },
    });
    const execution = { id: 'e1', metadata: { taskId: 't1' }, status: { phase: 'TASK_EXECUTION_PHASE_SUCCEEDED', logUrl: '/logs/e1' } } as unknown as TaskExecution;
    let outcomeAfter: string[] | undefined;
    // The caller's listener is added before the follower's: it asks before the follower heard.
    emitter.on('change', (change) => {
      if (change.kind === 'execution') void follower.logEnded(change.execution.status.logUrl).then(() => (outcomeAfter = [...lines]));
    });
    follower.start();
    emitter.emit('change', { kind: 'execution', execution } as ResourceChange);
    log.write('seeding\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomeAfter).toBeUndefined();
    log.write('seeded\n');
    log.end();
    await follower.drained();
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcomeAfter).toEqual(['seeding', 'seeded']);
    follower.stop();
  });
});
