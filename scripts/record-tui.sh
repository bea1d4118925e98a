#!/usr/bin/env bash
# Records a session of `tend up`'s TUI on fixtures/example in a real terminal (tmux, 100x30) and
# writes the screens as text to docs/tui-session.md: the TUI as it comes up, a service's output,
# a restart, a task's steps, a search, the help, `tend ps` and `tend logs` beside it, and the end.
# Run it after `npm run build`: scripts/record-tui.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d /tmp/tend-record.XXXXXX)
socket="tend-record-$$"
out=docs/tui-session.md
mkdir -p docs
cp -r fixtures/example "$work/example"
t() { tmux -L "$socket" -f /dev/null "$@"; }
cleanup() {
  node "$root/dist/cli/main.js" down --workspace "$work/example" >/dev/null 2>&1 || true
  t kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # wait_for TEXT [SECONDS]
  local deadline=$(($(date +%s) + ${2:-20}))
  until t capture-pane -t main -p | grep -qF -- "$1"; do
    if (($(date +%s) > deadline)); then echo "timed out waiting for '$1'" >&2; t capture-pane -t main -p >&2; exit 1; fi
    sleep 0.1
  done
}
key() { t send-keys -t main "$1"; sleep 0.3; }
# The temporary paths and the daemon's port differ from run to run; the recording shows fixed ones.
tidy() { sed -e 's/[[:space:]]*$//' -e "s#$work#/work#g" -e "s#127\.0\.0\.1:${port:-none}#127.0.0.1:41237#g"; }
shot() { # shot TITLE TEXT
  { echo; echo "### $1"; echo; echo "$2"; echo; echo '```'; t capture-pane -t main -p | tidy; echo '```'; } >> "$out"
}
tend() { node "$root/dist/cli/main.js" "$@" --workspace "$work/example" | tidy; }

cat > "$out" <<'EOF'
# A session of `tend up` on fixtures/example

Recorded in a real terminal (tmux, 100 columns by 30 rows) by `scripts/record-tui.sh`, which
drives the TUI with keys and captures each screen as text (colours left out). The workspace is a
copy of [`fixtures/example`](../fixtures/example/.gitpod/automations.yaml): an API server with a
ready command, a ticking worker, install → build → smoke-test tasks and a manual `seed` task.
EOF

t new-session -d -s main -x 100 -y 30 -c "$work/example" env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color node "$root/dist/cli/main.js" up
t set-option -t main remain-on-exit on
wait_for 'smoke-test task    succeeded'
port=$(node -e 'console.log(new URL(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url).port)' "$work/example/.tend/daemon.json")
wait_for 'GET /health'
shot '1. `tend up`: every service and task, the selected one'"'"'s output' 'The start triggers fired; the API passed its ready command (RUNNING), the tasks ran in order. The selected row (▸) is the API server; below, its output as it comes.'

key j
wait_for 'tick'
shot '2. `j`: the worker' 'Its pid and uptime come from the daemon; its output is followed live.'

key r
wait_for '── new session'
sleep 3.2
shot '3. `r`: restarted' 'Stopped by the stop rules and started in a new session: its output goes on after a marker.'

key j; key j; key j
wait_for '▸ ✔ smoke-test'
shot '4. A task: its steps under headers' 'The smoke test ran after build and once the API was ready; a step that ran in another execution of the same firing is left out (it is in its own row).'

key k; key k; key k; key k
wait_for '▸ ● api'
key /; for c in h e a l t h; do key "$c"; done
key Enter
wait_for '▶'
shot '5. `/health` Enter: search' 'Matches are highlighted (inverse, in colour); `n` and `N` go to older and newer ones, Esc clears.'
key Escape

key '?'
wait_for 'tend up: keys'
shot '6. `?`: the keys' 'The help takes the place of the output until Esc.'
key Escape

{ echo; echo '### `tend ps` and `tend logs` in another terminal meanwhile'; echo; echo '```'; echo '$ tend ps'; tend ps; echo; echo '$ tend logs -n 2'; tend logs -n 2; echo '```'; } >> "$out"

key q
deadline=$(($(date +%s) + 20))
until [ "$(t display-message -t main -p '#{pane_dead}')" = 1 ]; do
  if (($(date +%s) > deadline)); then echo 'tend up did not exit' >&2; exit 1; fi
  sleep 0.1
done
{ echo; echo '### 7. `q`: everything stopped by the stop rules, the terminal as it was'; echo; echo '```'; t capture-pane -t main -p -J -S - | grep -v '^$' | grep -v '^Pane is dead' | tidy; echo '```'; } >> "$out"
echo "wrote $out"
