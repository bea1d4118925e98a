/** Process records as the store keeps them, read back whatever tend version wrote them. */
import type { ServiceRunRecord, SessionRecord } from '../domain/session-record.js';
import type { StepProcessRecords } from './executions-table.js';

/**
 * A record as an earlier tend wrote it (`{session, identity, logPath, container?}`, the session
 * string being its marker) or as this one does.
 */
export function parseRunRecord(text: string | null): ServiceRunRecord | null {
  if (text === null) return null;
  const parsed = JSON.parse(text) as Partial<ServiceRunRecord> & { session?: unknown; identity?: SessionRecord['identity'] };
  if (typeof parsed.runId === 'string') return { runId: parsed.runId, session: (parsed.session as SessionRecord | null) ?? null };
  const legacy = parsed as unknown as { session: string; identity: SessionRecord['identity']; logPath: string; container?: string };
  return { runId: legacy.session, session: { runId: legacy.session, identity: legacy.identity, logPath: legacy.logPath, ...(legacy.container !== undefined ? { container: legacy.container } : {}) } };
}

export function parseStepRecords(text: string): StepProcessRecords {
  const parsed = JSON.parse(text) as Record<string, SessionRecord & { session?: string }>;
  return Object.fromEntries(
    Object.entries(parsed).map(([step, record]) => [step, { ...record, runId: record.runId ?? record.session ?? '' }]),
  );
}
