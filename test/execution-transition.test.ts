import { describe, expect, it } from 'vitest';
import {
  isFinished,
  transitionExecution,
  type ExecutionEvent,
  type ExecutionState,
  type ExecutionWireStatus,
  type PlanShape,
  type StepState,
} from '../src/domain/execution-lifecycle.js';
import { buildPlan, findCycle, type PlanNode } from '../src/domain/plan.js';

const plan: PlanShape = [['a', 'b'], ['c']];
const run = (id: string): StepState => ({ id, phase: 'running', failureMessage: null, output: {} });
const done = (id: string, phase: StepState['phase'] = 'succeeded'): StepState => ({ id, phase, failureMessage: null, output: {} });

const states = {
  pending: { phase: 'pending' },
  group0: { phase: 'running', group: 0, steps: [run('a'), run('b')] },
  group0OneLeft: { phase: 'running', group: 0, steps: [done('a'), run('b')] },
  failing: { phase: 'failing', steps: [{ ...done('a', 'failed'), failureMessage: 'a broke' }, run('b')], failureMessage: 'a broke', stopping: false },
  failingStopped: { phase: 'failing', steps: [{ ...done('a', 'failed'), failureMessage: 'a broke' }, run('b')], failureMessage: 'a broke', stopping: true },
  group1: { phase: 'running', group: 1, steps: [done('a'), done('b'), run('c')] },
  stopping: { phase: 'stopping', steps: [done('a'), run('b')] },
  succeeded: { phase: 'succeeded', steps: [] },
  failed: { phase: 'failed', steps: [], failureMessage: 'x' },
  stopped: { phase: 'stopped', steps: [] },
} satisfies Record<string, ExecutionState>;

const events = {
  began: { type: 'Began' },
  bOk: { type: 'StepEnded', stepId: 'b', outcome: 'succeeded', failureMessage: null, output: { k: 'v' } },
  bFail: { type: 'StepEnded', stepId: 'b', outcome: 'failed', failureMessage: 'b broke', output: {} },
  cOk: { type: 'StepEnded', stepId: 'c', outcome: 'succeeded', failureMessage: null, output: {} },
  bOutput: { type: 'StepOutput', stepId: 'b', output: { k: 'v' } },
  stop: { type: 'StopRequested' },
} satisfies Record<string, ExecutionEvent>;

/** `phase[group][!failure][+stop] steps=… effects…`, '=' for the same state and no effects. */
const table: Record<keyof typeof states, Record<keyof typeof events, string>> = {
  pending: { began: 'running0 a:running,b:running startSteps(a,b)', bOk: '=', bFail: '=', cOk: '=', bOutput: '=', stop: 'stopped' },
  group0: {
    began: '=',
    bOk: 'running0 a:running,b:succeeded',
    bFail: 'failing!b broke a:running,b:failed',
    cOk: '=',
    bOutput: 'running0 a:running,b:running',
    stop: 'stopping a:running,b:running stopSteps(a,b)',
  },
  group0OneLeft: {
    began: '=',
    bOk: 'running1 a:succeeded,b:succeeded,c:running startSteps(c)',
    bFail: 'failed!b broke a:succeeded,b:failed',
    cOk: '=',
    bOutput: 'running0 a:succeeded,b:running',
    stop: 'stopping a:succeeded,b:running stopSteps(b)',
  },
  // FAILED already: the rest of the group finishes, later groups never start; a stop stops it sooner.
  failing: {
    began: '=',
    bOk: 'failed!a broke a:failed,b:succeeded',
    bFail: 'failed!a broke a:failed,b:failed',
    cOk: '=',
    bOutput: 'failing!a broke a:failed,b:running',
    stop: 'failing!a broke+stop a:failed,b:running stopSteps(b)',
  },
  failingStopped: {
    began: '=',
    bOk: 'failed!a broke a:failed,b:succeeded',
    bFail: 'failed!a broke a:failed,b:stopped',
    cOk: '=',
    bOutput: 'failing!a broke+stop a:failed,b:running',
    stop: '=',
  },
  group1: {
    began: '=',
    bOk: '=',
    bFail: '=',
    cOk: 'succeeded a:succeeded,b:succeeded,c:succeeded',
    bOutput: '=',
    stop: 'stopping a:succeeded,b:succeeded,c:running stopSteps(c)',
  },
  stopping: {
    began: '=',
    bOk: 'stopped a:succeeded,b:succeeded',
    bFail: 'stopped a:succeeded,b:stopped',
    cOk: '=',
    bOutput: 'stopping a:succeeded,b:running',
    stop: '=',
  },
  succeeded: { began: '=', bOk: '=', bFail: '=', cOk: '=', bOutput: '=', stop: '=' },
  failed: { began: '=', bOk: '=', bFail: '=', cOk: '=', bOutput: '=', stop: '=' },
  stopped: { began: '=', bOk: '=', bFail: '=', cOk: '=', bOutput: '=', stop: '=' },
};

