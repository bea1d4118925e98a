/**
 * Scans of /proc for the processes of sessions: one scan shared by every caller of a tick (a
 * hundred services stopping at once read the process table once), indexed once, and settled or
 * not (see `Scan`). Membership: the session's marker, its trusted process groups, descent.
 */
import { allocationNow, bornAfter, cannotHaveBeenReused, type Allocation, type Birth } from './pid-order.js';
import { ProcError } from './proc-read.js';
import { isDeadState, listPids, markerValue, readEnviron, readProcStat, SESSION_MARKER_VAR, type ProcessRef } from './proc.js';

/** A process with the session marker it carries (if any), as one scan of /proc saw it. */
interface ScannedProcess extends ProcessRef {
  readonly ppid: number;
  readonly pgrp: number;
  readonly session: string | null;
}

/**
 * One read of the process table. `endedDuring` is the latest start time (clock ticks after boot)
 * of a process that was listed but found dead or gone when read: Infinity when its start time is
 * unknown, -1 when none. Such a process may have forked after the listing and before it died, so
 * a scan tells that no process of a session is left only if nothing younger than the session
 * ended during it.
 */
interface Scan {
  readonly processes: readonly ScannedProcess[];
  readonly endedDuring: number;
}

/**
 * The session markers read so far, by pid, with the start time that names the process: a marker
 * is inherited at fork and kept at exec, so a process read once need not be read again (a stop of
 * 500 services shares several scans; each read the environment of every service's process). Only
 * found markers are kept: a child of the spawner that has not yet exec'd shows the spawner's
 * environment, without its session's marker. Pruned of the pids a scan no longer lists (the start
 * time tells a reused pid meanwhile). `seen`: where pid allocation stood when the process was last
 * read (null: /proc could not tell), which tells whether the pid can have been reused since.
 */
const markers = new Map<number, { readonly startTime: string; readonly session: string; seen: Allocation | null }>();

/**
 * The markers of this process's own sessions (told by `ownSession`, and each one a scan is asked
 * about). A process that carries one of them is that session's, and never a member of another own
 * session (its descendants inherit the same marker; it cannot join another one's process group,
 * which is in a POSIX session of its own). So a scan for other sessions need not read it at all,
 * while its pid cannot have been reused since it was read: a trickle of stops, 16 at a time, read
 * the stat of every one of 500 services' processes in each of its scans. A marker that is not its
 * own (another tend's, or a tend running inside a service) is never skipped: that may be a
 * descendant of the session a scan is for.
 */
const ownSessions = new Set<string>();

/** A session of this process (spawned or adopted): told before its processes are first read, so that the first stop of a hundred skips the others. */
export function ownSession(marker: string): void {
  ownSessions.add(marker);
}

function sessionMarker(pid: number, startTime: string, seen: Allocation | null): string | null | undefined {
  const known = markers.get(pid);
  if (known !== undefined && known.startTime === startTime) {
    known.seen = seen;
    return known.session;
  }
  const environ = readEnviron(pid);
  if (environ === null) return undefined;
  const session = markerValue(environ, SESSION_MARKER_VAR);
  if (session !== null) markers.set(pid, { startTime, session, seen });
  else markers.delete(pid);
  return session;
}

/** Whether a scan for the sessions `targets` need not read `pid`: it is still the process of another own session. */
function elsewhere(pid: number, targets: ReadonlySet<string>, now: Allocation): boolean {
  const known = markers.get(pid);
  return known?.seen != null && !targets.has(known.session) && ownSessions.has(known.session) && cannotHaveBeenReused(pid, known.seen, now);
}

/** Sessions told beyond those whose processes are known, before the ones none of whose processes is known are forgotten. */
const UNCARRIED_SESSIONS = 1024;

/**
 * Markers only once the cache holds more pids than are listed (some must be gone): a sweep per
 * task step pays nothing. Own sessions only once a thousand more were told than processes are
 * known: a forgotten one is only read again by scans for others (and told again when asked about).
 */
