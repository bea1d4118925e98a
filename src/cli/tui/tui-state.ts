/**
 * What the TUI's user chose (the selected row, the log's scroll position, a search, the help) and
 * what each key does to it: pure, so every key is tested without a terminal. A key that asks for
 * an action on the daemon (start, stop, restart, run, quit) comes back as a `Command` for the app
 * to carry out.
 */
import type { ResourceRow } from '../resource-rows.js';

export interface SearchState {
  readonly query: string;
  /** The prompt is open: keys type into it. */
  readonly editing: boolean;
  /** The line (an index into the selected log) of the match shown, if any. */
  readonly line: number | null;
}

export interface UiState {
  /** The selected row's key (`service:<id>`, `task:<id>`). */
  readonly selected: string | null;
  /** How many lines above the bottom the log shows. */
  readonly scroll: number;
  /** New output moves the view (at the bottom); false once scrolled or at a match. */
  readonly follow: boolean;
  readonly search: SearchState | null;
  readonly help: boolean;
}

export const INITIAL_UI: UiState = { selected: null, scroll: 0, follow: true, search: null, help: false };

/** A key as Node's readline `keypress` event gives it. */
export interface Key {
  readonly name?: string | undefined;
  readonly sequence?: string | undefined;
  readonly ctrl?: boolean | undefined;
  readonly meta?: boolean | undefined;
  readonly shift?: boolean | undefined;
}

export type Command =
  | { readonly type: 'none' }
  | { readonly type: 'quit' }
  | { readonly type: 'detach' }
  | { readonly type: 'start' | 'stop' | 'restart'; readonly row: ResourceRow };

export interface KeyContext {
  readonly rows: readonly ResourceRow[];
  /** Lines in the selected row's log. */
  readonly logLength: number;
  /** Lines the log pane shows. */
  readonly pageSize: number;
  /** The indexes of the selected log's lines that contain `query`. */
  readonly matches: (query: string) => number[];
}

const NONE: Command = { type: 'none' };

function selectedIndex(state: UiState, rows: readonly ResourceRow[]): number {
  const index = rows.findIndex((row) => row.key === state.selected);
  return index < 0 ? 0 : index;
}

function clampScroll(scroll: number, context: KeyContext): number {
  return Math.max(0, Math.min(scroll, Math.max(0, context.logLength - context.pageSize)));
}

/** Scrolled to `scroll` lines above the bottom: at the bottom it follows again. */
function scrolled(state: UiState, scroll: number, context: KeyContext): UiState {
  const clamped = clampScroll(scroll, context);
  return { ...state, scroll: clamped, follow: clamped === 0 };
}

/** The scroll position that shows `line` in the middle of the pane. */
export function scrollTo(line: number, context: KeyContext): number {
  return clampScroll(context.logLength - 1 - line - Math.floor(context.pageSize / 2), context);
}

function move(state: UiState, context: KeyContext, by: number): UiState {
  if (context.rows.length === 0) return state;
  const index = Math.max(0, Math.min(context.rows.length - 1, selectedIndex(state, context.rows) + by));
  const key = context.rows[index]!.key;
  // Another row's log: from its end, and a search starts again there.
  return key === state.selected ? state : { ...state, selected: key, scroll: 0, follow: true, search: state.search === null ? null : { ...state.search, line: null } };
}

function jump(state: UiState, context: KeyContext, older: boolean): UiState {
  const search = state.search;
  if (search === null || search.query === '') return state;
  const lines = context.matches(search.query);
  if (lines.length === 0) return { ...state, search: { ...search, line: null } };
  const from = search.line ?? context.logLength;
  const next = older ? lines.findLast((line) => line < from) : lines.find((line) => line > from);
  // Past the last match it wraps round, as less and vim do.
  const line = next ?? (older ? lines.at(-1)! : lines[0]!);
  return { ...state, scroll: scrollTo(line, context), follow: false, search: { ...search, line } };
}

