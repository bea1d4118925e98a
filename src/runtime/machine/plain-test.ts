/**
 * A ready command that is one `test` of files, strings and variables (`test -f /tmp/ready`,
 * `[ -S "$DOCKER_SOCK" ]`, `[[ -e ${HOME}/.done ]]`) has no effect but its exit code: the probe
 * shell evaluates it itself instead of forking a subshell for it, so that probing it every 100 ms
 * costs next to nothing. The check is conservative: anything that could run a command, change the
 * shell or redirect (`;`, `&`, `|`, `<`, `>`, `$(`, a backquote, `${NAME:=value}`, a glob, a
 * newline) keeps the subshell, as do other builtins, whose effects a subshell confines.
 */

const FORMS: readonly [open: RegExp, close: RegExp][] = [
  [/^test[ \t]+/, /$/],
  [/^\[[ \t]+/, /[ \t]+\]$/],
  [/^\[\[[ \t]+/, /[ \t]+\]\]$/],
];

/** What may stand between the brackets: words, quotes, `!`, `-o`/`-a`, `=`, `$NAME`, `${NAME}` and `$$`, `$?`, `$#`, `$0`–`$9`. */
const PLAIN_ARGUMENTS = /^(?:[\w \t'"!=.,:/@%+~-]|\$[A-Za-z_]\w*|\$\{[A-Za-z_]\w*\}|\$[$?#0-9])*$/;

export function isPlainTest(command: string): boolean {
  return plainTestArguments(command) !== null;
}

/** What a plain test tests: the words after `test` or between the brackets; null when `command` is no plain test. */
export function plainTestArguments(command: string): string | null {
  const text = command.trim();
  if (/[\r\n]/.test(text)) return null;
  for (const [open, close] of FORMS) {
    const start = open.exec(text);
    if (start === null) continue;
    const rest = text.slice(start[0].length);
    const end = close.exec(rest);
    if (end === null) continue;
    const args = rest.slice(0, end.index);
    if (args.trim() === '') return null;
    return PLAIN_ARGUMENTS.test(args) && balancedQuotes(args) ? args : null;
  }
  return null;
}

/** Quotes open and close in pairs (a quote left open would join the shell's next line). */
function balancedQuotes(text: string): boolean {
  let quote: string | undefined;
  for (const char of text) {
    if (quote === undefined) {
      if (char === '"' || char === "'") quote = char;
    } else if (char === quote) {
      quote = undefined;
    }
  }
  return quote === undefined;
}
