/** The dashboard's login codes, sessions and origin rules, on a hand-driven clock. */
import { describe, expect, it } from 'vitest';
import { browserUrl } from '../../src/dashboard/dashboard.js';
import { LoginCodes } from '../../src/dashboard/login-codes.js';
import { crossOriginRefusal } from '../../src/dashboard/request-origin.js';
import { cookieName, readCookie, sessionCookie, Sessions } from '../../src/dashboard/sessions.js';
import { browserCommand } from '../../src/cli/dashboard-command.js';

const manualClock = () => {
  const clock = { at: 1_000_000, now: () => clock.at };
  return clock;
};

describe('login codes', () => {
  it('work once, only until they expire', () => {
    const clock = manualClock();
    const codes = new LoginCodes(clock, 60_000);
    const { code, expiresAt } = codes.create();
    expect(expiresAt).toBe(clock.at + 60_000);
    expect(code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(codes.redeem(code)).toBe(true);
    expect(codes.redeem(code)).toBe(false);

    const late = codes.create().code;
    clock.at += 60_000;
    expect(codes.redeem(late)).toBe(false);
    expect(codes.redeem('')).toBe(false);
  });

  it('keep at most 64 unused codes, dropping the oldest', () => {
    const codes = new LoginCodes(manualClock(), 60_000);
    const made = Array.from({ length: 65 }, () => codes.create().code);
    expect(codes.redeem(made[0]!)).toBe(false);
    expect(codes.redeem(made[1]!)).toBe(true);
    expect(codes.redeem(made[64]!)).toBe(true);
  });
});

describe('sessions', () => {
  it('last their time and end when asked', () => {
    const clock = manualClock();
    const sessions = new Sessions(clock, 1000);
    const id = sessions.create();
    expect(sessions.valid(id)).toBe(true);
    expect(sessions.valid(undefined)).toBe(false);
    clock.at += 999;
    expect(sessions.valid(id)).toBe(true);
    clock.at += 1;
    expect(sessions.valid(id)).toBe(false);
    const other = sessions.create();
    sessions.end(other);
    expect(sessions.valid(other)).toBe(false);
  });

  it("are a per-port cookie that the page's scripts cannot read", () => {
    expect(cookieName(7777)).toBe('tend_session_7777');
    expect(sessionCookie('tend_session_7777', 'abc', 3_600_000)).toBe('tend_session_7777=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=3600');
    expect(readCookie('a=1; tend_session_7777=abc; tend_session_8888=def', 'tend_session_7777')).toBe('abc');
    expect(readCookie('tend_session_77770=x', 'tend_session_7777')).toBeUndefined();
    expect(readCookie(undefined, 'x')).toBeUndefined();
  });
});

describe('origins', () => {
  const host = '127.0.0.1:7777';
  it('lets the page itself change things, and nobody else', () => {
    expect(crossOriginRefusal({ host, 'sec-fetch-site': 'same-origin' }, true)).toBeUndefined();
    expect(crossOriginRefusal({ host, origin: 'http://127.0.0.1:7777' }, true)).toBeUndefined();
    // Behind a port forward the browser's host is the forwarded one, and so is its Origin.
    expect(crossOriginRefusal({ host: 'localhost:9000', origin: 'http://localhost:9000' }, true)).toBeUndefined();
    for (const headers of [
      { host, 'sec-fetch-site': 'same-site' },
      { host, 'sec-fetch-site': 'cross-site' },
      { host, 'sec-fetch-site': 'none' },
      { host, 'sec-fetch-site': 'cross-site', origin: 'http://127.0.0.1:7777' },
      { host, origin: 'http://127.0.0.1:3000' },
      { host, origin: 'null' },
      { host },
    ]) {
      expect(crossOriginRefusal(headers, true), JSON.stringify(headers)).toMatch(/^Refused/);
    }
  });

  it('lets reads through unless the browser says they come from elsewhere', () => {
    expect(crossOriginRefusal({ host }, false)).toBeUndefined();
    expect(crossOriginRefusal({ host, 'sec-fetch-site': 'none' }, false)).toBeUndefined();
    expect(crossOriginRefusal({ host, 'sec-fetch-site': 'same-site' }, false)).toMatch(/^Refused/);
  });
});

describe('opening the dashboard', () => {
  it('gives a browser on the machine a loopback URL for a wildcard address', () => {
    expect(browserUrl('http://0.0.0.0:7777')).toBe('http://127.0.0.1:7777');
    expect(browserUrl('http://[::]:7777')).toBe('http://[::1]:7777');
    expect(browserUrl('http://10.1.2.3:7777')).toBe('http://10.1.2.3:7777');
    expect(browserUrl('http://0.0.0.01:7')).toBe('http://0.0.0.01:7');
  });

  it('opens it with $BROWSER, else xdg-open where there is a display, open on macOS, else nothing', () => {
    expect(browserCommand({ BROWSER: 'firefox --new-tab:chromium' }, 'linux')).toEqual(['firefox', '--new-tab']);
    expect(browserCommand({ DISPLAY: ':0' }, 'linux')).toEqual(['xdg-open']);
    expect(browserCommand({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toEqual(['xdg-open']);
    expect(browserCommand({}, 'linux')).toBeUndefined();
    expect(browserCommand({}, 'darwin')).toEqual(['open']);
  });
});
