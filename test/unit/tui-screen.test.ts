/**
 * The TUI without a terminal: its screen as a pure function of what there is, its keys as a pure
 * function of the state, and the writer that puts only the changed rows on a (fake) terminal.
 */
import { describe, expect, it } from 'vitest';
import type { LogItem } from '../../src/client/log-items.js';
import type { ResourceRow } from '../../src/cli/resource-rows.js';
import { fixedStyles } from '../../src/cli/styles.js';
import { stripAnsi } from '../../src/cli/terminal-text.js';
import { LogBuffer } from '../../src/cli/tui/log-buffer.js';
import { ScreenWriter } from '../../src/cli/tui/screen-writer.js';
import { INITIAL_UI, onKey, type KeyContext, type UiState } from '../../src/cli/tui/tui-state.js';
import { layout, renderScreen, type ViewInput } from '../../src/cli/tui/tui-view.js';
import { FakeTerminal } from '../helpers/fake-terminal.js';

function row(kind: 'service' | 'task', name: string, phase: string, extra: Partial<ResourceRow> = {}): ResourceRow {
  return {
    key: `${kind}:${name}`,
    kind,
    id: name,
    name,
    phase,
    tone: phase === 'failed' ? 'bad' : phase === 'running' || phase === 'succeeded' ? 'good' : 'idle',
    pid: null,
    uptime: '',
    ports: [],
    exitCode: null,
    reason: '',
    dependsOn: [],
    ...extra,
  };
}

const ROWS = [
  row('service', 'api', 'running', { pid: 4242, uptime: '3m05s', ports: [8787] }),
  row('service', 'db', 'failed', { exitCode: 3, reason: 'exit 3: fatal: config missing' }),
  row('task', 'build', 'succeeded', { exitCode: 0, uptime: '1.2s' }),
];

function logOf(lines: string[]): LogBuffer {
  const log = new LogBuffer();
  for (const text of lines) log.add({ kind: 'line', text, section: null } satisfies LogItem);
  return log;
}

function view(ui: UiState, log = logOf(['listening on 8787', 'GET / 200', 'GET /health 200']), extra: Partial<ViewInput> = {}): ViewInput {
  return { workspace: '/work/example', url: 'http://127.0.0.1:4000', rows: ROWS, ui, log, detail: '$ node server.js', message: null, shutdown: 'running', styles: fixedStyles(false), ...extra };
}

const context = (log: LogBuffer, pageSize = 5): KeyContext => ({ rows: ROWS, logLength: log.length, pageSize, matches: (query) => log.find(query, stripAnsi) });

describe('the TUI screen', () => {
  it('is exactly as many rows of exactly as many columns as the terminal, with every row and the selected one\'s output', () => {
    const lines = renderScreen(view({ ...INITIAL_UI, selected: 'service:api' }), { columns: 100, rows: 20 });
    expect(lines).toHaveLength(20);
    expect(lines.every((line) => line.length === 100)).toBe(true);
    const text = lines.map((line) => line.trimEnd());
    expect(text[0]).toMatch(/^ tend {2}\/work\/example {2}http:\/\/127\.0\.0\.1:4000 {2}2 services · 1 task$/);
    expect(text[1]).toMatch(/^ {4}NAME +KIND +PHASE +PID +UPTIME +PORTS +EXIT +REASON$/);
    expect(text[2]).toMatch(/^▸ ● api +service running +4242 +3m05s +8787$/);
    expect(text[3]).toMatch(/^ {2}✘ db +service failed +3 +exit 3: fatal: config missing$/);
    expect(text[4]).toMatch(/^ {2}✔ build +task +succeeded +1\.2s +0$/);
    expect(text.find((line) => line.startsWith('── api'))).toMatch(/^── api · service · running · pid 4242 · following ─+$/);
    expect(text).toContain('$ node server.js');
    expect(text).toContain('GET /health 200');
    expect(text[19]).toMatch(/^↑↓ select {2}s start {2}x stop {2}r restart/);
  });

  it('fits a small terminal and a long list: the table keeps the selected row in view, the log the rest', () => {
    const many = Array.from({ length: 30 }, (_, index) => row('task', `task-${index}`, 'succeeded'));
    const lines = renderScreen(view({ ...INITIAL_UI, selected: 'task:task-25' }, logOf([]), { rows: many }), { columns: 40, rows: 14 });
    expect(lines).toHaveLength(14);
    expect(lines.every((line) => line.length === 40)).toBe(true);
    expect(lines.join('\n')).toContain('▸ ✔ task-25');
    expect(layout({ columns: 40, rows: 14 }, 30)).toEqual({ tableRows: 4, logRows: 5 });
  });

  it('marks search matches (in brackets without colour, inverse with), and shows the prompt while typing', () => {
    const log = logOf(['GET / 200', 'error: boom', 'GET /health 200', 'another error']);
    const searching = renderScreen(view({ ...INITIAL_UI, selected: 'service:api', search: { query: 'err', editing: true, line: null } }, log), { columns: 60, rows: 16 });
    expect(searching.at(-1)!.trimEnd()).toBe('/err█');
    const found = renderScreen(view({ ...INITIAL_UI, selected: 'service:api', search: { query: 'err', editing: false, line: 3 } }, log), { columns: 60, rows: 16 });
    expect(found.map((line) => line.trimEnd())).toContain('[err]or: boom');
    expect(found.map((line) => line.trimEnd())).toContain('▶another [err]or');
    const coloured = renderScreen(view({ ...INITIAL_UI, selected: 'service:api', search: { query: 'err', editing: false, line: null } }, log, { styles: fixedStyles(true) }), { columns: 60, rows: 16 });
    expect(coloured.join('\n')).toContain('\u001b[7m\u001b[33merr\u001b[39m\u001b[27mor: boom');
  });

  it('says while stopping that another q or Ctrl-C forces, and has a help page', () => {
    expect(renderScreen(view(INITIAL_UI, undefined, { shutdown: 'stopping' }), { columns: 90, rows: 12 }).at(-1)).toContain('Stopping everything by the stop rules… (q or Ctrl-C again forces)');
    const help = renderScreen(view({ ...INITIAL_UI, help: true }), { columns: 100, rows: 30 }).join('\n');
    expect(help).toContain('restart the service (stop by the stop rules, start)');
    expect(help).toContain('quit: stop everything by the stop rules (again: force, SIGKILL)');
  });
});

