/**
 * The ready probes of one session after its first, run by one long-lived bash instead of one
 * process each: a probe is a subshell of it (a fork of a 3 MB shell, a third of a millisecond),
 * not a fork and exec of a new shell (two milliseconds, half of it tend's), so that a service can
 * be probed every 100 ms while it starts without costing much, however long it takes.
 *
 * The shell runs in the session's place (working directory, variables, marker) in a session of
 * its own; tend asks for a probe with a line on its stdin and gets `CODE HAS_OUTPUT` back. Each
 * probe is a job with its own process group (`set -m`), its output in a file beside the session's
 * log (truncated by each probe). To end a probe at once tend sends SIGUSR1: the shell kills the
 * job's group with `kill %%`, which refers to its own job table, so a group that has already been
 * reaped (whose number may be someone else's by now) is never signalled. What a probe leaves
 * behind carries the session marker and goes with the session. When its stdin closes (tend is
 * done with it, or crashed) the shell exits.
 *
 * Inside the probe, `eval` runs the command in a subshell with no positional parameters, job
 * control off and the default SIGUSR1: what `bash -c command` gives, but for `$$` (the probe
 * shell's pid) and the probe shell's own variables (`__tend_*`). A ready command that is a plain
 * test needs no subshell: the runtime's one shell of plain tests evaluates it (plain-test-prober.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { fileTail } from '../log-tail.js';
import type { ProbeResult, ProbeRun } from '../runtime.js';
import { PROBE_OUTPUT_LIMIT } from './probe-process.js';

// Requests (one a line): the pause in seconds before the probe ("0": now). During the pause a line
// "w" begins the probe at once and "k" cancels it (answered "k 0"); "w" and "k" that come while no
// pause runs are dropped. SIGUSR1 kills the probe under way (`wait` is interrupted by the trap).
const SCRIPT = `__tend_command=$1
__tend_output=$2
set --
set -m
trap '__tend_killed=1; kill -KILL %% 2>/dev/null' USR1
while IFS= read -r __tend_request; do
  case $__tend_request in w|k) continue ;; esac
  __tend_killed=
  if [ "$__tend_request" != 0 ]; then
    __tend_line=
    IFS= read -r -t "$__tend_request" __tend_line
    [ $? -eq 1 ] && exit 0
    if [ "$__tend_line" = k ]; then printf 'k 0\\n'; continue; fi
  fi
  ( set +m; trap - USR1; eval "$__tend_command" ) </dev/null >"$__tend_output" 2>&1 &
  wait "$!"
  __tend_rc=$?
  if [ -n "$__tend_killed" ]; then wait "$!"; __tend_rc=k; fi
  if [ -s "$__tend_output" ]; then __tend_out=1; else __tend_out=0; fi
  printf '%s %s\\n' "$__tend_rc" "$__tend_out"
done
`;

/** Job control without a terminal, `%%`, traps that interrupt `wait`: bash has them; other shells get a process per probe. */
export function canRunProbeShell(shell: string): boolean {
  return basename(shell) === 'bash';
}

export interface ProbeShellSpec {
  readonly command: string;
  readonly shell: string;
  readonly cwd: string;
  /** The whole environment (the session marker included). */
  readonly env: Readonly<Record<string, string>>;
  /** Where each probe's output goes (removed when the shell is closed). */
  readonly outputPath: string;
}

export class ProbeShell {
  private child: ChildProcess | undefined;
  /** The probe under way (probes never overlap). */
  private pending: ((result: ProbeResult) => void) | undefined;
  private buffered = '';
  private closed = false;

  constructor(private readonly spec: ProbeShellSpec) {}

  /** A probe `delayMs` from now (the shell waits, not the daemon), or when woken. */
  run(delayMs = 0): ProbeRun {
    const child = this.process();
    let pending = true;
    const result = new Promise<ProbeResult>((resolve) => (this.pending = resolve)).finally(() => (pending = false));
    child.stdin?.write(delayMs > 0 ? `${(delayMs / 1000).toFixed(3)}\n` : '0\n');
    const alive = (): boolean => pending && child.exitCode === null && child.signalCode === null;
    return {
      result,
      // Ends a pause under way, or nothing (dropped by the shell) once the probe has begun.
      wake: () => {
        if (alive()) child.stdin?.write('w\n');
      },
      kill: () => {
        if (!alive()) return;
        // A pause under way is cancelled by the line, a probe under way by the signal: our own
        // child, so while it has not exited its pid is its own; it kills the job it knows.
        child.stdin?.write('k\n');
        child.kill('SIGUSR1');
      },
    };
  }

  /** No more probes: the shell exits (after the probe under way, if any) and its output file goes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
      rmSync(this.spec.outputPath, { force: true });
      return;
    }
    child.once('exit', () => rmSync(this.spec.outputPath, { force: true }));
    child.stdin?.end();
  }

  private process(): ChildProcess {
    if (this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const { shell, command, outputPath, cwd, env } = this.spec;
    // --norc: its stdin is a socket (Node's pipes are socketpairs), and bash takes a shell whose
    // stdin is a socket for one started by sshd, reading ~/.bashrc (pyenv's init there took
    // seconds for 100 shells at once).
    const child = spawn(shell, ['--norc', '-c', SCRIPT, shell, command, outputPath], {
      cwd,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    this.child = child;
    this.buffered = '';
    child.stdin?.on('error', () => {});
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.replies(chunk));
    // Killed with the session, or it could not start: the probe under way ends without an exit code.
    child.once('error', () => this.answer({ ok: false, output: `Cannot run the probe shell "${shell}"`, code: null }));
    child.once('exit', () => this.answer({ ok: false, output: fileTail(outputPath, PROBE_OUTPUT_LIMIT), code: null }));
    return child;
  }

  private replies(chunk: string): void {
    this.buffered += chunk;
    for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
      const [code, hasOutput] = this.buffered.slice(0, end).split(' ');
      this.buffered = this.buffered.slice(end + 1);
      const exitCode = code === 'k' || code === undefined ? null : Number(code);
      const output = hasOutput === '1' ? fileTail(this.spec.outputPath, PROBE_OUTPUT_LIMIT) : '';
      this.answer({ ok: exitCode === 0, output, code: exitCode });
    }
  }

  private answer(result: ProbeResult): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(result);
  }
}
