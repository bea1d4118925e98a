/**
 * The TUI's screen as a pure function: what there is (rows, the selected row's log, the user's
 * choices) and the terminal's size in, exactly `rows` lines of exactly `columns` columns out.
 * Layout, top to bottom: a title bar; the table of services and tasks (phase, pid, uptime,
 * ports, exit code, reason), scrolled to keep the selected row in view; a bar about the selected
 * one; one line of detail (why it failed, what it waits for, its command); its output; the key
 * bar (or the search prompt, or what tend is doing).
 */
import type { ResourceRow, Tone } from '../resource-rows.js';
import type { ShutdownPhase } from '../shutdown.js';
import type { StyleFormat, Styles } from '../styles.js';
import { fitWidth, stripAnsi } from '../terminal-text.js';
import type { LogBuffer } from './log-buffer.js';
import type { UiState } from './tui-state.js';

export interface ViewInput {
  readonly workspace: string;
  readonly url: string;
  readonly rows: readonly ResourceRow[];
  readonly ui: UiState;
  /** The selected row's output. */
  readonly log: LogBuffer | undefined;
  /** One line about the selected row: why it failed, what it waits for, its command. */
  readonly detail: string;
  /** What tend did last (an action's outcome), for the bottom line. */
  readonly message: string | null;
  readonly shutdown: ShutdownPhase;
  readonly styles: Styles;
}

export interface ScreenSize {
  readonly columns: number;
  readonly rows: number;
}

/** Lines above and below the two panes: title, table header, bar, detail, key bar. */
const CHROME = 5;
const MIN_TABLE_ROWS = 2;

const TONE_STYLE: Readonly<Record<Tone, StyleFormat>> = { good: 'green', busy: 'yellow', bad: 'red', idle: 'gray' };

function icon(row: ResourceRow): string {
  if (row.phase === 'failed') return '✘';
  if (row.kind === 'task') return row.phase === 'succeeded' ? '✔' : row.phase === 'running' || row.phase === 'pending' ? '◐' : row.phase === 'stopped' ? '■' : '○';
  return row.phase === 'running' ? '●' : row.phase === 'starting' || row.phase === 'stopping' ? '◐' : '○';
}

/** How many table rows there are room for, and how many log lines. */
export function layout(size: ScreenSize, rowCount: number): { tableRows: number; logRows: number } {
  const free = Math.max(0, size.rows - CHROME);
  // The table takes what it needs, up to half of the room; the log keeps the rest.
  const tableRows = Math.min(Math.max(rowCount, MIN_TABLE_ROWS), Math.max(MIN_TABLE_ROWS, Math.floor(free / 2)));
  return { tableRows: Math.min(tableRows, free), logRows: Math.max(0, free - tableRows) };
}

interface Column {
  readonly title: string;
  readonly width: number;
  readonly cell: (row: ResourceRow) => string;
}

function columns(rows: readonly ResourceRow[], width: number): Column[] {
  const nameWidth = Math.min(24, Math.max(4, ...rows.map((row) => row.name.length)));
  const fixed: Column[] = [
    { title: 'NAME', width: nameWidth, cell: (row) => row.name },
    { title: 'KIND', width: 7, cell: (row) => row.kind },
    { title: 'PHASE', width: 9, cell: (row) => row.phase },
    { title: 'PID', width: 7, cell: (row) => (row.pid === null ? '' : String(row.pid)) },
    { title: 'UPTIME', width: 7, cell: (row) => row.uptime },
    { title: 'PORTS', width: 11, cell: (row) => row.ports.join(',') },
    { title: 'EXIT', width: 4, cell: (row) => (row.exitCode === null ? '' : String(row.exitCode)) },
  ];
  const used = 4 + fixed.reduce((sum, column) => sum + column.width + 1, 0);
  return [...fixed, { title: 'REASON', width: Math.max(0, width - used), cell: (row) => row.reason }];
}

function tableLine(cells: readonly string[], cols: readonly Column[]): string {
  return cols.map((column, index) => fitWidth(cells[index] ?? '', column.width, { ellipsis: true })).join(' ');
}

