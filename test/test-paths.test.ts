/** The files a plain test looks at, expanded as bash would, or null where a word is not known for sure. */
import { describe, expect, it } from 'vitest';
import { testPaths } from '../src/runtime/machine/test-paths.js';

const env = { DIR: '/srv/app', HOME: '/home/dev', SPACED: 'a b', EMPTY: '' };

describe('the files a plain test looks at', () => {
  it('are the operands of its file operators, with variables, ~ and the working directory', () => {
    expect(testPaths('test -f /tmp/ready', env, '/w')).toEqual(['/tmp/ready']);
    expect(testPaths('[ -S "$DIR/run/app.sock" ]', env, '/w')).toEqual(['/srv/app/run/app.sock']);
    expect(testPaths('[[ -e ~/.done ]]', env, '/w')).toEqual(['/home/dev/.done']);
    expect(testPaths('test -f flag', env, '/w')).toEqual(['/w/flag']);
    expect(testPaths("[ ! -d ${DIR}/'build dir' ]", env, '/w')).toEqual(['/srv/app/build dir']);
    expect(testPaths('[ -f a -a -s b -o -x "$DIR" ]', env, '/w')).toEqual(['/w/a', '/w/b', '/srv/app']);
  });

  it('are none for a test of strings, or one not plain', () => {
    expect(testPaths('[ "$DIR" = /srv/app ]', env, '/w')).toBeNull();
    expect(testPaths('[ a -a b ]', env, '/w')).toBeNull();
    expect(testPaths('test -f /tmp/ready && curl -sf localhost', env, '/w')).toBeNull();
    expect(testPaths('test -f "-f"', env, '/w')).toEqual(['/w/-f']);
  });

  it('are not known for a variable the session does not set, a value split into words, $$ or an empty operand', () => {
    expect(testPaths('test -f "$NOPE/up"', env, '/w')).toBeNull();
    expect(testPaths('test -f $SPACED', env, '/w')).toBeNull();
    expect(testPaths('test -f "/tmp/$$"', env, '/w')).toBeNull();
    expect(testPaths('test -f "$EMPTY"', env, '/w')).toBeNull();
    expect(testPaths('[[ -e ~/.done ]]', {}, '/w')).toBeNull();
  });
});
