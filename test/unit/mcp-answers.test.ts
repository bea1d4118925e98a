import { describe, expect, it } from 'vitest';
import { describeExit } from '../../src/domain/service-lifecycle.js';
import { exitOf, firstLine } from '../../src/mcp/answers.js';

describe('MCP answers read the failure messages the daemon writes', () => {
  const failed = 'TASK_EXECUTION_PHASE_FAILED' as const;

  it('takes a step exit code and signal from describeExit, whatever the command and its output say', () => {
    const message = describeExit('Task "lint": command "exit 3 # exited with code 9"', { code: 3, signal: null }, 'exited with code 7\n');
    expect(exitOf(failed, message)).toEqual({ exitCode: 3 });
    expect(exitOf(failed, describeExit('Task "t": command "sleep 9"', { code: null, signal: 'SIGKILL' }, ''))).toEqual({ exitCode: null, signal: 'SIGKILL' });
    expect(exitOf(failed, describeExit('Task "t": command "x"', { code: null, signal: null, note: 're-adopted' }, ''))).toEqual({ exitCode: null });
    expect(exitOf('TASK_EXECUTION_PHASE_SUCCEEDED', undefined)).toEqual({ exitCode: 0 });
    expect(exitOf(failed, 'Cannot start task "t": no command')).toEqual({ exitCode: null });
  });

  it('gives a failure in one line, without the output lines that follow it', () => {
    expect(firstLine(describeExit('Command "npm run dev"', { code: 1, signal: null }, 'EADDRINUSE\nat listen\n'))).toBe('Command "npm run dev" exited with code 1');
    expect(firstLine('Readiness timeout of 30s passed')).toBe('Readiness timeout of 30s passed');
    expect(firstLine('')).toBeUndefined();
  });
});

describe('a failure in one line', () => {
  it('folds a multi-line command and stops before the output', () => {
    const message = describeExit('Task "t": command "make\nmake test"', { code: 2, signal: null }, 'FAIL\n');
    expect(firstLine(message)).toBe('Task "t": command "make make test" exited with code 2');
    expect(exitOf('TASK_EXECUTION_PHASE_FAILED', message)).toEqual({ exitCode: 2 });
    expect(firstLine('x'.repeat(400))).toHaveLength(300);
  });
});
