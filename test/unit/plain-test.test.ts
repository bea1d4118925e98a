import { describe, expect, it } from 'vitest';
import { isPlainTest } from '../../src/runtime/machine/plain-test.js';

describe('a ready command the probe shell may evaluate itself', () => {
  it('is one test of files, strings and plain variables', () => {
    for (const command of [
      'test -f /tmp/ready',
      '[ -S /var/run/docker.sock ]',
      '[[ -e ${HOME}/.done ]]',
      '[ -f "$DIR/ready" -a ! -f "$DIR/failed" ]',
      "test \"$MODE\" = 'dev'",
      '  test -d node_modules  ',
      '[ "$BASHPID" = "$$" ]',
    ]) {
      expect(isPlainTest(command), command).toBe(true);
    }
  });

  it('is not anything that could run a command, change the shell, redirect, glob or span lines', () => {
    for (const command of [
      'curl -sf localhost:3000',
      'test -f a && touch b',
      'test -f a; rm -rf /tmp/x',
      'test -f a || exit 1',
      '[ -f $(touch /tmp/x) ]',
      '[ -f `touch /tmp/x` ]',
      '[ -f ${X:=y} ]',
      '[ -f a ] > /tmp/out',
      'test -f a | cat',
      '[ -f /tmp/*.ready ]',
      '[ -f a\n rm -rf /tmp/x ]',
      '[ -f "unbalanced ]',
      '[ -f a ]]',
      '[ ]',
      'testing -f a',
      '[-f a ]',
      'echo > /dev/tcp/127.0.0.1/5432',
    ]) {
      expect(isPlainTest(command), command).toBe(false);
    }
  });
});
