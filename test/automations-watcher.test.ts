/** The file watcher on a real file system (its timing policy is tested on a FakeClock in unit/). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AutomationsWatcher } from '../src/app/automations-watcher.js';
import { hashText } from '../src/config/load-file.js';
import type { Automations } from '../src/engine/automations.js';
import { memoryLogger } from './helpers/daemon.js';
import { tempDir } from './helpers/temp.js';
import { waitFor } from './helpers/wait.js';

describe('the automations file watcher', () => {
  it('applies a save that comes right after another one (chokidar holds back a second change for 50 ms)', async () => {
    const path = join(tempDir(), 'automations.yaml');
    writeFileSync(path, 'services: {}\n');
    const applied: string[] = [];
    const automations = { apply: async () => ({ updatedServiceIds: [], updatedTaskIds: [] }) } as unknown as Automations;
    const watcher = new AutomationsWatcher(path, automations, memoryLogger().log, 10);
    watcher.on('status', (status) => applied.push(status.appliedHash ?? ''));
    onTestFinished(() => watcher.close());
    await watcher.start();
    for (const round of [1, 2, 3]) {
      const first = `services: {}\n# save ${round}a\n`;
      const second = `services: {}\n# save ${round}b\n`;
      writeFileSync(path, first);
      await waitFor(() => watcher.status.appliedHash === hashText(first), { what: `save ${round}a to be applied` });
      writeFileSync(path, second);
      await waitFor(() => watcher.status.appliedHash === hashText(second), { timeoutMs: 3000, what: `save ${round}b, right after ${round}a, to be applied` });
    }
    expect(applied.at(-1)).toBe(hashText('services: {}\n# save 3b\n'));
  });
});
