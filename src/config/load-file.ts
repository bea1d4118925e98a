/**
 * Loading `automations.yaml`: a pipeline of named steps, each adding problems with their line and
 * column, all reported together:
 *   refuseHostile → parseYaml (syntax, duplicate keys) → refuseEmpty → toPlainData (alias bombs) →
 *   checkShape (the schema module, strict: unknown fields, wrong types, unknown triggers) →
 *   checkAutomationsFile (keys, empty commands, durations, dependencies, cycles);
 * then, for a valid file, its warnings (`file-warnings.ts`), located the same way.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { AutomationsFile } from '../domain/schema.js';
import { checkFileData } from './check-file-data.js';
import { warnAutomationsFile } from './file-warnings.js';
import { InvalidAutomationsFile, pathText, type Problem } from './problem.js';

export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_NESTING = 64;
const MAX_ALIASES = 1000;

export { AUTOMATIONS_FILE_CANDIDATES, findAutomationsFile } from './file-location.js';

export interface LoadedAutomations {
  readonly file: AutomationsFile;
  /** sha256 of the text: an unchanged file is not applied again. */
  readonly hash: string;
  /** What is valid but will surprise at run time. */
  readonly warnings: readonly Problem[];
}

/** Why an empty file is refused: saved half-way, or truncated by a tool, far more often than meant. */
export const EMPTY_FILE_MESSAGE =
  'The file is empty (no services, no tasks): to remove every service and task on purpose, write "services: {}"';

export function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Refuses, before parsing, what would make the parser slow: huge files and deep nesting. */
function refuseHostile(text: string): Problem | undefined {
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) {
    return { line: 1, column: 1, path: '', message: `The file is larger than ${MAX_FILE_BYTES} bytes` };
  }
  let depth = 0;
  let line = 1;
  let column = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    column += 1;
    if (char === '\n') {
      line += 1;
      column = 0;
    } else if (char === '[' || char === '{') {
      depth += 1;
      if (depth > MAX_NESTING) {
        return { line, column, path: '', message: `Nesting deeper than ${MAX_NESTING} levels: this is not an automations file` };
      }
    } else if (char === ']' || char === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

type Path = readonly (string | number)[];

/** Line and column of the node at `path` (its key with `atKey`), or of the nearest ancestor. */
function locate(document: Document, counter: LineCounter, path: Path, atKey = false): { line: number; column: number } {
  let node: unknown = document.contents;
  let offset = (document.contents as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (let index = 0; index < path.length; index++) {
    const segment = path[index];
    const last = index === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      const key = pair.key as { range?: [number] };
      if (last && atKey && key.range !== undefined) {
        offset = key.range[0];
        break;
      }
      node = pair.value;
      offset = (pair.value as { range?: [number] } | null)?.range?.[0] ?? key.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as { range?: [number] } | undefined;
      if (item === undefined) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  const position = counter.linePos(offset);
  return { line: position.line, column: position.col };
}

/** Parses and checks the text of an automations file; `name` is what problems are reported against. */
export function parseAutomations(text: string, name: string): LoadedAutomations {
  const hostile = refuseHostile(text);
  if (hostile !== undefined) throw new InvalidAutomationsFile(name, [hostile]);

  const counter = new LineCounter();
  const document = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  const syntax: Problem[] = document.errors.map((error) => ({
    ...(error.linePos !== undefined
      ? { line: error.linePos[0].line, column: error.linePos[0].col }
      : { line: counter.linePos(error.pos[0]).line, column: counter.linePos(error.pos[0]).col }),
    path: '',
    message: error.code === 'DUPLICATE_KEY' ? 'Duplicate key: each key may appear only once in a mapping' : error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
  }));
  if (syntax.length > 0) throw new InvalidAutomationsFile(name, syntax);
  // No bytes, only whitespace and comments, or a bare null: a problem, not "delete everything".
  const contents = document.contents;
  if (contents === null || (isScalar(contents) && (contents.value === null || contents.value === ''))) {
    throw new InvalidAutomationsFile(name, [{ line: 1, column: 1, path: '', message: EMPTY_FILE_MESSAGE }]);
  }

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (error) {
    throw new InvalidAutomationsFile(name, [{ line: 1, column: 1, path: '', message: `Cannot read the file: ${(error as Error).message}` }]);
  }

  const problems: Problem[] = [];
  const checked = checkFileData(data);
  for (const problem of checked.problems) problems.push({ ...locate(document, counter, problem.path, problem.atKey), path: pathText(problem.path), message: problem.message });
  if (checked.file === undefined) {
    throw new InvalidAutomationsFile(name, problems.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  const warnings = warnAutomationsFile(checked.file).map((warning) => ({ ...locate(document, counter, warning.path, warning.atKey), path: pathText(warning.path), message: warning.message }));
  warnings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { file: checked.file, hash: hashText(text), warnings };
}

export function loadAutomationsFile(path: string): LoadedAutomations {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidAutomationsFile(path, [{ line: 1, column: 1, path: '', message: `Cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  return parseAutomations(text, path);
}
