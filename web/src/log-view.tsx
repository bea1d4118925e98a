/**
 * The output panel: one service's or execution's log, followed live. Follow keeps the newest line
 * in view (scrolling up stops it, the button or scrolling back down starts it again); search marks
 * every match, Enter and Shift+Enter go to the next and previous one; a service's log starts at its
 * last 1,000 lines, "Show all output" reads it from the start; Download saves the whole log.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { LogModel } from './log-model.js';

export interface LogSubject {
  /** Changes when another log is to be shown (a new session of a service is a new log). */
  readonly logId: string;
  readonly title: string;
  /** A service's log is long-lived: start at its last lines. */
  readonly tail: boolean;
  readonly fileName: string;
}

const TAIL_LINES = 1000;

export function LogView({ subject, onClose }: { subject: LogSubject; onClose: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const model = useRef<LogModel | undefined>(undefined);
  const followRef = useRef(true);
  const [follow, setFollow] = useState(true);
  const [whole, setWhole] = useState(!subject.tail);
  const [state, setState] = useState<string>('Loading…');
  const [dropped, setDropped] = useState(false);
  const [query, setQuery] = useState('');
  const [matching, setMatching] = useState(0);
  const [current, setCurrent] = useState(-1);

  const toBottom = (): void => {
    if (box.current !== null) box.current.scrollTop = box.current.scrollHeight;
  };
  const setFollowing = (on: boolean): void => {
    followRef.current = on;
    setFollow(on);
    if (on) toBottom();
  };

  // Opened: the panel's heading takes the focus; on a narrow screen (one column) it scrolls into view.
  useEffect(() => heading.current?.focus({ preventScroll: window.matchMedia('(min-width: 1000px)').matches }), []);

  useEffect(() => {
    const abort = new AbortController();
    const log = new LogModel(box.current!, {
      state: (next) => setState(next === 'streaming' ? 'Live' : next === 'ended' ? 'Ended' : next.error),
      lines: (count, cut) => {
        setMatching(count);
        setDropped(cut);
        if (followRef.current) toBottom();
      },
    });
    model.current = log;
    log.search(query);
    setCurrent(-1);
    const tail = whole ? '' : `&tail=${TAIL_LINES}`;
    void log.stream(`logs/${encodeURIComponent(subject.logId)}?follow=true${tail}`, abort.signal);
    return () => abort.abort();
  }, [subject.logId, whole]);

  const search = (text: string): void => {
    setQuery(text);
    setMatching(model.current?.search(text) ?? 0);
    setCurrent(-1);
  };
  const go = (step: 1 | -1): void => {
    const lines = model.current?.matching() ?? [];
    if (lines.length === 0) return;
    const next = (current + step + lines.length) % lines.length;
    for (const line of lines) line.classList.remove('current');
    lines[next]!.classList.add('current');
    setFollowing(false);
    lines[next]!.scrollIntoView({ block: 'center' });
    setCurrent(next);
  };
  const onScroll = (): void => {
    const element = box.current;
    if (element === null) return;
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 4;
    if (atBottom !== followRef.current) setFollowing(atBottom);
  };

  const download = `logs/${encodeURIComponent(subject.logId)}?follow=false&download=${encodeURIComponent(subject.fileName)}`;
  return (
    <section class="panel log-panel" aria-labelledby="log-title">
      <div class="log-head">
        <h2 id="log-title" tabIndex={-1} ref={heading}>
          {subject.title}
        </h2>
        <span class="log-state" role="status">
          {state}
        </span>
        <button type="button" class="quiet" onClick={onClose}>
          Close
        </button>
      </div>
      <div class="log-tools" role="toolbar" aria-label="Output">
        <button type="button" aria-pressed={follow} onClick={() => setFollowing(!follow)}>
          Follow
        </button>
        <label class="search">
          <span class="visually-hidden">Search the output</span>
          <input
            type="search"
            placeholder="Search"
            value={query}
            onInput={(event) => search((event.target as HTMLInputElement).value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                go(event.shiftKey ? -1 : 1);
              }
            }}
          />
        </label>
        <span class="matches" aria-live="polite">
          {query === '' ? '' : matching === 0 ? 'No match' : current >= 0 ? `${current + 1} of ${matching}` : `${matching} lines`}
        </span>
        <button type="button" aria-label="Previous match" disabled={matching === 0} onClick={() => go(-1)}>
          ↑
        </button>
        <button type="button" aria-label="Next match" disabled={matching === 0} onClick={() => go(1)}>
          ↓
        </button>
        {!whole && (
          <button type="button" onClick={() => setWhole(true)}>
            Show all output
          </button>
        )}
        <a class="button" href={download} download>
          Download
        </a>
      </div>
      {dropped && <p class="note">Only the last lines are shown here: Download has the whole log.</p>}
      <div class="log" role="log" aria-live="off" aria-label={subject.title} tabIndex={0} ref={box} onScroll={onScroll} />
    </section>
  );
}