function highlight(text: string, query: string, styles: Styles): string {
  if (query === '') return text;
  const plain = stripAnsi(text);
  const pattern = new RegExp(query.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  if (!pattern.test(plain)) return text;
  // Without colour, a match is still marked.
  return plain.replace(pattern, (match) => (styles.enabled ? styles.paint(['inverse', 'yellow'], match) : `[${match}]`));
}

const KEYS = '↑↓ select  s start  x stop  r restart  / search  PgUp/PgDn scroll  ? help  d detach  q quit';

const HELP = [
  'tend up: keys',
  '',
  '  ↑ ↓  k j         select a service or task',
  '  s  t  F7  Enter  start the service, run the task (a new execution)',
  '  x  F9            stop the service, stop the task\'s running execution',
  '  r  Ctrl-R        restart the service (stop by the stop rules, start); run the task again',
  '  PgUp PgDn        scroll the output;  g Home: its start;  G End: follow new output',
  '  /  Ctrl-F        search the output; Enter shows the last match, n older, N newer, Esc clears',
  '  ?  F1            this help (Esc closes it)',
  '  d                detach: leave the TUI, everything goes on running (`tend down` stops it)',
  '  q  F10  Ctrl-C   quit: stop everything by the stop rules (again: force, SIGKILL)',
];

function bottomLine(input: ViewInput, width: number): string {
  const { ui, styles } = input;
  if (ui.search?.editing === true) return fitWidth(`/${ui.search.query}█`, width);
  if (input.shutdown === 'stopping') return fitWidth(styles.paint('yellow', 'Stopping everything by the stop rules… (q or Ctrl-C again forces)'), width);
  if (input.shutdown === 'forcing') return fitWidth(styles.paint('red', 'Forcing: SIGKILL to what is left…'), width);
  if (input.message !== null) return fitWidth(styles.paint('bold', input.message), width);
  return fitWidth(styles.paint('dim', KEYS), width, { ellipsis: true });
}

export function renderScreen(input: ViewInput, size: ScreenSize): string[] {
  const { styles, ui } = input;
  const width = Math.max(1, size.columns);
  const lines: string[] = [];
  const services = input.rows.filter((row) => row.kind === 'service').length;
  const title = ` tend  ${input.workspace}  ${input.url}  ${services} service${services === 1 ? '' : 's'} · ${input.rows.length - services} task${input.rows.length - services === 1 ? '' : 's'}`;
  lines.push(styles.paint('inverse', fitWidth(title, width, { ellipsis: true })));

  const { tableRows, logRows } = layout(size, input.rows.length);
  const cols = columns(input.rows, width);
  lines.push(styles.paint('bold', fitWidth(`    ${tableLine(cols.map((column) => column.title), cols)}`, width)));
  const selected = Math.max(0, input.rows.findIndex((row) => row.key === ui.selected));
  const offset = Math.max(0, Math.min(selected - Math.floor(tableRows / 2), input.rows.length - tableRows));
  for (let index = offset; index < offset + tableRows; index++) {
    const row = input.rows[index];
    if (row === undefined) {
      lines.push(fitWidth(index === 0 ? '    (no services or tasks yet)' : '', width));
      continue;
    }
    const mark = index === selected ? '▸' : ' ';
    const text = `${mark} ${styles.paint(TONE_STYLE[row.tone], icon(row))} ${tableLine(cols.map((column) => column.cell(row)), cols)}`;
    lines.push(fitWidth(index === selected ? styles.paint('bold', text) : text, width));
  }

  const row = input.rows[selected];
  const log = input.log;
  const length = log?.length ?? 0;
  const end = Math.max(0, length - ui.scroll);
  const start = Math.max(0, end - logRows);
  const where = ui.follow ? 'following' : `lines ${start + 1}–${end} of ${length}`;
  const barText = row === undefined ? '── output ' : `── ${row.name} · ${row.kind} · ${row.phase}${row.pid === null ? '' : ` · pid ${row.pid}`} · ${where} `;
  lines.push(styles.paint('cyan', fitWidth(barText + '─'.repeat(width), width)));
  lines.push(fitWidth(input.detail === '' ? '' : styles.paint(row?.tone === 'bad' ? 'red' : 'dim', input.detail), width, { ellipsis: true }));

  if (ui.help) {
    for (let index = 0; index < logRows; index++) lines.push(fitWidth(HELP[index] ?? '', width));
  } else {
    const query = ui.search?.editing === false ? ui.search.query : '';
    const shown = log?.slice(start, end) ?? [];
    for (let index = 0; index < logRows; index++) {
      const line = shown[index];
      if (line === undefined) {
        lines.push(fitWidth(index === 0 && length === 0 ? styles.paint('dim', '(no output yet)') : '', width));
        continue;
      }
      const text = line.tend ? styles.paint('cyan', line.text) : highlight(line.text, query, styles);
      const current = ui.search?.line === start + index;
      lines.push(fitWidth(current ? `${styles.paint('yellow', '▶')}${text}` : text, width, { ellipsis: true }));
    }
  }
  lines.push(bottomLine(input, width));
  return lines.slice(0, size.rows);
}