function describeResult(state: ExecutionState, result: ReturnType<typeof transitionExecution>): string {
  if (result.state === state && result.effects.length === 0) return '=';
  const next = result.state;
  const head =
    next.phase === 'running'
      ? `running${next.group}`
      : next.phase === 'failed'
        ? `failed!${next.failureMessage}`
        : next.phase === 'failing'
          ? `failing!${next.failureMessage}${next.stopping ? '+stop' : ''}`
          : next.phase;
  const steps = 'steps' in next && next.steps.length > 0 ? [next.steps.map((step) => `${step.id}:${step.phase}`).join(',')] : [];
  const effects = result.effects.map((effect) => `${effect.type}(${effect.stepIds.join(',')})`);
  return [head, ...steps, ...effects].join(' ');
}

describe('transitionExecution', () => {
  for (const [stateName, state] of Object.entries(states) as [keyof typeof states, ExecutionState][]) {
    for (const [eventName, event] of Object.entries(events) as [keyof typeof events, ExecutionEvent][]) {
      it(`${stateName} × ${eventName} → ${table[stateName][eventName]}`, () => {
        expect(describeResult(state, transitionExecution(plan, state, event))).toBe(table[stateName][eventName]);
      });
    }
  }

  it('an empty plan succeeds at once', () => {
    expect(transitionExecution([], { phase: 'pending' }, { type: 'Began' }).state.phase).toBe('succeeded');
  });

  it('keeps a step output it reports', () => {
    const next = transitionExecution(plan, states.group0, events.bOk).state;
    expect('steps' in next && next.steps.find((step) => step.id === 'b')?.output).toEqual({ k: 'v' });
  });
});

describe('plans', () => {
  const graph = (edges: Record<string, string[]>, services: string[] = []) => (id: string): PlanNode | undefined =>
    edges[id] !== undefined
      ? { id, kind: 'task', label: id, dependsOn: edges[id]! }
      : services.includes(id)
        ? { id, kind: 'service', label: id, dependsOn: [] }
        : undefined;
  const labels = (groups: PlanNode[][]) => groups.map((group) => group.map((node) => node.label));

  it('layers a chain, a diamond and service dependencies', () => {
    expect(labels(buildPlan('c', graph({ a: [], b: ['a'], c: ['b'] })))).toEqual([['a'], ['b'], ['c']]);
    expect(labels(buildPlan('d', graph({ a: [], b: ['a'], c: ['a'], d: ['b', 'c'] })))).toEqual([['a'], ['b', 'c'], ['d']]);
    // A shortcut edge does not pull a node forward: e needs d, which needs b.
    expect(labels(buildPlan('e', graph({ a: [], b: ['a'], d: ['b'], e: ['d', 'a'] })))).toEqual([['a'], ['b'], ['d'], ['e']]);
    expect(labels(buildPlan('build', graph({ install: [], build: ['install', 'db'] }, ['db'])))).toEqual([['db', 'install'], ['build']]);
  });

  it('names the cycle it finds', () => {
    expect(findCycle('a', graph({ a: ['b'], b: ['c'], c: ['a'] }))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle('x', graph({ x: ['a'], a: ['b'], b: ['a'] }))).toEqual(['a', 'b', 'a']);
    expect(findCycle('a', graph({ a: ['b'], b: [] }))).toBeNull();
    expect(() => buildPlan('a', graph({ a: ['ghost'] }))).toThrow('"a" depends on "ghost", which does not exist');
  });
});

