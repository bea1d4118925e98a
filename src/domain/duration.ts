/**
 * Durations as Gitpod's automations spell them (Go's time.ParseDuration): "30s", "2m", "1m30s",
 * "500ms", "1.5h". A bare "0" is zero. Returns milliseconds, or an error message.
 */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** The longest a timer can wait (Node's timers take a signed 32-bit millisecond count): 24 days 20 hours. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

export function parseDuration(text: string): { ok: true; ms: number } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed === '0') return { ok: true, ms: 0 };
  if (trimmed === '') return { ok: false, message: 'Duration is empty' };
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex;
    const match = PART.exec(trimmed);
    if (!match || match.index !== start) {
      return {
        ok: false,
        message: `Invalid duration "${text}": use a number with a unit, such as "30s", "2m" or "1m30s"`,
      };
    }
    ms += Number(match[1]) * (UNIT_MS[match[2]!] ?? 0);
  }
  if (ms > MAX_DURATION_MS) {
    return { ok: false, message: `Duration "${text}" is too long: at most ${formatDuration(Math.floor(MAX_DURATION_MS / 3_600_000) * 3_600_000)} (about 24 days)` };
  }
  return { ok: true, ms: Math.round(ms) };
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
