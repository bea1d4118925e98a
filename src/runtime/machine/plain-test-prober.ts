/**
 * One bash for the plain-test ready commands (plain-test.ts) of every STARTING session of the
 * daemon: it evaluates each test itself, in the test's own context (the session's working
 * directory, and the values the session gives the variables the test names), on each test's own
 * schedule, and answers only when one passes, changes its outcome, or has been repeated as often
 * as asked. A timer wake of a process costs about 120 µs on a small VM whatever the process does,
 * so 100 services waiting on `test -f` cost one wake per due probe time, not 1,000 a second.
 *
 * Requests, one a line:
 * - `f DEFINITION`: defines the test's function `__tend_t_ID` and its output file `__tend_file[ID]`;
 * - `a ID PAUSE_US REPEAT`: probe it PAUSE_US from now and then every PAUSE_US, up to REPEAT times
 *   while the outcome stays that of the first, then answer `ID CODE HAS_OUTPUT PROBES`;
 * - `w ID`: its next probe is now; `k ID`: no more of this run (no answer); `r ID`: forget the test.
 * A test's output (an error: test prints nothing else) lands in the shell's shared output; the test
 * is then run again with its output in its own file, which the answer points to.
 *
 * A test is defined once per session and run many times. The shell starts with the first run and
 * ends when the last session lets go (its stdin closes: when the daemon dies too). The daemon's
 * spawner forks it and relays its stdin and stdout, so the daemon forks nothing of its own (a
 * fork of the daemon's heap held its thread 65 ms while a hundred services started). It runs no command but bash's own `test` and `cd`.
 */
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProbeResult, ProbeRun } from '../runtime.js';
import { fileTail } from '../log-tail.js';
import { PROBE_OUTPUT_LIMIT } from './probe-process.js';
import type { Relayed, Spawner } from './spawner.js';

// A test is due at its time; when the shell wakes for one, every test within half of its pause of
// its own time runs too, so that 100 tests of 100 ms pauses share a few wakes (each wake walks
// every test: half a pause costs 15 % less than a quarter with 100 tests waiting).
const SCRIPT = `LC_ALL=C
[ -n "$EPOCHREALTIME" ] || exit 3
__tend_shared=$1
exec 3>&1 1>>"$__tend_shared" 2>&1
set --
declare -A __tend_due __tend_early __tend_pause __tend_left __tend_first __tend_n __tend_file
__tend_carry=
__tend_next=0
__tend_request() {
  local id rest
  case $1 in
    'f '*) eval "\${1#f }" ;;
    'a '*)
      rest=\${1#a }; id=\${rest%% *}; rest=\${rest#* }
      __tend_pause[$id]=\${rest%% *}
      __tend_left[$id]=\${rest#* }
      __tend_due[$id]=$(( \${EPOCHREALTIME/./} + __tend_pause[$id] ))
      __tend_early[$id]=$(( __tend_due[$id] - __tend_pause[$id] / 2 ))
      __tend_first[$id]=-1
      __tend_n[$id]=0
      __tend_cwd= ;;
    'w '*)
      id=\${1#w }
      [ -n "\${__tend_due[$id]}" ] && __tend_due[$id]=\${EPOCHREALTIME/./} && __tend_early[$id]=\${__tend_due[$id]} ;;
    'k '*) unset "__tend_due[\${1#k }]" ;;
    'r '*)
      id=\${1#r }
      unset "__tend_due[$id]" "__tend_file[$id]"
      unset -f "__tend_t_$id" ;;
  esac
}
while :; do
  __tend_part=
  if (( \${#__tend_due[@]} == 0 )); then
    IFS= read -r __tend_part
    __tend_status=$?
  else
    # At least a millisecond: the end of its stdin is seen however busy it is.
    __tend_wait=$(( __tend_next - \${EPOCHREALTIME/./} ))
    (( __tend_wait < 1000 )) && __tend_wait=1000
    printf -v __tend_t '%d.%06d' $(( __tend_wait / 1000000 )) $(( __tend_wait % 1000000 ))
    IFS= read -r -t "$__tend_t" __tend_part
    __tend_status=$?
  fi
  # A read that times out mid-line keeps what it read: it begins the next line.
  if (( __tend_status == 0 )); then
    __tend_request "$__tend_carry$__tend_part"
    __tend_carry=
    # Every request already here, before probing (the daemon writes whole lines).
    while IFS= read -r -t 0; do
      IFS= read -r __tend_part || exit 0
      __tend_request "$__tend_part"
    done
  elif (( __tend_status > 128 )); then
    __tend_carry+=$__tend_part
  else
    exit 0
  fi
  __tend_now=\${EPOCHREALTIME/./}
  __tend_next=0
  for __tend_id in "\${!__tend_due[@]}"; do
    if (( __tend_early[$__tend_id] <= __tend_now )); then
      "__tend_t_$__tend_id"
      __tend_rc=$?
      __tend_o=0
      if [ -s "$__tend_shared" ]; then
        : >"$__tend_shared"
        "__tend_t_$__tend_id" >"\${__tend_file[$__tend_id]}" 2>&1
        __tend_rc=$?
        __tend_o=1
      fi
      # The outcome is rc * 2 + output: answered once it passes, changes, or was repeated enough.
      if (( ++__tend_n[$__tend_id] >= __tend_left[$__tend_id] || __tend_rc == 0 || (__tend_first[$__tend_id] >= 0 && __tend_first[$__tend_id] != __tend_rc * 2 + __tend_o) )); then
        printf '%s %s %s %s\\n' "$__tend_id" "$__tend_rc" "$__tend_o" "\${__tend_n[$__tend_id]}" >&3
        unset "__tend_due[$__tend_id]"
        continue
      fi
      # One arithmetic command for the three: each command of this loop costs, 100 tests 10 times a second.
      (( __tend_first[$__tend_id] = __tend_rc * 2 + __tend_o, __tend_due[$__tend_id] = __tend_now + __tend_pause[$__tend_id], __tend_early[$__tend_id] = __tend_due[$__tend_id] - __tend_pause[$__tend_id] / 2 ))
    fi
    (( __tend_next == 0 || __tend_due[$__tend_id] < __tend_next )) && __tend_next=\${__tend_due[$__tend_id]}
  done
done
`;