function typeInSearch(state: UiState, search: SearchState, key: Key, context: KeyContext): { state: UiState; command: Command } {
  if (key.name === 'escape' || (key.ctrl === true && key.name === 'c')) return { state: { ...state, search: null }, command: NONE };
  if (key.name === 'return' || key.name === 'enter') {
    const done = { ...state, search: { ...search, editing: false, line: null } };
    return { state: search.query === '' ? { ...state, search: null } : jump(done, context, true), command: NONE };
  }
  if (key.name === 'backspace') return { state: { ...state, search: { ...search, query: [...search.query].slice(0, -1).join('') } }, command: NONE };
  const text = key.sequence ?? '';
  if (key.ctrl !== true && key.meta !== true && text.length > 0 && !/[\u0000-\u001f\u007f]/.test(text)) {
    return { state: { ...state, search: { ...search, query: search.query + text } }, command: NONE };
  }
  return { state, command: NONE };
}

/** What a key does. */
export function onKey(state: UiState, key: Key, context: KeyContext): { state: UiState; command: Command } {
  const search = state.search;
  if (search?.editing === true) return typeInSearch(state, search, key, context);
  const row = context.rows[selectedIndex(state, context.rows)];
  const on = (type: 'start' | 'stop' | 'restart'): { state: UiState; command: Command } => ({ state, command: row === undefined ? NONE : { type, row } });
  const name = key.name ?? '';
  const char = key.ctrl === true || key.meta === true ? '' : (key.sequence ?? '');
  if (key.ctrl === true && name === 'c') return { state, command: { type: 'quit' } };
  if (key.ctrl === true && name === 'r') return on('restart');
  if (key.ctrl === true && name === 'f') return { state: { ...state, search: { query: '', editing: true, line: null } }, command: NONE };
  if (state.help && (name === 'escape' || char === '?' || name === 'f1' || char === 'q')) return { state: { ...state, help: false }, command: NONE };
  switch (name) {
    case 'up':
      return { state: move(state, context, -1), command: NONE };
    case 'down':
      return { state: move(state, context, 1), command: NONE };
    case 'pageup':
      return { state: scrolled(state, state.scroll + Math.max(1, context.pageSize - 1), context), command: NONE };
    case 'pagedown':
      return { state: scrolled(state, state.scroll - Math.max(1, context.pageSize - 1), context), command: NONE };
    case 'home':
      return { state: scrolled(state, context.logLength, context), command: NONE };
    case 'end':
      return { state: scrolled(state, 0, context), command: NONE };
    case 'escape':
      return { state: { ...state, search: null }, command: NONE };
    case 'f1':
      return { state: { ...state, help: !state.help }, command: NONE };
    case 'f7':
      return on('start');
    case 'f9':
      return on('stop');
    case 'f10':
      return { state, command: { type: 'quit' } };
    case 'return':
    case 'enter':
      return row?.kind === 'task' ? on('start') : { state, command: NONE };
  }
  switch (char) {
    case 'k':
      return { state: move(state, context, -1), command: NONE };
    case 'j':
      return { state: move(state, context, 1), command: NONE };
    case 'g':
      return { state: scrolled(state, context.logLength, context), command: NONE };
    case 'G':
      return { state: scrolled(state, 0, context), command: NONE };
    case '/':
      return { state: { ...state, search: { query: '', editing: true, line: null } }, command: NONE };
    case 'n':
      return { state: jump(state, context, true), command: NONE };
    case 'N':
      return { state: jump(state, context, false), command: NONE };
    case '?':
      return { state: { ...state, help: !state.help }, command: NONE };
    case 's':
    case 't':
      return on('start');
    case 'x':
      return on('stop');
    case 'r':
      return on('restart');
    case 'q':
      return { state, command: { type: 'quit' } };
    case 'd':
      return { state, command: { type: 'detach' } };
  }
  return { state, command: NONE };
}
