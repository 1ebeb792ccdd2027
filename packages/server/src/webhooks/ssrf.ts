/**
 * SSRF protection for outbound webhook requests (mlflow/webhooks/ssrf.py, mlflow/utils/validation.py
 * `_is_public_ip`): a target must be a public address. The check runs at connect time, on the
 * addresses the connection actually uses (a custom `lookup` for host names, the literal itself for IP
 * hosts, and the socket's peer address once connected), so DNS rebinding between a validation and
 * the request has nothing to exploit.
 *
 * "Public" follows Python's `ipaddress.is_global` after unwrapping IPv6 transition formats that carry
 * an IPv4 address (IPv4-mapped, 6to4, NAT64), and is stricter than it in two places: multicast
 * (224.0.0.0/4, ff00::/8) and IPv6 site-local (fec0::/10) are refused as well.
 */
import dns from 'node:dns';
import net from 'node:net';

export class SsrfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SSRFProtectionError';
  }
}

type Cidr = readonly [bigint, number];

function v4(a: string): bigint | null {
  const parts = a.split('.');
  if (parts.length !== 4) return null;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = (n << 8n) | BigInt(Number(p));
  }
  return n;
}

function v6(a0: string): bigint | null {
  let a = a0.split('%')[0]!.toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  let tail: bigint | null = null;
  const lastColon = a.lastIndexOf(':');
  if (a.slice(lastColon + 1).includes('.')) {
    tail = v4(a.slice(lastColon + 1));
    if (tail === null) return null;
    a = `${a.slice(0, lastColon + 1)}${(tail >> 16n).toString(16)}:${(tail & 0xffffn).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return null;
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

const c4 = (a: string, bits: number): Cidr => [v4(a)!, bits];
const c6 = (a: string, bits: number): Cidr => [v6(a)!, bits];
const inCidr = (n: bigint, [base, bits]: Cidr, width: number) => n >> BigInt(width - bits) === base >> BigInt(width - bits);

/** Python's IPv4 `is_private` networks, plus 100.64.0.0/10 (not global) and multicast (our choice). */
const V4_BLOCKED: Cidr[] = [
  c4('0.0.0.0', 8),
  c4('10.0.0.0', 8),
  c4('100.64.0.0', 10),
  c4('127.0.0.0', 8),
  c4('169.254.0.0', 16),
  c4('172.16.0.0', 12),
  c4('192.0.0.0', 24),
  c4('192.0.2.0', 24),
  c4('192.168.0.0', 16),
  c4('198.18.0.0', 15),
  c4('198.51.100.0', 24),
  c4('203.0.113.0', 24),
  c4('224.0.0.0', 4),
  c4('240.0.0.0', 4),
];
/** Globally reachable exceptions inside 192.0.0.0/24 (IANA; Python ≥ 3.11.10 agrees). */
const V4_ALLOWED: Cidr[] = [c4('192.0.0.9', 32), c4('192.0.0.10', 32)];

/** Python's IPv6 `is_private` networks, plus site-local and multicast (our choice). */
const V6_BLOCKED: Cidr[] = [
  c6('::', 128),
  c6('::1', 128),
  c6('::ffff:0:0', 96),
  c6('64:ff9b:1::', 48),
  c6('100::', 64),
  c6('2001::', 23),
  c6('2001:db8::', 32),
  c6('2002::', 16),
  c6('fc00::', 7),
  c6('fe80::', 10),
  c6('fec0::', 10),
  c6('ff00::', 8),
];
const V6_ALLOWED: Cidr[] = [
  c6('2001:1::1', 128),
  c6('2001:1::2', 128),
  c6('2001:3::', 32),
  c6('2001:4:112::', 48),
  c6('2001:20::', 28),
  c6('2001:30::', 28),
];

const MAPPED = c6('::ffff:0:0', 96);
const SIX_TO_FOUR = c6('2002::', 16);
const NAT64 = c6('64:ff9b::', 96);

function publicV4(n: bigint): boolean {
  if (V4_ALLOWED.some((c) => inCidr(n, c, 32))) return true;
  return !V4_BLOCKED.some((c) => inCidr(n, c, 32));
}

/** True when `address` (an IPv4 or IPv6 literal) is a public, globally routable unicast address. */
export function isPublicIp(address: string): boolean {
  const a4 = v4(address);
  if (a4 !== null) return publicV4(a4);
  const a6 = v6(address);
  if (a6 === null) return false;
  // IPv6 transition formats carry an IPv4 address: judge that one (Python's _embedded_ipv4).
  if (inCidr(a6, MAPPED, 128) || inCidr(a6, NAT64, 128)) return publicV4(a6 & 0xffffffffn);
  if (inCidr(a6, SIX_TO_FOUR, 128)) return publicV4((a6 >> 80n) & 0xffffffffn);
  if (V6_ALLOWED.some((c) => inCidr(a6, c, 128))) return true;
  return !V6_BLOCKED.some((c) => inCidr(a6, c, 128));
}

export function blockedMessage(ip: string): string {
  return `Webhook connection blocked: ${ip} is not a public IP address. This may indicate a DNS rebinding attempt.`;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:net/http that resolves with the system resolver and refuses the connection
 * when any resolved address is not public.
 */
export function ssrfSafeLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicIp(a.address));
    if (bad) return callback(new SsrfError(blockedMessage(bad.address)) as NodeJS.ErrnoException, '', 0);
    if (list.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
    if (options.all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}

/** Checks an IP-literal host (which node connects to without calling `lookup`). */
export function checkLiteralHost(hostname: string): void {
  const h = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (net.isIP(h) && !isPublicIp(h)) throw new SsrfError(blockedMessage(h));
}

/** Python's `socket.getaddrinfo` error text for the common resolver failures (for MLflow-worded messages). */
export function pyGaiError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOTFOUND':
      return '[Errno -2] Name or service not known';
    case 'EAI_AGAIN':
      return '[Errno -3] Temporary failure in name resolution';
    case 'ENODATA':
      return '[Errno -5] No address associated with hostname';
    default:
      return err.message;
  }
}

/**
 * MLflow 3.17's `_validate_hostname_resolves_to_public_ips` for webhook URLs (create, update): the
 * host must resolve (within 5 s) and every address must be public. Returns an error message or
 * undefined. Only called when private targets are not allowed.
 */
export async function checkHostResolvesPublic(hostname: string, field = 'Webhook URL'): Promise<string | undefined> {
  const h = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const repr = `'${h.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  let addresses: dns.LookupAddress[];
  if (net.isIP(h)) {
    addresses = [{ address: h, family: net.isIP(h) }];
  } else {
    let timer: NodeJS.Timeout | undefined;
    try {
      addresses = await Promise.race([
        dns.promises.lookup(h, { all: true }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' })), 5000);
        }),
      ]);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ETIMEOUT') return `Timed out resolving ${field} hostname ${repr} after 5 seconds`;
      return `Cannot resolve ${field} hostname ${repr}: ${pyGaiError(e)}`;
    } finally {
      clearTimeout(timer);
    }
  }
  for (const a of addresses) {
    if (!isPublicIp(a.address)) return `${field} must not resolve to a non-public IP address. ${repr} resolves to ${a.address}.`;
  }
  return undefined;
}
