// Source addresses to spread device sockets over (each local address has its own ~28k
// ephemeral ports). Plain IPs or IPv4 CIDR blocks; loopback targets only accept 127.0.0.0/8.
import { isIP } from 'node:net';

const MAX_BLOCK = 65_536;

export interface ExpandResult {
  addresses: string[];
  error?: string;
  expected?: string;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function isLoopbackV4(ip: string): boolean {
  return isIP(ip) === 4 && ip.startsWith('127.');
}

/** Is this URL's host on the loopback interface (so that sockets must stay in 127.0.0.0/8)? */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || isLoopbackV4(host);
}

/** `127.0.1.0/29` → its six host addresses; a plain IP → itself. `loopbackOnly` enforces 127/8. */
export function expandAddress(entry: string, loopbackOnly: boolean): ExpandResult {
  const [ip, prefixText, ...rest] = entry.trim().split('/');
  if (rest.length > 0 || !ip || isIP(ip) === 0) {
    return {
      addresses: [],
      error: 'not an IP address or CIDR block',
      expected: 'e.g. 127.0.0.2 or 127.0.1.0/24',
    };
  }
  if (loopbackOnly && !isLoopbackV4(ip)) {
    return { addresses: [], error: 'the target is on loopback, so source addresses must be in 127.0.0.0/8' };
  }
  if (prefixText === undefined) return { addresses: [ip] };
  if (isIP(ip) !== 4) return { addresses: [], error: 'CIDR blocks are supported for IPv4 only' };
  const prefix = Number(prefixText);
  if (!/^\d{1,2}$/.test(prefixText) || prefix > 32)
    return { addresses: [], error: 'invalid CIDR prefix length' };
  const size = 2 ** (32 - prefix);
  if (size > MAX_BLOCK) return { addresses: [], error: `CIDR block larger than ${MAX_BLOCK} addresses` };
  if (loopbackOnly && prefix < 8) {
    return { addresses: [], error: 'the target is on loopback, so source addresses must be in 127.0.0.0/8' };
  }
  const base = ipv4ToInt(ip) - (ipv4ToInt(ip) % size);
  // Host addresses only: the network and broadcast addresses of a block cannot carry sockets.
  const skip = size >= 4 ? 1 : 0;
  const addresses: string[] = [];
  for (let i = skip; i < size - skip; i++) addresses.push(intToIpv4(base + i));
  return { addresses };
}
