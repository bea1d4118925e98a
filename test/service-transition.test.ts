import { describe, expect, it } from 'vitest';
import {
  describeExit,
  transitionService,
  type ProcessIdentity,
  type ServiceEvent,
  type ServiceState,
  type StoredRun,
} from '../src/domain/service-lifecycle.js';

const proc: ProcessIdentity = { pid: 100, pgid: 100, startTime: '5', bootId: 'boot' };
const other: ProcessIdentity = { pid: 200, pgid: 200, startTime: '6', bootId: 'boot' };

const states = {
  stopped: { phase: 'stopped', session: 's0', runId: 'r0' },
  failed: { phase: 'failed', session: 's0', runId: 'r0', failureMessage: 'old failure' },
  starting: { phase: 'starting', session: 's1', runId: 'r1', proc },
  running: { phase: 'running', session: 's1', runId: 'r1', proc },
  stopping: { phase: 'stopping', session: 's1', runId: 'r1', proc, forced: false, failWith: null },
  stoppingForced: { phase: 'stopping', session: 's1', runId: 'r1', proc, forced: true, failWith: null },
  stoppingToFail: { phase: 'stopping', session: 's1', runId: 'r1', proc, forced: false, failWith: 'not ready' },
} satisfies Record<string, ServiceState>;

const events = {
  spawnedReady: { type: 'Spawned', session: 's2', runId: 'r2', proc: other, awaitsReady: true },
  spawnedPlain: { type: 'Spawned', session: 's2', runId: 'r2', proc: other, awaitsReady: false },
  spawnFailed: { type: 'SpawnFailed', session: 's2', runId: 'r2', message: 'no shell' },
  probePassed: { type: 'ReadyProbePassed' },
  readinessTimedOut: { type: 'ReadinessTimedOut', message: 'not ready' },
  exitedClean: { type: 'ProcessExited', exit: { code: 0, signal: null }, failureMessage: 'exit 0' },
  exitedCode: { type: 'ProcessExited', exit: { code: 2, signal: null }, failureMessage: 'exit 2' },
  stop: { type: 'StopRequested', force: false },
  forceStop: { type: 'StopRequested', force: true },
  stopOk: { type: 'StopFinished', failureMessage: null },
  stopFailed: { type: 'StopFinished', failureMessage: 'stop failed' },
} satisfies Record<string, ServiceEvent>;

type StateName = keyof typeof states;
type EventName = keyof typeof events;
/** Expected `phase[:failureMessage] effects...`; '=' means: the very same state, no effects. */
const table: Record<StateName, Record<EventName, string>> = {
  stopped: {
    spawnedReady: 'starting startProbing',
    spawnedPlain: 'running',
    spawnFailed: 'failed:no shell',
    probePassed: '=',
    readinessTimedOut: '=',
    exitedClean: '=',
    exitedCode: '=',
    stop: '=',
    forceStop: '=',
    stopOk: '=',
    stopFailed: '=',
  },
  failed: {
    spawnedReady: 'starting startProbing',
    spawnedPlain: 'running',
    spawnFailed: 'failed:no shell',
    probePassed: '=',
    readinessTimedOut: '=',
    exitedClean: '=',
    exitedCode: '=',
    stop: '=',
    forceStop: '=',
    stopOk: '=',
    stopFailed: '=',
  },
  starting: {
    spawnedReady: 'starting killStray',
    spawnedPlain: 'starting killStray',
    spawnFailed: '=',
    probePassed: 'running',
    readinessTimedOut: 'stopping:not ready stopProbing stopProcesses',
    exitedClean: 'stopped stopProbing killLeftovers',
    exitedCode: 'failed:exit 2 stopProbing killLeftovers',
    stop: 'stopping stopProbing stopProcesses',
    forceStop: 'stopping stopProbing stopProcesses!',
    stopOk: '=',
    stopFailed: '=',
  },
  running: {
    spawnedReady: 'running killStray',
    spawnedPlain: 'running killStray',
    spawnFailed: '=',
    probePassed: '=',
    readinessTimedOut: '=',
    exitedClean: 'stopped stopProbing killLeftovers',
    exitedCode: 'failed:exit 2 stopProbing killLeftovers',
    stop: 'stopping stopProbing stopProcesses',
    forceStop: 'stopping stopProbing stopProcesses!',
    stopOk: '=',
    stopFailed: '=',
  },
  stopping: {
    spawnedReady: 'stopping killStray',
    spawnedPlain: 'stopping killStray',
    spawnFailed: '=',
    probePassed: '=',
    readinessTimedOut: '=',
    exitedClean: '=',
    exitedCode: '=',
    stop: '=',
    forceStop: 'stopping killLeftovers',
    stopOk: 'stopped',
    stopFailed: 'failed:stop failed',
  },
  stoppingForced: {
    spawnedReady: 'stopping killStray',
    spawnedPlain: 'stopping killStray',
    spawnFailed: '=',
    probePassed: '=',
    readinessTimedOut: '=',
    exitedClean: '=',
    exitedCode: '=',
    stop: '=',
    forceStop: '=',
    stopOk: 'stopped',
    stopFailed: 'failed:stop failed',
  },
  stoppingToFail: {
    spawnedReady: 'stopping:not ready killStray',
    spawnedPlain: 'stopping:not ready killStray',
    spawnFailed: '=',
    probePassed: '=',
    readinessTimedOut: '=',
    exitedClean: '=',
    exitedCode: '=',
    stop: '=',
    forceStop: 'stopping:not ready killLeftovers',
    stopOk: 'failed:not ready',
    stopFailed: 'failed:stop failed',
  },
};

