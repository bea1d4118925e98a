/**
 * The files a plain test looks at (`test -f "$DIR/ready"`, `[ -S /var/run/docker.sock ]`,
 * `[[ -e ~/.done ]]`): the operands of its unary file operators, expanded as bash would (the
 * session's variables, `~`, its working directory). A change to one of them is worth a probe at
 * once (path-watch.ts), so the test need not be polled ten times a second. Where any word is not
 * known for sure (a variable the session does not set, `$$`, an unquoted value with spaces), the
 * answer is null: such a test is polled as any other.
 */
import { isAbsolute, join } from 'node:path';
import { plainTestArguments } from './plain-test.js';

const FILE_OPERATORS = new Set(['-a', '-b', '-c', '-d', '-e', '-f', '-g', '-h', '-k', '-p', '-r', '-s', '-u', '-w', '-x', '-G', '-L', '-N', '-O', '-S']);

/** The absolute paths `command` tests, or null (not a plain test, no file operand, or a word not known for sure). */
export function testPaths(command: string, env: Readonly<Record<string, string | undefined>>, cwd: string): string[] | null {
  const args = plainTestArguments(command);
  const words = args === null ? null : splitWords(args, env);
  if (words === null) return null;
  const paths: string[] = [];
  for (let index = 0; index < words.length - 1; index++) {
    const word = words[index]!;
    // `-a` is also "and" between two tests: a file operator only where a test begins.
    const begins = index === 0 || ['!', '-a', '-o', '&&', '||', '('].includes(words[index - 1]!.text);
    if (word.quoted || !FILE_OPERATORS.has(word.text) || !begins) continue;
    const operand = words[index + 1]!.text;
    if (operand === '') return null;
    paths.push(isAbsolute(operand) ? operand : join(cwd, operand));
    index += 1;
  }
  return paths.length > 0 ? paths : null;
}

interface Word {
  readonly text: string;
  /** Some of it was quoted or expanded: not an operator. */
  readonly quoted: boolean;
}

/** The words of a plain test's arguments, expanded; null where one is not known for sure. */
function splitWords(text: string, env: Readonly<Record<string, string | undefined>>): Word[] | null {
  const words: Word[] = [];
  let at = 0;
  while (at < text.length) {
    while (text[at] === ' ' || text[at] === '\t') at++;
    if (at >= text.length) break;
    let word = '';
    let quoted = false;
    if (text[at] === '~' && (text[at + 1] === '/' || text[at + 1] === undefined || text[at + 1] === ' ')) {
      const home = env.HOME;
      if (home === undefined || home === '') return null;
      word = home;
      quoted = true;
      at++;
    }
    while (at < text.length && text[at] !== ' ' && text[at] !== '\t') {
      const char = text[at]!;
      if (char === "'") {
        const end = text.indexOf("'", at + 1);
        word += text.slice(at + 1, end);
        quoted = true;
        at = end + 1;
      } else if (char === '"') {
        const end = text.indexOf('"', at + 1);
        const value = expand(text.slice(at + 1, end), env);
        if (value === null) return null;
        word += value;
        quoted = true;
        at = end + 1;
      } else if (char === '$') {
        const match = /^\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/.exec(text.slice(at));
        const value = match === null ? undefined : env[match[1] ?? match[2]!];
        // Unquoted, a value with spaces would be split into words.
        if (match === null || value === undefined || /\s/.test(value)) return null;
        word += value;
        quoted = true;
        at += match[0].length;
      } else {
        word += char;
        at++;
      }
    }
    words.push({ text: word, quoted });
  }
  return words;
}

/** The inside of double quotes, its `$NAME`s and `${NAME}`s replaced; null where one is not set (or `$$` and the like). */
function expand(text: string, env: Readonly<Record<string, string | undefined>>): string | null {
  let unknown = false;
  const value = text.replace(/\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*)|.?)/g, (_all, braced?: string, bare?: string) => {
    const name = braced ?? bare;
    const found = name === undefined ? undefined : env[name];
    if (found === undefined) unknown = true;
    return found ?? '';
  });
  return unknown ? null : value;
}
