/**
 * The TCP sockets that listen on this machine (in the daemon's network namespace: the host's, and
 * so also a container's on the host network), from `/proc/net/tcp` and `/proc/net/tcp6`. Each
 * socket carries its inode, which `/proc/<pid>/fd/*` links name (`socket:[inode]`): that is how
 * the processes holding a port can be found.
 */
import { readFileSync } from 'node:fs';

export interface ListeningSocket {
  readonly port: number;
  /** The local address, as people write it: `0.0.0.0`, `127.0.0.1`, `::`, `::1`, ... */
  readonly address: string;
  /** The socket's inode (`socket:[inode]` among a process's file descriptors). */
  readonly inode: string;
}

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

/** Every TCP socket in LISTEN state; a table that cannot be read (no IPv6) adds none. */
export function listeningSockets(): ListeningSocket[] {
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'latin1');
    } catch {
      return '';
    }
  };
  return [...parseTable(read('/proc/net/tcp'), false), ...parseTable(read('/proc/net/tcp6'), true)];
}
