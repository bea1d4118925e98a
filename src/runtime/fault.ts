/**
 * Fault injection for crash tests: `TEND_FAULT=<point>` makes the daemon kill itself (SIGKILL, as
 * a crash would) when it reaches that point. Points:
 * - `after-spawn`: a service's start command was spawned, its record not yet stored;
 * - `mid-stop`: a service's stop has begun (signals sent), before it ends;
 * - `mid-reload`: an automations file is half applied (services done, tasks not).
 */
export type FaultPoint = 'after-spawn' | 'mid-stop' | 'mid-reload';

export function faultPoint(point: FaultPoint): void {
  if (process.env.TEND_FAULT === point) process.kill(process.pid, 'SIGKILL');
}