describe('the TUI keys', () => {
  it('move the selection, scroll, search with n and N, and ask for actions on the selected row', () => {
    const log = logOf(Array.from({ length: 40 }, (_, index) => (index % 10 === 0 ? `error ${index}` : `line ${index}`)));
    const ctx = context(log);
    let state: UiState = { ...INITIAL_UI, selected: 'service:api' };
    const press = (key: { name?: string; sequence?: string; ctrl?: boolean }) => {
      const result = onKey(state, key, ctx);
      state = result.state;
      return result.command;
    };
    press({ sequence: 'j' });
    expect(state.selected).toBe('service:db');
    press({ name: 'down' });
    press({ name: 'down' });
    expect(state.selected).toBe('task:build');
    expect(press({ sequence: 'r' })).toEqual({ type: 'restart', row: ROWS[2] });
    press({ sequence: 'k' });
    expect(press({ sequence: 'x' })).toEqual({ type: 'stop', row: ROWS[1] });
    expect(press({ name: 'f7' })).toEqual({ type: 'start', row: ROWS[1] });
    expect(press({ name: 'r', ctrl: true })).toEqual({ type: 'restart', row: ROWS[1] });

    press({ name: 'pageup' });
    expect(state.scroll).toBe(4);
    press({ name: 'home' });
    expect(state.scroll).toBe(35);
    press({ name: 'end' });
    expect(state.scroll).toBe(0);

    press({ sequence: '/' });
    for (const char of 'ERROR') press({ sequence: char });
    press({ name: 'backspace' });
    press({ sequence: 'R' });
    expect(state.search).toEqual({ query: 'ERROR', editing: true, line: null });
    // Typing into the search never acts: q is a letter there.
    expect(press({ sequence: 'q' })).toEqual({ type: 'none' });
    press({ name: 'backspace' });
    press({ name: 'return' });
    expect(state.search).toEqual({ query: 'ERROR', editing: false, line: 30 });
    press({ sequence: 'n' });
    expect(state.search?.line).toBe(20);
    expect(state.scroll).toBe(17);
    press({ sequence: 'N' });
    expect(state.search?.line).toBe(30);
    press({ sequence: 'N' });
    expect(state.search?.line).toBe(0);
    press({ name: 'escape' });
    expect(state.search).toBeNull();

    expect(press({ sequence: 'q' })).toEqual({ type: 'quit' });
    expect(press({ name: 'c', ctrl: true })).toEqual({ type: 'quit' });
    expect(press({ sequence: 'd' })).toEqual({ type: 'detach' });
    press({ sequence: '?' });
    expect(state.help).toBe(true);
    press({ name: 'escape' });
    expect(state.help).toBe(false);
  });
});

describe('the screen writer', () => {
  it('enters the alternate screen, rewrites only changed rows, and leaves the terminal as it was', () => {
    const terminal = new FakeTerminal(20, 4);
    const writer = new ScreenWriter(terminal.stdout);
    writer.enter();
    expect(terminal.alternate).toBe(true);
    expect(terminal.cursorVisible).toBe(false);
    expect(writer.draw(['one', 'two', 'three', 'four'])).toBe(4);
    expect(terminal.screen()).toBe('one\ntwo\nthree\nfour');
    expect(writer.draw(['one', 'TWO', 'three', 'four'])).toBe(1);
    expect(terminal.screen()).toBe('one\nTWO\nthree\nfour');
    expect(writer.draw(['one', 'TWO'])).toBe(2);
    expect(terminal.screen()).toBe('one\nTWO\n\n');
    writer.invalidate();
    expect(writer.draw(['one', 'TWO'])).toBe(2);
    writer.leave();
    expect(terminal.alternate).toBe(false);
    expect(terminal.cursorVisible).toBe(true);
  });
});

describe('the log buffer', () => {
  it('keeps at most its cap, oldest lines first to go', () => {
    const log = new LogBuffer(3);
    for (const text of ['a', 'b', 'c', 'd']) log.add({ kind: 'line', text, section: null });
    log.mark('── new session');
    expect(log.slice(0, 3).map((line) => line.text)).toEqual(['c', 'd', '── new session']);
    expect(log.dropped).toBe(2);
    expect(log.find('D', (text) => text)).toEqual([1]);
  });
});