function pruneMarkers(listed: readonly number[]): void {
  if (markers.size > listed.length) {
    const alive = new Set(listed);
    for (const pid of markers.keys()) if (!alive.has(pid)) markers.delete(pid);
  }
  if (ownSessions.size > markers.size + UNCARRIED_SESSIONS) {
    const carried = new Set([...markers.values()].map((known) => known.session));
    for (const session of ownSessions) if (!carried.has(session)) ownSessions.delete(session);
  }
}

/**
 * Reads the marker only of processes started at or after `since` (clock ticks after boot): a
 * descendant of a session cannot be older than the session, and reading every process's
 * environment is what makes a scan expensive. With the `births` of every session asked about,
 * it reads only the processes whose pids were handed out since (pid-order.ts); null: all. With
 * the markers of every session asked about (`targets`), it skips the processes of the others
 * (`elsewhere`); null: it reads every one.
 */
function scanAll(since: number, births: readonly Birth[] | null, targets: ReadonlySet<string> | null): Scan {
  const processes: ScannedProcess[] = [];
  let endedDuring = -1;
  const self = process.pid;
  const pids = listPids();
  const allocation = allocationNow();
  const young = births === null ? null : bornAfter(births, allocation);
  const skips = targets !== null && allocation !== null;
  for (const pid of pids) {
    if (pid === self || (young !== null && !young(pid))) continue;
    if (skips && elsewhere(pid, targets, allocation)) continue;
    const stat = readProcStat(pid);
    if (stat === null) {
      endedDuring = Infinity;
      continue;
    }
    const started = Number(stat.startTime);
    if (isDeadState(stat.state)) {
      endedDuring = Math.max(endedDuring, started);
      continue;
    }
    let session: string | null = null;
    if (started >= since) {
      const marker = sessionMarker(pid, stat.startTime, allocation);
      if (marker === undefined) endedDuring = Math.max(endedDuring, started);
      else session = marker;
    }
    processes.push({ pid, startTime: stat.startTime, ppid: stat.ppid, pgrp: stat.pgrp, session });
  }
  pruneMarkers(pids);
  return { processes, endedDuring };
}

let pendingScan: Promise<Scan> | undefined;
let pendingSince = Infinity;
/** The births of the sessions the pending scan is for; null once one of them has none. */
let pendingBirths: Birth[] | null = [];
/** The markers of the sessions the pending scan is for; null once a caller asks for every process. */
let pendingTargets: Set<string> | null = new Set();
/** When the next scan may begin (performance.now()): scans keep the event loop at most half busy. */
let nextScanAt = 0;

/**
 * One scan of /proc serves every caller that asked before it began: when a hundred services stop
 * at once, the process table is read once, not a hundred times. The scan runs after every caller
 * asked, so none of them gets a picture older than its question. A scan waits after the previous
 * one for as long as that one took: when stops trickle in (a daemon busy with 500 of them), the
 * callers of that pause share the next scan instead of each paying one, and the daemon keeps
 * answering in between.
 */
function sharedScan(since: number, birth: Birth | undefined, marker: string | undefined): Promise<Scan> {
  pendingSince = Math.min(pendingSince, since);
  if (birth === undefined) pendingBirths = null;
  else pendingBirths?.push(birth);
  if (marker === undefined) pendingTargets = null;
  else pendingTargets?.add(marker);
  pendingScan ??= new Promise((resolve, reject) => {
    const run = (): void => {
      const threshold = pendingSince;
      const births = pendingBirths;
      const targets = pendingTargets;
      pendingScan = undefined;
      pendingSince = Infinity;
      pendingBirths = [];
      pendingTargets = new Set();
      const began = performance.now();
      scanWithRetries(threshold, births, targets).then((scanned) => {
        const ended = performance.now();
        nextScanAt = ended + (ended - began);
        resolve(scanned);
      }, reject);
    };
    const wait = nextScanAt - performance.now();
    if (wait > 1) setTimeout(run, wait);
    else setImmediate(run);
  });
  return pendingScan;
}

/** Pauses between the tries of a scan that /proc refused (file descriptors run out, then come back). */
const SCAN_RETRY_MS = [10, 50, 100, 250, 500];

