/**
 * The PID 1 wrapper's exit code when tini (its child) ends: tini's code, or 128 + the number of
 * the signal that killed it, as a shell reports it. scripts/image-smoke.sh checks the real one
 * (SIGKILL to the container's tini → 137).
 */
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/app/pid1.js';

describe('the PID 1 wrapper exit code', () => {
  it('is the exit code of the child when it exited', () => {
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(3, null)).toBe(3);
    expect(exitCodeOf(143, null)).toBe(143);
  });

  it('is 128 + the number of the signal that ended the child', () => {
    expect(exitCodeOf(null, 'SIGKILL')).toBe(137);
    expect(exitCodeOf(null, 'SIGTERM')).toBe(143);
    expect(exitCodeOf(null, 'SIGINT')).toBe(130);
    expect(exitCodeOf(null, 'SIGHUP')).toBe(129);
    expect(exitCodeOf(null, 'SIGQUIT')).toBe(131);
    expect(exitCodeOf(null, 'SIGSEGV')).toBe(139);
  });

  it('is 1 when the child ended with neither a code nor a signal', () => {
    expect(exitCodeOf(null, null)).toBe(1);
  });
});
