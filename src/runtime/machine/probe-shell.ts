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
 * `test` (plain-test.ts) has no effect but its exit code and cannot hang: the shell evaluates it
 * itself, with no process at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename } from 'node:path';
import { fileTail } from '../log-tail.js';
import type { ProbeResult, ProbeRun } from '../runtime.js';
import { isPlainTest } from './plain-test.js';
import { PROBE_OUTPUT_LIMIT } from './probe-process.js';

// Requests (one a line): "PAUSE REPEAT", the pause in seconds before the probe ("0": now) and how
// many probes to run, each after such a pause, while their outcome (exit code, output or none)
// stays that of the first: the answer comes once, for the last one, with how many ran. During a
// pause a line "w" begins the probe at once and "k" cancels the request (answered "k 0 N"); "w"
// and "k" that come while no pause runs are dropped. SIGUSR1 kills the probe under way (`wait` is
// interrupted by the trap).
const SCRIPT = `__tend_command=$1
__tend_output=$2
__tend_plain=$3
if [ -n "$__tend_plain" ]; then
  unset -f test [
  # A plain test runs in this shell: its output (an error only) goes to the file it always has
  # open, and answers to fd 3, so that a probe costs no redirection (the file is emptied only
  # after output, before the next probe).
  exec 3>&1 1>>"$__tend_output" 2>&1
else
  exec 3>&1
fi
set --
set -m
trap '__tend_killed=1; kill -KILL %% 2>/dev/null' USR1
while IFS= read -r __tend_request; do
  case $__tend_request in w|k) continue ;; esac
  __tend_pause=\${__tend_request%% *}
  __tend_repeat=\${__tend_request#* }
  __tend_n=0
  __tend_first=
  while :; do
    __tend_killed=
    if [ "$__tend_pause" != 0 ]; then
      __tend_line=
      IFS= read -r -t "$__tend_pause" __tend_line
      [ $? -eq 1 ] && exit 0
      if [ "$__tend_line" = k ]; then printf 'k 0 %s\\n' "$__tend_n" >&3; continue 2; fi
    fi
    if [ -n "$__tend_plain" ]; then
      [ "$__tend_out" = 1 ] && : >"$__tend_output"
      eval "$__tend_command"
      __tend_rc=$?
    else
      ( set +m; trap - USR1; eval "$__tend_command" ) </dev/null >"$__tend_output" 2>&1 3>&- &
      wait "$!"
      __tend_rc=$?
      if [ -n "$__tend_killed" ]; then wait "$!"; __tend_rc=k; fi
    fi
    if [ -s "$__tend_output" ]; then __tend_out=1; else __tend_out=0; fi
    __tend_n=$((__tend_n + 1))
    if [ "$__tend_rc" = 0 ] || [ "$__tend_n" -ge "$__tend_repeat" ] || { [ -n "$__tend_first" ] && [ "$__tend_first" != "$__tend_rc $__tend_out" ]; }; then
      printf '%s %s %s\\n' "$__tend_rc" "$__tend_out" "$__tend_n" >&3
      break
    fi
    __tend_first="$__tend_rc $__tend_out"
  done
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

  /** The ready command is a plain test: the shell evaluates it itself, and may repeat it (`run`). */
  get plain(): boolean {
    return isPlainTest(this.spec.command);
  }

  /**
   * A probe `delayMs` from now (the shell waits, not the daemon), or when woken; with `repeat`,
   * up to that many, `delayMs` apart, answered once: when one passes, when the outcome changes, or
   * after the last (the result says how many ran).
   */
  run(delayMs = 0, repeat = 1): ProbeRun {
    const child = this.process();
    let pending = true;
    const result = new Promise<ProbeResult>((resolve) => (this.pending = resolve)).finally(() => (pending = false));
    const times = delayMs > 0 ? Math.max(1, Math.floor(repeat)) : 1;
    child.stdin?.write(`${delayMs > 0 ? (delayMs / 1000).toFixed(3) : '0'} ${times}\n`);
    const alive = (): boolean => pending && child.exitCode === null && child.signalCode === null;
    return {
      result,
      spanMs: delayMs * times,
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
    const child = spawn(shell, ['--norc', '-c', SCRIPT, shell, command, outputPath, this.plain ? '1' : ''], {
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
      const [code, hasOutput, ran] = this.buffered.slice(0, end).split(' ');
      this.buffered = this.buffered.slice(end + 1);
      const exitCode = code === 'k' || code === undefined ? null : Number(code);
      const output = hasOutput === '1' ? fileTail(this.spec.outputPath, PROBE_OUTPUT_LIMIT) : '';
      this.answer({ ok: exitCode === 0, output, code: exitCode, probes: Number(ran ?? 1) });
    }
  }

  private answer(result: ProbeResult): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.(result);
  }
}
