/**
 * Page tokens name a position that survives inserts and deletes (keyset): iterating never skips
 * or repeats an item that existed for the whole iteration, whatever changes between two pages.
 */
import { describe, expect, it } from 'vitest';
import { startTestDaemon } from './helpers/daemon.js';
import { createService } from './helpers/services.js';
import { createTask, waitExecution } from './helpers/tasks.js';

describe('keyset page tokens', () => {
  it('tasks: a delete and an insert between two pages neither skip nor repeat an item', async () => {
    const td = await startTestDaemon();
    const tasks = td.client.environments.automations.tasks;
    const ids: Record<string, string> = {};
    for (const reference of ['z1', 'z2', 'z3', 'z4']) ids[reference] = await createTask(td.client, reference, 'true');
    const first = await tasks.list({ pageSize: 2 });
    expect(first.tasks.map((task) => task.metadata?.reference)).toEqual(['z1', 'z2']);
    await tasks.delete({ id: ids.z1! });
    await createTask(td.client, 'z5', 'true');
    const second = await first.getNextPage();
    expect(second.tasks.map((task) => task.metadata?.reference)).toEqual(['z3', 'z4']);
    const third = await second.getNextPage();
    expect(third.tasks.map((task) => task.metadata?.reference)).toEqual(['z5']);
    expect(third.hasNextPage()).toBe(false);
  });

  it('services: the same, and a token survives a daemon restart', async () => {
    const first = await startTestDaemon();
    const services = first.client.environments.automations.services;
    const ids: Record<string, string> = {};
    for (const reference of ['s1', 's2', 's3', 's4']) ids[reference] = await createService(first.client, reference, { start: 'true' });
    const page = await services.list({ pageSize: 2 });
    expect(page.services.map((service) => service.metadata?.reference)).toEqual(['s1', 's2']);
    await services.delete({ id: ids.s2! });
    const token = page.pagination.nextToken!;
    await first.stop();
    const again = await startTestDaemon({ stateDir: first.stateDir, workspace: first.workspace });
    const next = await again.call('ListServices', { pagination: { pageSize: 2, token } });
    expect(next.body.services.map((service: any) => service.metadata.reference)).toEqual(['s3', 's4']);
  });

  it('executions (newest first): one started between pages is not seen, and nothing repeats', async () => {
    const td = await startTestDaemon();
    const taskId = await createTask(td.client, 'quick', 'true');
    const executions = td.client.environments.automations.tasks.executions;
    const started: string[] = [];
    const start = async (): Promise<string> => {
      const { taskExecution } = await td.client.environments.automations.tasks.start({ id: taskId });
      await waitExecution(td.client, taskExecution!.id!);
      return taskExecution!.id!;
    };
    for (let index = 0; index < 4; index++) started.push(await start());
    const page = await executions.list({ pageSize: 2 });
    expect(page.taskExecutions.map((execution) => execution.id)).toEqual([started[3], started[2]]);
    const newest = await start();
    const next = await page.getNextPage();
    expect(next.taskExecutions.map((execution) => execution.id)).toEqual([started[1], started[0]]);
    expect(next.hasNextPage()).toBe(false);
    expect((await executions.list({ pageSize: 1 })).taskExecutions[0]?.id).toBe(newest);
  });

  it('every item present the whole time is seen exactly once under random inserts and deletes', async () => {
    const td = await startTestDaemon();
    const tasks = td.client.environments.automations.tasks;
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alive = new Map<string, string>();
    for (let index = 0; index < 30; index++) alive.set(await createTask(td.client, `t${index}`, 'true'), `t${index}`);
    const stable = new Set(alive.keys());
    const seen: string[] = [];
    let token = '';
    let counter = 30;
    do {
      const page = await td.call('ListTasks', { pagination: { pageSize: 4, token } });
      seen.push(...page.body.tasks.map((task: any) => task.id as string));
      token = page.body.pagination.nextToken;
      // Between pages: delete one or two (never of the stable set's survivors chosen below), add some.
      for (let change = 0; change < 3; change++) {
        if (random() < 0.5) {
          const victims = [...alive.keys()];
          const victim = victims[Math.floor(random() * victims.length)]!;
          await tasks.delete({ id: victim });
          alive.delete(victim);
          stable.delete(victim);
        } else {
          const reference = `t${counter++}`;
          alive.set(await createTask(td.client, reference, 'true'), reference);
        }
      }
    } while (token !== '');
    const counts = new Map<string, number>();
    for (const id of seen) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    for (const id of stable) expect(counts.get(id), alive.get(id)).toBe(1);
  });

  it("refuses a token of another list, an old offset token and one that is not ours", async () => {
    const td = await startTestDaemon();
    for (let index = 0; index < 3; index++) await createTask(td.client, `t${index}`, 'true');
    for (let index = 0; index < 3; index++) await createService(td.client, `s${index}`, { start: 'true' });
    const tasksToken = (await td.call('ListTasks', { pagination: { pageSize: 1 } })).body.pagination.nextToken;
    for (const token of [tasksToken, Buffer.from('o:1').toString('base64url'), 'garbage']) {
      const answer = await td.call('ListServices', { pagination: { token } });
      expect(answer.status, token).toBe(400);
      expect(answer.body.message).toContain('Invalid "pagination.token"');
    }
  });
});