function describeResult(state: ServiceState, result: ReturnType<typeof transitionService>): string {
  if (result.state === state && result.effects.length === 0) return '=';
  const message =
    result.state.phase === 'failed'
      ? `:${result.state.failureMessage}`
      : result.state.phase === 'stopping' && result.state.failWith !== null
        ? `:${result.state.failWith}`
        : '';
  const effects = result.effects.map((effect) =>
    effect.type === 'stopProcesses' && effect.force ? 'stopProcesses!' : effect.type,
  );
  return [`${result.state.phase}${message}`, ...effects].join(' ');
}

describe('transitionService', () => {
  for (const [stateName, state] of Object.entries(states) as [StateName, ServiceState][]) {
    for (const [eventName, event] of Object.entries(events) as [EventName, ServiceEvent][]) {
      it(`${stateName} × ${eventName} → ${table[stateName][eventName]}`, () => {
        expect(describeResult(state, transitionService(state, event))).toBe(table[stateName][eventName]);
      });
    }
  }

  it('keeps the session of the process it observes, and takes the new one on spawn', () => {
    expect(transitionService(states.running, events.exitedCode).state).toMatchObject({ session: 's1' });
    expect(transitionService(states.stopped, events.spawnedPlain).state).toMatchObject({ session: 's2', proc: other });
    expect(transitionService(states.stopping, events.forceStop).state).toMatchObject({ forced: true });
  });

  it('describes exits by code, by signal and unknown', () => {
    expect(describeExit('Command "x"', { code: 1, signal: null }, 'boom\n')).toBe('Command "x" exited with code 1; last output:\nboom');
    expect(describeExit('Command "x"', { code: null, signal: 'SIGKILL' }, '')).toBe('Command "x" was killed by signal SIGKILL');
    expect(describeExit('Command "x"', { code: null, signal: null }, '')).toBe('Command "x" exited with an unknown exit code');
  });
});

/**
 * The rest of the table: recovery after a restart, deletion and a serve-only daemon's reports
 * are events of the same function, and the states they lead to (deleted, reported) take every
 * event too.
 */
const moreStates = {
  ...states,
  deleted: { phase: 'deleted', session: 's0', runId: 'r0' },
  reported: { phase: 'reported', status: { phase: 'SERVICE_PHASE_RUNNING', session: 'x' } },
} satisfies Record<string, ServiceState>;

