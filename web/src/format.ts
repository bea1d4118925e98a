/** How the page words phases, times and durations. Pure. */

/** `SERVICE_PHASE_RUNNING` → `RUNNING`. */
export function phaseName(phase: string | undefined): string {
  return (phase ?? 'UNSPECIFIED').replace(/^(SERVICE|TASK_EXECUTION)_PHASE_/, '');
}

/** 850 ms, 12.3 s, 3m 12s, 2h 5m, 3d 4h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.floor(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.floor(seconds % 60)}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** The first line of a message, for a one-line summary. */
export function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

export const TRIGGER_NAMES = ['manual', 'postMachineStart', 'postEnvironmentStart', 'postDevcontainerStart', 'prebuild', 'beforeSnapshot'] as const;

/** The id of a log from its URL (`…/logs/<id>`), when the log is this daemon's own. */
export function ownLogId(logUrl: string | undefined, daemonUrl: string | undefined): { id: string } | { elsewhere: string } | undefined {
  if (logUrl === undefined || logUrl === '') return undefined;
  let url: URL;
  try {
    url = new URL(logUrl);
  } catch {
    return undefined;
  }
  const id = /\/logs\/([^/]+)$/.exec(url.pathname)?.[1];
  if (id === undefined) return undefined;
  if (daemonUrl !== undefined && new URL(daemonUrl).origin !== url.origin) return { elsewhere: url.origin };
  return { id: decodeURIComponent(id) };
}

/** What a ready probe's wait has come to, in words: `3 probes so far, the last exited 1: not yet`. */
export function describeProbes(probes: number, last: { exitCode: number | null; output: string; killedAtBound: boolean } | null): string {
  if (last === null) return 'no probe has ended yet';
  const how = last.killedAtBound ? 'was killed at the per-probe bound' : last.exitCode === null ? 'was killed' : `exited ${last.exitCode}`;
  const said = last.output.trimEnd().split('\n').at(-1)?.trim() ?? '';
  return `${probes} probe${probes === 1 ? '' : 's'} so far, the last ${how}${said === '' ? ' and printed nothing' : `: ${said}`}`;
}
