/**
 * Streams a log file: optionally only its last N lines, then, while the session still runs,
 * whatever is appended, ending once the session has ended and the file is drained.
 */
import { existsSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { lazyBuiltin } from '../domain/lazy-builtin.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionLogSource } from '../engine/log-source.js';
import { parseRotation, rotationRecordPath, type Rotation } from '../domain/rotation-record.js';
import type { LogWakeup } from './log-wakeup.js';

const fsPromises = lazyBuiltin<typeof FsPromises>('node:fs/promises');

const CHUNK_BYTES = 64 * 1024;
/** How often to look for a starting step's log file (it is there within milliseconds). */
const FILE_WAIT_MS = 5;

export interface FollowOptions {
  readonly follow: boolean;
  /** Start at the last `tailLines` lines; undefined: from the start. */
  readonly tailLines: number | undefined;
  readonly isLive: () => boolean;
  /** Says when to read again while following (the file grew, or the session may have ended). */
  readonly wakeup: LogWakeup;
}

async function tailOffset(file: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  let position = size;
  let newlines = 0;
  const buffer = Buffer.alloc(CHUNK_BYTES);
  // A final newline ends the last line; it does not start another one.
  let skipTrailing = true;
  while (position > 0) {
    const length = Math.min(CHUNK_BYTES, position);
    position -= length;
    await file.read(buffer, 0, length, position);
    for (let index = length - 1; index >= 0; index--) {
      if (buffer[index] !== 0x0a) {
        skipTrailing = false;
        continue;
      }
      if (skipTrailing) {
        skipTrailing = false;
        continue;
      }
      newlines += 1;
      if (newlines === lines) return position + index + 1;
    }
  }
  return 0;
}

async function lastRotation(path: string): Promise<Rotation | undefined> {
  const text = await fsPromises().readFile(rotationRecordPath(path), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseRotation(text);
}

/**
 * What of a rotated log a follower at `offset` had not read yet: its part in `<log>.1` (the
 * rotation record says which part of the old log that holds). What was written between the copy
 * and the truncation is not there.
 */
async function* rotatedRest(path: string, offset: number, rotation: Rotation): AsyncGenerator<Buffer> {
  if (offset >= rotation.to) return;
  const rotated = await fsPromises().open(`${path}.1`, 'r').catch(() => undefined);
  if (rotated === undefined) return;
  try {
    let position = Math.max(0, offset - rotation.from);
    for (;;) {
      const { bytesRead, buffer } = await rotated.read(Buffer.alloc(CHUNK_BYTES), 0, CHUNK_BYTES, position);
      if (bytesRead === 0) return;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await rotated.close();
  }
}

export async function* followLog(path: string, options: FollowOptions): AsyncGenerator<Buffer> {
  const file = await fsPromises().open(path, 'r');
  if (options.follow) options.wakeup.watch(path);
  try {
    const { size } = await file.stat();
    let offset = options.tailLines === undefined ? 0 : await tailOffset(file, size, options.tailLines);
    let generation = (await lastRotation(path))?.generation ?? 0;
    for (;;) {
      // A rotation since the last read: first the rest of the old log (from `.1`), then the new one from its start.
      const rotation = await lastRotation(path);
      if (rotation !== undefined && rotation.generation !== generation) {
        // One rotation: the rest after what was read. More: what was read is not in `.1` any more, all of `.1` is newer.
        yield* rotatedRest(path, rotation.generation === generation + 1 ? offset : rotation.from, rotation);
        generation = rotation.generation;
        offset = 0;
      }
      // Read liveness before reading the file: if the session ends after this check, one more
      // loop still drains what it wrote last.
      const live = options.follow && options.isLive();
      const { bytesRead, buffer } = await file.read(Buffer.alloc(CHUNK_BYTES), 0, CHUNK_BYTES, offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        yield buffer.subarray(0, bytesRead);
        continue;
      }
      // Shorter than what was read: a rotation (its record is written before the truncation, the
      // next loop reads it) or, without a record, a file truncated by hand: from its beginning.
      if ((await file.stat()).size < offset) {
        if (((await lastRotation(path))?.generation ?? 0) === generation) offset = 0;
        continue;
      }
      if (!live) return;
      await options.wakeup.next();
    }
  } finally {
    await file.close();
  }
}

/**
 * An execution's log: each step's output in plan order. A plan of one step is that step's output
 * as it is (so the SDK's `runCommand` lines stay intact); with more steps each one is framed by
 * `[section-create] {"id","title"}` and `[section-end] {"id","outcome","secondsElapsed"}` lines.
 * Steps of one group run together; their outputs come one after the other, never interleaved.
 */
export async function* followExecutionLog(source: ExecutionLogSource, options: { follow: boolean; wakeup: LogWakeup }): AsyncGenerator<Buffer> {
  const framed = source.steps.length > 1;
  for (const step of source.steps) {
    while (step.progress() === undefined && !source.isFinished()) {
      if (!options.follow) return;
      await options.wakeup.next();
    }
    if (step.progress() === undefined) continue;
    if (framed) yield Buffer.from(`[section-create] ${JSON.stringify({ id: step.id, title: step.title })}\n`);
    // A step is RUNNING a moment before its command's log file is there (the spawner makes it).
    while (options.follow && step.writesOutput && !existsSync(step.path) && step.progress()?.ended === false) await sleep(FILE_WAIT_MS);
    if (existsSync(step.path)) {
      yield* followLog(step.path, {
        follow: options.follow,
        tailLines: undefined,
        isLive: () => step.progress()?.ended === false,
        wakeup: options.wakeup,
      });
    }
    // A service step has no output file: wait for its end before the next step's output.
    while (step.progress()?.ended !== true) {
      if (!options.follow) return;
      await options.wakeup.next();
    }
    const progress = step.progress();
    if (progress?.ended !== true) return;
    if (framed) {
      const end = { id: step.id, outcome: progress.outcome, secondsElapsed: progress.secondsElapsed };
      yield Buffer.from(`[section-end] ${JSON.stringify(end)}\n`);
    }
  }
}
