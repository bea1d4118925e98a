/**
 * Crash recovery, in one place. A daemon that starts finds what a dead one of the same state
 * directory left: a service recorded as STARTING, RUNNING or STOPPING whose session still runs
 * exactly as recorded (the runtime tells: same boot, pid and start time on the machine) is
 * re-adopted; anything else is lost, and says why. An execution's steps are never re-adopted:
 * their processes are stopped (only those that match their record exactly) and it ends FAILED.
 * Last, everything a previous daemon left running that nobody adopted is removed.
 */
import type { StoredRun } from '../domain/service-lifecycle.js';
import { isActivePhase } from '../domain/service-status.js';
import type { Session, SessionSpec } from '../runtime/runtime.js';
import type { StepProcessRecords, StoredService } from '../store/store.js';
import type { EngineParts } from './settings.js';

/** Instance ids of previous daemons whose processes may still run (adopted ones). */
const INSTANCE_IDS_KEY = 'instance_ids';

export interface RecoveredService {
  readonly stored: StoredRun;
  readonly adopted: Session | null;
  readonly lostBecause: string;
}

export class Recovery {
  /** Runs re-adopted from a dead daemon: their processes are not orphans. */
  readonly adoptedRuns = new Set<string>();

  constructor(
    private readonly parts: EngineParts,
    private readonly instanceId: string,
  ) {}

  /** What a stored service is now; `spec` rebuilds how its recorded session was started. */
  async service(stored: StoredService, spec: (runId: string, session: string) => SessionSpec | null): Promise<RecoveredService> {
    const { status } = stored.service;
    const run: StoredRun = {
      phase: status.phase ?? 'SERVICE_PHASE_STOPPED',
      session: status.session ?? null,
      runId: stored.run?.runId ?? null,
      failureMessage: status.failureMessage ?? null,
    };
    const record = stored.run?.session ?? null;
    if (!isActivePhase(status.phase)) return { stored: run, adopted: null, lostBecause: '' };
    if (record === null) return { stored: run, adopted: null, lostBecause: 'no record of its process was stored' };
    const sessionSpec = spec(record.runId, run.session ?? '');
    if (sessionSpec === null) return { stored: run, adopted: null, lostBecause: 'its spec can no longer be run' };
    const result = await this.parts.runtime.adopt(record, sessionSpec);
    if ('lost' in result) return { stored: run, adopted: null, lostBecause: result.lost };
    this.parts.log.info({ service: stored.service.metadata.reference, pid: record.identity.pid }, 'Re-adopting a running service');
    this.adoptedRuns.add(record.runId);
    return { stored: run, adopted: result.session, lostBecause: '' };
  }

  /** The step processes of an execution a dead daemon was running, killed where they are still ours. */
  async stopSteps(records: StepProcessRecords, workspace: string): Promise<void> {
    for (const record of Object.values(records)) {
      const spec: SessionSpec = {
        runId: record.runId,
        resourceId: '',
        sessionLabel: '',
        command: '',
        env: {},
        workspace,
        logPath: record.logPath,
        outputPath: record.logPath,
        runsOn: undefined,
      };
      const result = await this.parts.runtime.adopt(record, spec);
      if ('session' in result) await result.session.stop({ stopCommand: null, timeoutMs: 0, force: true });
    }
  }

  /** After every adoption: orphans of previous daemons go; instances still in use are remembered. */
  async sweep(): Promise<void> {
    const { store, runtime } = this.parts;
    const previous = JSON.parse(store.readMeta(INSTANCE_IDS_KEY) ?? '[]') as string[];
    const { instancesInUse } = await runtime.sweep(previous, this.adoptedRuns);
    store.writeMeta(INSTANCE_IDS_KEY, JSON.stringify([this.instanceId, ...instancesInUse]));
  }
}