/** Variables bash keeps itself: a test that names one sees bash's, as in a shell of its own. */
const BASH_OWN = new Set(['PWD', 'OLDPWD', 'BASHPID', 'RANDOM', 'SRANDOM', 'SECONDS', 'EPOCHREALTIME', 'EPOCHSECONDS', 'LINENO', 'PPID', 'UID', 'EUID', 'SHLVL', 'BASH', 'BASH_VERSION', 'BASH_VERSINFO', 'HOSTNAME', 'HOSTTYPE', 'MACHTYPE', 'OSTYPE']);

/** A word bash reads back exactly, on one line (`$'...'`). */
export function ansiQuote(value: string): string {
  const escaped = value.replace(/[\\']/g, '\\$&').replace(/[\x00-\x1f\x7f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `$'${escaped}'`;
}

export interface PlainTest {
  readonly command: string;
  /** The session's whole environment: the values of the variables the test names. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** Where the output of a probe that printed goes. */
  readonly outputPath: string;
}

/** The function that evaluates `test` in its context: its variables local, the rest unset, in its directory. */
function definition(id: number, test: PlainTest): string {
  const names = new Set([...test.command.matchAll(/\$\{?([A-Za-z_]\w*)/g)].map((match) => match[1]!));
  const locals = [...names]
    .filter((name) => !BASH_OWN.has(name) && !name.startsWith('__tend_'))
    .map((name) => (test.env[name] !== undefined ? `local ${name}=${ansiQuote(test.env[name])};` : `local ${name}; unset ${name};`));
  const cwd = ansiQuote(test.cwd);
  // The directory is changed only when another test's was the last (and at each new run).
  return `__tend_file[${id}]=${ansiQuote(test.outputPath)}; __tend_t_${id}() { [ "$__tend_cwd" = ${cwd} ] || { __tend_cwd=; cd -- ${cwd} || return 2; __tend_cwd=${cwd}; }; ${locals.join(' ')} ${test.command.trim()}; }`;
}

interface Pending {
  readonly outputPath: string;
  resolve(result: ProbeResult): void;
}

export class PlainTestProber {
  /** The shell under way: the spawner's relayed child. */
  private child: Relayed | undefined;
  private buffered = '';
  private nextId = 1;
  /** The tests of the sessions that probe with it, by id: defined again in a new shell. */
  private readonly tests = new Map<number, PlainTest>();
  /** The run under way of each test (runs of one test never overlap). */
  private readonly pending = new Map<number, Pending>();
  /** False once its bash turned out too old (no `$EPOCHREALTIME`, bash < 5): then a probe shell per session. */
  supported = true;

  constructor(
    private readonly shell: string,
    private readonly spawner: Spawner,
  ) {}

  /** The shell's pid once it runs (undefined when none runs). */
  async pid(): Promise<number | undefined> {
    return this.child?.started.then((identity) => identity.pid, () => undefined);
  }

  /** A session's test, from its first probe in this shell until `forget`. */
  register(test: PlainTest): number {
    const id = this.nextId++;
    this.tests.set(id, test);
    this.child?.input(`f ${definition(id, test)}\n`);
    return id;
  }

  /** The session is done probing; with the last one gone, the shell ends. */
  forget(id: number): void {
    if (!this.tests.delete(id)) return;
    this.answer(id, { ok: false, output: '', code: null });
    if (this.tests.size > 0) return void this.child?.input(`r ${id}\n`);
    this.child?.endInput();
    this.child = undefined;
  }

  /** Up to `repeat` probes of test `id`, `delayMs` apart, answered once (see the module's comment). */
  run(id: number, delayMs: number, repeat: number): ProbeRun {
    const test = this.tests.get(id);
    const times = Math.max(1, Math.floor(repeat));
    if (test === undefined) return { result: Promise.resolve({ ok: false, output: 'The probe was forgotten', code: null }), kill: () => {} };
    const shell = this.process();
    let done = false;
    const result = new Promise<ProbeResult>((resolve) => this.pending.set(id, { outputPath: test.outputPath, resolve }));
    void result.then(() => (done = true));
    shell.input(`a ${id} ${Math.max(0, Math.round(delayMs * 1000))} ${times}\n`);
    return {
      result,
      spanMs: delayMs * times,
      wake: () => {
        if (!done) this.child?.input(`w ${id}\n`);
      },
      kill: () => {
        if (done) return;
        this.child?.input(`k ${id}\n`);
        this.answer(id, { ok: false, output: '', code: null });
      },
    };
  }

  private process(): Relayed {
    if (this.child !== undefined) return this.child;
    const first = this.tests.values().next().value as PlainTest;
    const shared = join(dirname(first.outputPath), `plain-tests-${process.pid}-${this.nextId}.out`);
    // --norc: its stdin is a socket, and bash would take it for a shell started by sshd.
    const relayed = this.spawner.spawnRelayed(
      { file: this.shell, args: ['--norc', '-c', SCRIPT, this.shell, shared], cwd: dirname(shared), env: {} },
      (chunk) => {
        if (this.child === current) this.replies(chunk);
      },
    );
    const current = relayed;
    this.child = relayed;
    this.buffered = '';
    // Ended (killed), or it could not start (the daemon is stopping): the runs under way end
    // without an answer of its own, and the next run starts another shell.
    const ended = (code: number | null): void => {
      if (code === 3) this.supported = false;
      rmSync(shared, { force: true });
      if (this.child !== current) return;
      this.child = undefined;
      for (const id of [...this.pending.keys()]) this.answer(id, { ok: false, output: `The probe shell "${this.shell}" ended`, code: null });
    };
    relayed.started.catch(() => ended(null));
    void relayed.exited.then(({ exit }) => ended(exit.code));
    relayed.input([...this.tests].map(([id, test]) => `f ${definition(id, test)}\n`).join(''));
    return relayed;
  }

  private replies(chunk: string): void {
    this.buffered += chunk;
    for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
      const [id, code, hasOutput, ran] = this.buffered.slice(0, end).split(' ').map(Number);
      this.buffered = this.buffered.slice(end + 1);
      const pending = this.pending.get(id!);
      if (pending === undefined) continue;
      const output = hasOutput === 1 ? fileTail(pending.outputPath, PROBE_OUTPUT_LIMIT) : '';
      this.answer(id!, { ok: code === 0, output, code: code!, probes: ran! });
    }
  }

  private answer(id: number, result: ProbeResult): void {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    pending?.resolve(result);
  }
}