describe('transitionExecution: recovery and reports', () => {
  const running: ExecutionWireStatus = { phase: 'TASK_EXECUTION_PHASE_RUNNING', logUrl: 'u', steps: [{ id: 'a', phase: 'TASK_EXECUTION_PHASE_SUCCEEDED' }, { id: 'b', phase: 'TASK_EXECUTION_PHASE_RUNNING' }] };
  const done: ExecutionWireStatus = { phase: 'TASK_EXECUTION_PHASE_SUCCEEDED', logUrl: 'u', steps: [] };
  const recorded = { phase: 'recorded', status: { phase: 'TASK_EXECUTION_PHASE_RUNNING', steps: [] } } satisfies ExecutionState;

  it('a stored execution that was running ends FAILED, its running steps too, saying why', () => {
    const { state, effects } = transitionExecution(plan, states.pending, { type: 'Recovered', status: running });
    expect(effects).toEqual([]);
    expect(state).toEqual({
      phase: 'recorded',
      status: {
        phase: 'TASK_EXECUTION_PHASE_FAILED',
        logUrl: 'u',
        failureMessage: 'The tend daemon stopped while this execution was running; its steps were stopped',
        steps: [
          { id: 'a', phase: 'TASK_EXECUTION_PHASE_SUCCEEDED' },
          { id: 'b', phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: 'The tend daemon stopped while this execution was running; its steps were stopped' },
        ],
      },
    });
    expect(transitionExecution(plan, states.pending, { type: 'Recovered', status: done }).state).toEqual({ phase: 'recorded', status: done });
  });

  it('a stored execution that had failed while a step still ran keeps its failure; that step ends FAILED', () => {
    const failing: ExecutionWireStatus = {
      phase: 'TASK_EXECUTION_PHASE_FAILED',
      failureMessage: 'a broke',
      steps: [{ id: 'a', phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: 'a broke' }, { id: 'b', phase: 'TASK_EXECUTION_PHASE_RUNNING' }],
    };
    const { state } = transitionExecution(plan, states.pending, { type: 'Recovered', status: failing });
    expect(state).toEqual({
      phase: 'recorded',
      status: {
        ...failing,
        steps: [failing.steps[0], { id: 'b', phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: 'The tend daemon stopped while this execution was running; its steps were stopped' }],
      },
    });
  });

  it('a reported FAILED execution with a step still running takes the next report (it has not ended)', () => {
    const failing: ExecutionWireStatus = { phase: 'TASK_EXECUTION_PHASE_FAILED', failureMessage: 'a broke', steps: [{ id: 'b', phase: 'TASK_EXECUTION_PHASE_RUNNING' }] };
    const ended: ExecutionWireStatus = { ...failing, steps: [{ id: 'b', phase: 'TASK_EXECUTION_PHASE_SUCCEEDED' }] };
    const recordedFailing = { phase: 'recorded', status: failing } satisfies ExecutionState;
    expect(isFinished(recordedFailing)).toBe(false);
    const next = transitionExecution(plan, recordedFailing, { type: 'Reported', status: ended }).state;
    expect(next).toEqual({ phase: 'recorded', status: ended });
    expect(isFinished(next)).toBe(true);
  });

  it('a report is taken while pending or recorded and not finished; every other state ignores reports and recoveries', () => {
    expect(transitionExecution(plan, states.pending, { type: 'Reported', status: running }).state).toEqual({ phase: 'recorded', status: running });
    expect(transitionExecution(plan, recorded, { type: 'Reported', status: done }).state).toEqual({ phase: 'recorded', status: done });
    const finished = { phase: 'recorded', status: done } satisfies ExecutionState;
    expect(transitionExecution(plan, finished, { type: 'Reported', status: running }).state).toBe(finished);
    for (const state of [states.group0, states.failing, states.stopping, states.succeeded, states.failed, states.stopped, recorded]) {
      for (const event of [{ type: 'Recovered', status: done }, { type: 'Reported', status: done }] satisfies ExecutionEvent[]) {
        if (state === recorded && event.type === 'Reported') continue;
        const result = transitionExecution(plan, state, event);
        expect(result.state).toBe(state);
        expect(result.effects).toEqual([]);
      }
    }
    // Nothing of the live path moves a recorded execution.
    for (const event of Object.values(events)) expect(transitionExecution(plan, recorded, event).state).toBe(recorded);
  });
});