const stored = (phase: StoredRun['phase'], failureMessage: string | null = null): StoredRun => ({ phase, session: 's9', runId: 'r9', failureMessage });
const moreEvents = {
  recoveredRunning: { type: 'Recovered', stored: stored('SERVICE_PHASE_RUNNING'), adopted: other, lostBecause: '' },
  recoveredStarting: { type: 'Recovered', stored: stored('SERVICE_PHASE_STARTING'), adopted: other, lostBecause: '' },
  recoveredStopping: { type: 'Recovered', stored: stored('SERVICE_PHASE_STOPPING'), adopted: other, lostBecause: '' },
  recoveredLost: { type: 'Recovered', stored: stored('SERVICE_PHASE_RUNNING'), adopted: null, lostBecause: 'gone' },
  recoveredFailed: { type: 'Recovered', stored: stored('SERVICE_PHASE_FAILED', 'old'), adopted: null, lostBecause: '' },
  recoveredStopped: { type: 'Recovered', stored: stored('SERVICE_PHASE_STOPPED'), adopted: null, lostBecause: '' },
  removed: { type: 'Removed' },
  reported: { type: 'Reported', status: { phase: 'SERVICE_PHASE_STARTING', session: 'y' } },
} satisfies Record<string, ServiceEvent>;

const lost = 'failed:The tend daemon stopped unexpectedly while the service was RUNNING; gone';
const untouched = { recoveredRunning: '=', recoveredStarting: '=', recoveredStopping: '=', recoveredLost: '=', recoveredFailed: '=', recoveredStopped: '=' };
const moreTable: Record<keyof typeof moreStates, Record<keyof typeof moreEvents, string>> = {
  stopped: {
    recoveredRunning: 'running',
    recoveredStarting: 'starting startProbing',
    recoveredStopping: 'running',
    recoveredLost: lost,
    recoveredFailed: 'failed:old',
    recoveredStopped: 'stopped',
    removed: 'deleted',
    reported: 'reported',
  },
  failed: { ...untouched, removed: 'deleted', reported: 'reported' },
  starting: { ...untouched, removed: '=', reported: '=' },
  running: { ...untouched, removed: '=', reported: '=' },
  stopping: { ...untouched, removed: '=', reported: '=' },
  stoppingForced: { ...untouched, removed: '=', reported: '=' },
  stoppingToFail: { ...untouched, removed: '=', reported: '=' },
  deleted: { ...untouched, removed: '=', reported: '=' },
  reported: { ...untouched, removed: 'deleted', reported: 'reported' },
};
/** The new states under the live path's events: only a raced spawn does anything (it is killed). */
const liveEventsOnNewStates = Object.fromEntries(
  Object.keys(events).map((name) => [name, name.startsWith('spawned') ? 'killStray' : '=']),
) as Record<EventName, string>;

describe('transitionService: recovery, deletion and reports', () => {
  for (const [stateName, state] of Object.entries(moreStates) as [keyof typeof moreStates, ServiceState][]) {
    for (const [eventName, event] of Object.entries(moreEvents) as [keyof typeof moreEvents, ServiceEvent][]) {
      it(`${stateName} × ${eventName} → ${moreTable[stateName][eventName]}`, () => {
        expect(describeResult(state, transitionService(state, event))).toBe(moreTable[stateName][eventName]);
      });
    }
  }
  for (const stateName of ['deleted', 'reported'] as const) {
    for (const [eventName, event] of Object.entries(events) as [EventName, ServiceEvent][]) {
      const expected = liveEventsOnNewStates[eventName] === 'killStray' ? `${stateName} killStray` : '=';
      it(`${stateName} × ${eventName} → ${expected}`, () => {
        expect(describeResult(moreStates[stateName], transitionService(moreStates[stateName], event))).toBe(expected);
      });
    }
  }

  it('an adopted service keeps its session and run; a report is the status as reported', () => {
    expect(transitionService(states.stopped, moreEvents.recoveredRunning).state).toEqual({ phase: 'running', session: 's9', runId: 'r9', proc: other });
    expect(transitionService(states.stopped, moreEvents.reported).state).toEqual({ phase: 'reported', status: { phase: 'SERVICE_PHASE_STARTING', session: 'y' } });
  });
});
