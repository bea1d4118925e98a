/**
 * The TCP sockets that listen on this machine (in the daemon's network namespace: the host's, and
 * so also a container's on the host network), from `/proc/net/tcp` and `/proc/net/tcp6`. Each
 * socket carries its inode, which `/proc/<pid>/fd/*` links name (`socket:[inode]`): that is how
 * the processes holding a port can be found.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ListeningPort, PortHolder } from '../runtime.js';

export type ListeningSocket = ListeningPort;

const TCP_LISTEN = '0A';

/** `0100007F` (a little-endian 32-bit word) → `127.0.0.1`. */
function ipv4(hex: string): string {
  const bytes = hex.match(/../g)?.map((byte) => parseInt(byte, 16)) ?? [];
  return bytes.reverse().join('.');
}

/** Four little-endian 32-bit words → an IPv6 address, zeros compressed once. */
function ipv6(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) => (word.match(/../g) ?? []).reverse());
  const groups: string[] = [];
  for (let index = 0; index < bytes.length; index += 2) groups.push(parseInt(`${bytes[index]}${bytes[index + 1]}`, 16).toString(16));
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  if (text.startsWith('0:0:0:0:0:ffff:')) return `::ffff:${ipv4(hex.slice(24))}`;
  return text.replace(/(^|:)0(:0)+(:|$)/, '::');
}

function parseTable(text: string, v6: boolean): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== TCP_LISTEN) continue;
    const [address, port] = local.split(':');
    if (address === undefined || port === undefined) continue;
    sockets.push({ port: parseInt(port, 16), address: v6 ? ipv6(address) : ipv4(address), inode: fields[9] ?? '' });
  }
  return sockets;
}

/** How long one reading of the tables serves the sessions that ask for their ports (GetStatus asks for each). */
const SHARED_READ_MS = 100;
let shared: { at: number; sockets: ListeningSocket[] } | undefined;

/** Every TCP socket in LISTEN state, read now; a table that cannot be read (no IPv6) adds none. */
export function listeningSockets(): ListeningSocket[] {
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'latin1');
    } catch {
      return '';
    }
  };
  const sockets = [...parseTable(read('/proc/net/tcp'), false), ...parseTable(read('/proc/net/tcp6'), true)];
  // What was just read is the freshest there is: those asking right after (a port's owner) see it.
  shared = { at: performance.now(), sockets };
  return sockets;
}

/**
 * The listening sockets as read at most SHARED_READ_MS ago: reading /proc/net/tcp takes the kernel
 * a walk over its whole socket table (about 5 ms each on a machine with 24 GiB), so a hundred
 * services asking for their ports at once share one reading.
 */
export function recentListeningSockets(now = performance.now()): ListeningSocket[] {
  if (shared === undefined || now - shared.at > SHARED_READ_MS) return listeningSockets();
  return shared.sockets;
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** The inodes of the sockets a process holds (none when its descriptors cannot be read). */
export function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const match = SOCKET_LINK.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) inodes.add(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** The listening sockets among those these processes hold. */
export function listeningSocketsOf(pids: readonly number[], sockets: readonly ListeningSocket[] = recentListeningSockets()): ListeningSocket[] {
  if (sockets.length === 0) return [];
  const held = new Set<string>();
  for (const pid of pids) for (const inode of socketInodes(pid)) held.add(inode);
  return sockets.filter((socket) => held.has(socket.inode));
}

/** `python3 -m http.server 4555`: a process's command line, its arguments joined by spaces. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** The process holding the socket that listens on `port` (the first found), or null. */
export function portHolder(port: number, sockets: readonly ListeningSocket[] = listeningSockets()): PortHolder | null {
  const inodes = new Set(sockets.filter((socket) => socket.port === port).map((socket) => socket.inode));
  if (inodes.size === 0) return null;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const pid of pids) {
    for (const inode of socketInodes(Number(pid))) {
      if (inodes.has(inode)) return { pid: Number(pid), command: commandLine(Number(pid)) };
    }
  }
  return null;
}
