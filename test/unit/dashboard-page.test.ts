/** The page's pure parts: ANSI colours, log lines and sections, wording. */
import { describe, expect, it } from 'vitest';
import { TRIGGER_NAMES } from '../../src/domain/enums.js';
import { AnsiParser, applySgr, plainText, xterm256 } from '../../web/src/ansi.js';
import { firstLine, formatDuration, ownLogId, phaseName, TRIGGER_NAMES as PAGE_TRIGGERS } from '../../web/src/format.js';
import { classifyLine, LineSplitter } from '../../web/src/log-lines.js';

describe('ANSI', () => {
  it('keeps colours and attributes, resets, and carries the style to the next line', () => {
    const parser = new AnsiParser();
    expect(parser.line('\u001b[1;31mERR\u001b[0m plain')).toEqual([
      { text: 'ERR', style: { bold: true, fg: { index: 1 } } },
      { text: ' plain', style: {} },
    ]);
    expect(parser.line('\u001b[32mgreen and')).toEqual([{ text: 'green and', style: { fg: { index: 2 } } }]);
    expect(parser.line('still green\u001b[39m')).toEqual([{ text: 'still green', style: { fg: { index: 2 } } }]);
    expect(parser.line('default')).toEqual([{ text: 'default', style: {} }]);
  });

  it('reads bright, 256 and 24-bit colours, and background', () => {
    expect(applySgr({}, '91;104')).toEqual({ fg: { index: 9 }, bg: { index: 12 } });
    expect(applySgr({}, '38;5;208')).toEqual({ fg: { rgb: [255, 135, 0] } });
    expect(applySgr({}, '38;5;3')).toEqual({ fg: { index: 3 } });
    expect(applySgr({}, '48;2;1;2;300')).toEqual({ bg: { rgb: [1, 2, 255] } });
    expect(applySgr({ bold: true, fg: { index: 1 } }, '22')).toEqual({ fg: { index: 1 } });
    expect(applySgr({ bold: true }, '')).toEqual({});
    expect(xterm256(232)).toEqual([8, 8, 8]);
    expect(xterm256(16)).toEqual([0, 0, 0]);
    expect(xterm256(231)).toEqual([255, 255, 255]);
  });

  it('drops every other escape and control character; a carriage return rewrites the line', () => {
    const parser = new AnsiParser();
    expect(plainText(parser.line('\u001b[2K\u001b[1Gdone\u001b]0;title\u0007 \u001b]8;;http://x\u001b\\link\u001b]8;;\u001b\\\u0007\u0008'))).toBe('done link');
    expect(plainText(parser.line('10%\r50%\r100% ok'))).toBe('100% ok');
    expect(plainText(parser.line('a\tb'))).toBe('a\tb');
  });

  it('parses an unfinished line without moving the style on', () => {
    const parser = new AnsiParser();
    expect(parser.line('\u001b[31mhalf', false)).toEqual([{ text: 'half', style: { fg: { index: 1 } } }]);
    expect(parser.line('next')).toEqual([{ text: 'next', style: {} }]);
  });
});

describe('log lines', () => {
  it("turns an execution's section markers into headers; a marker that does not parse stays text", () => {
    expect(classifyLine('[section-create] {"id":"a","title":"build"}')).toEqual({ kind: 'section', id: 'a', title: 'build' });
    expect(classifyLine('[section-end] {"id":"a","outcome":"success","secondsElapsed":0.25}')).toEqual({ kind: 'section-end', id: 'a', outcome: 'success', seconds: 0.25 });
    expect(classifyLine('[section-create] {not json}')).toEqual({ kind: 'text', text: '[section-create] {not json}' });
    expect(classifyLine('[section-create] {"title":"no id"}')).toEqual({ kind: 'text', text: '[section-create] {"title":"no id"}' });
    expect(classifyLine('plain')).toEqual({ kind: 'text', text: 'plain' });
  });

  it('splits a stream into lines whatever the chunks, keeping the unfinished one', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('one\r\ntw')).toEqual(['one']);
    expect(splitter.partial).toBe('tw');
    expect(splitter.push('o\n\nthree')).toEqual(['two', '']);
    expect(splitter.partial).toBe('three');
  });
});

describe('wording', () => {
  it('names phases, durations, first lines and own logs', () => {
    expect(phaseName('SERVICE_PHASE_RUNNING')).toBe('RUNNING');
    expect(phaseName('TASK_EXECUTION_PHASE_SUCCEEDED')).toBe('SUCCEEDED');
    expect(phaseName(undefined)).toBe('UNSPECIFIED');
    expect([850, 1500, 12_300, 192_000, 7_500_000, 3 * 86_400_000 + 4 * 3_600_000].map(formatDuration)).toEqual(['850 ms', '1.5 s', '12 s', '3m 12s', '2h 5m', '3d 4h']);
    expect(firstLine('Cannot start: x\nmore')).toBe('Cannot start: x');
    expect(ownLogId('http://127.0.0.1:7/logs/abc', 'http://127.0.0.1:7')).toEqual({ id: 'abc' });
    expect(ownLogId('http://10.0.0.2:7/logs/abc', 'http://127.0.0.1:7')).toEqual({ elsewhere: 'http://10.0.0.2:7' });
    expect(ownLogId('', 'http://127.0.0.1:7')).toBeUndefined();
  });

  it('offers the triggers the daemon knows', () => {
    expect([...PAGE_TRIGGERS]).toEqual([...TRIGGER_NAMES]);
  });
});
