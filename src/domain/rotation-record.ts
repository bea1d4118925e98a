/**
 * Beside a rotated log's `<log>.1`: which part of the log it holds (`[from, to)` of the log as it
 * was) and how many rotations there were, so that a follower that had not read it all finds the
 * rest there. The rotator writes it (`runtime/log-rotation.ts`), followers read it (`api/log-stream.ts`).
 */
export interface Rotation {
  readonly generation: number;
  readonly from: number;
  readonly to: number;
}

export function rotationRecordPath(log: string): string {
  return `${log}.1.json`;
}

export function parseRotation(text: string): Rotation | undefined {
  try {
    const value = JSON.parse(text) as Partial<Rotation>;
    return typeof value.generation === 'number' && typeof value.from === 'number' && typeof value.to === 'number'
      ? { generation: value.generation, from: value.from, to: value.to }
      : undefined;
  } catch {
    return undefined;
  }
}
