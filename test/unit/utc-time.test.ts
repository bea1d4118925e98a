/** The API's UTC times and HTTP dates, written without toISOString and toUTCString (domain/utc-time.ts), are theirs to the character. */
import { describe, expect, it } from 'vitest';
import { httpDate, utcNow, utcTime } from '../../src/domain/utc-time.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const imf = (ms: number): string => new Date(ms).toUTCString();

describe('UTC times', () => {
  it('are what toISOString and toUTCString write, at the edges of fields and across the years 0 to 9999', () => {
    const edges = [
      0,
      -1,
      1,
      Date.UTC(1999, 11, 31, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 12, 0, 0, 5),
      Date.UTC(2026, 11, 4, 18, 21, 42, 10),
      Date.UTC(2026, 11, 4, 9, 5, 7, 100),
      Date.UTC(0, 0, 1) - 0,
      new Date('0000-01-01T00:00:00.000Z').getTime(),
      new Date('9999-12-31T23:59:59.999Z').getTime(),
      new Date('0042-03-04T05:06:07.089Z').getTime(),
    ];
    for (const ms of edges) {
      expect(utcTime(ms), String(ms)).toBe(iso(ms));
      expect(httpDate(ms), String(ms)).toBe(imf(ms));
    }
    // A fixed walk over 10,000 years, a year, three days and 1:02:03.457 a step: every field changes.
    const first = new Date('0000-01-01T00:00:00.000Z').getTime();
    const last = new Date('9999-12-31T23:59:59.999Z').getTime();
    for (let ms = first; ms <= last; ms += 31_795_323_457) {
      expect(utcTime(ms)).toBe(iso(ms));
      expect(httpDate(ms)).toBe(imf(ms));
    }
  });

  it('take the extended form, and refuse what is not a time, as toISOString does', () => {
    const before = new Date('-000001-12-31T00:00:00.000Z').getTime();
    const after = new Date('+010000-01-01T00:00:00.000Z').getTime();
    expect(utcTime(before)).toBe('-000001-12-31T00:00:00.000Z');
    expect(utcTime(after)).toBe('+010000-01-01T00:00:00.000Z');
    expect(() => utcTime(Number.NaN)).toThrow(RangeError);
    expect(httpDate(after)).toBe(imf(after));
  });

  it('now is a time of the API', () => {
    expect(utcNow()).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});