/** A scan ends: it succeeds, or fails with ProcError after a few tries (about a second). */
async function scanWithRetries(since: number, births: readonly Birth[] | null, targets: ReadonlySet<string> | null): Promise<Scan> {
  for (let attempt = 0; ; attempt++) {
    try {
      return scanAll(since, births, targets);
    } catch (error) {
      const pause = SCAN_RETRY_MS[attempt];
      if (!(error instanceof ProcError) || pause === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/**
 * Every live process of a session: any process whose environment carries the session marker
 * (descendants that called setsid or double-forked too), the members of its process groups while
 * each group's leader is still the session's own process (same pid, same start time), and every
 * descendant of those by parent pid (one that cleared its environment and left the group, such as
 * `setsid env -i sleep`). A group whose leader is gone is never trusted by number: its pgid may
 * belong to someone else now.
 */
export async function findSessionProcessesShared(target: SessionScanTarget): Promise<ProcessRef[]> {
  return (await scanSession(target)).members;
}

export interface SessionScanTarget {
  readonly pgids: readonly number[];
  readonly marker: string;
  /** Start time (clock ticks after boot) of the session's first process, the group leader. */
  readonly since?: number;
  /** Its pid and the fork count before it was forked: scans then read younger pids only. */
  readonly birth?: Birth;
}

/**
 * The session's live processes (as `findSessionProcessesShared`), and whether the scan is
 * settled: no process younger than the session ended while it was read, so none of them can have
 * forked a member the scan missed. An empty settled scan means no process of the session is left.
 */
export async function scanSession(target: SessionScanTarget): Promise<{ members: ProcessRef[]; settled: boolean }> {
  const since = target.since ?? 0;
  ownSessions.add(target.marker);
  const scan = await sharedScan(since, since > 0 ? target.birth : undefined, target.marker);
  const index = indexOf(scan);
  const trusted = target.pgids.filter((pgid) => since > 0 && Number(index.byPid.get(pgid)?.startTime) === since);
  const members = [...(index.bySession.get(target.marker) ?? [])];
  for (const pgid of trusted) for (const entry of index.byGroup.get(pgid) ?? []) if (entry.session !== target.marker) members.push(entry);
  return { members: withDescendants(index, members, since), settled: scan.endedDuring < since };
}

/** A process (alive, with exactly that identity) and all its descendants (a container's init and what runs in it). */
export async function processTree(root: ProcessRef): Promise<ProcessRef[]> {
  const since = Number(root.startTime);
  const index = indexOf(await sharedScan(since, undefined, undefined));
  const top = index.byPid.get(root.pid);
  return top !== undefined && top.startTime === root.startTime ? withDescendants(index, [top], since) : [];
}

/** A scan's processes by pid, session marker, process group and parent: built once, shared by every caller of the scan. */
interface ScanIndex {
  readonly byPid: Map<number, ScannedProcess>;
  readonly bySession: Map<string, ScannedProcess[]>;
  readonly byGroup: Map<number, ScannedProcess[]>;
  readonly children: Map<number, ScannedProcess[]>;
}

const indexes = new WeakMap<Scan, ScanIndex>();

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** A hundred sessions stopping at once share one scan: each finds its processes without walking all of them. */
function indexOf(scan: Scan): ScanIndex {
  let index = indexes.get(scan);
  if (index !== undefined) return index;
  index = { byPid: new Map(), bySession: new Map(), byGroup: new Map(), children: new Map() };
  for (const entry of scan.processes) {
    index.byPid.set(entry.pid, entry);
    if (entry.session !== null) push(index.bySession, entry.session, entry);
    push(index.byGroup, entry.pgrp, entry);
    push(index.children, entry.ppid, entry);
  }
  indexes.set(scan, index);
  return index;
}

/** `members` and every process younger than `since` whose parent chain leads to one of them. */
function withDescendants(index: ScanIndex, members: readonly ScannedProcess[], since: number): ScannedProcess[] {
  const found = new Set(members.map((entry) => entry.pid));
  const result = [...members];
  for (let at = 0; at < result.length; at++) {
    for (const child of index.children.get(result[at]!.pid) ?? []) {
      if (Number(child.startTime) < since || found.has(child.pid)) continue;
      found.add(child.pid);
      result.push(child);
    }
  }
  return result;
}
