/**
 * Python's `urllib.parse.urlparse` and `ParseResult.hostname` (3.11), and the `ipaddress` checks they
 * make, ported so that sources, webhook URLs and origins are judged exactly as MLflow judges them
 * (WHATWG `new URL` refuses much of what urlparse accepts, and accepts some of what it refuses).
 */
import { pyRepr } from './repr.js';


export interface PyUrl {
  scheme: string;
  netloc: string;
  path: string;
  query: string;
  fragment: string;
}

/** ValueError raised by `urlparse`, with Python's message. */
export class PyValueError extends Error {}

const SCHEME_CHARS = /^[A-Za-z0-9+\-.]*$/;
const USES_PARAMS = new Set(['', 'ftp', 'hdl', 'prospero', 'http', 'imap', 'https', 'shttp', 'rtsp', 'rtsps', 'rtspu', 'sip', 'sips', 'mms', 'sftp', 'tel']);

export function pyIsIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && !(p.length > 1 && p[0] === '0') && Number(p) <= 255);
}

/** `ipaddress.IPv6Address(s)` accepts s. */
export function pyIsIPv6(s: string): boolean {
  const pct = s.indexOf('%');
  let addr = s;
  if (pct >= 0) {
    const scope = s.slice(pct + 1);
    if (!scope || scope.includes('%')) return false;
    addr = s.slice(0, pct);
  }
  if (!addr) return false;
  const parts = addr.split(':');
  if (parts.length < 3) return false;
  if (parts[parts.length - 1]!.includes('.')) {
    if (!pyIsIPv4(parts.pop()!)) return false;
    parts.push('0', '0');
  }
  if (parts.length > 9) return false;
  let skip: number | null = null;
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i] === '') {
      if (skip !== null) return false;
      skip = i;
    }
  }
  let hi: number;
  let lo: number;
  if (skip !== null) {
    hi = skip;
    lo = parts.length - skip - 1;
    if (parts[0] === '' && --hi) return false;
    if (parts[parts.length - 1] === '' && --lo) return false;
    if (8 - (hi + lo) < 1) return false;
  } else {
    if (parts.length !== 8 || parts[0] === '' || parts[parts.length - 1] === '') return false;
    hi = parts.length;
    lo = 0;
  }
  const hextets = [...parts.slice(0, hi), ...parts.slice(parts.length - lo)];
  return hextets.every((h) => /^[0-9a-fA-F]{1,4}$/.test(h));
}

/** `urllib.parse._check_bracketed_host`. */
function checkBracketedHost(host: string): void {
  if (host.startsWith('v')) {
    if (!/^v[a-fA-F0-9]+\.[^\n]+$/.test(host)) throw new PyValueError('IPvFuture address is invalid');
  } else if (pyIsIPv4(host)) {
    throw new PyValueError('An IPv4 address cannot be in brackets');
  } else if (!pyIsIPv6(host)) {
    throw new PyValueError(`${pyRepr(host)} does not appear to be an IPv4 or IPv6 address`);
  }
}

/** `urllib.parse.urlparse` (Python 3.11.7), `params` folded away. Throws PyValueError. */
export function pyUrlParse(input: string): PyUrl {
  let url = input.replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  let scheme = '';
  let netloc = '';
  let query = '';
  let fragment = '';
  const i = url.indexOf(':');
  if (i > 0 && /^[A-Za-z]/.test(url) && SCHEME_CHARS.test(url.slice(0, i))) {
    scheme = url.slice(0, i).toLowerCase();
    url = url.slice(i + 1);
  }
  if (url.startsWith('//')) {
    let delim = url.length;
    for (const c of '/?#') {
      const w = url.indexOf(c, 2);
      if (w >= 0) delim = Math.min(delim, w);
    }
    netloc = url.slice(2, delim);
    url = url.slice(delim);
    const open = netloc.includes('[');
    const close = netloc.includes(']');
    if ((open && !close) || (close && !open)) throw new PyValueError('Invalid IPv6 URL');
    if (open && close) {
      const after = netloc.slice(netloc.indexOf('[') + 1);
      const end = after.indexOf(']');
      checkBracketedHost(end >= 0 ? after.slice(0, end) : after);
    }
  }
  const hash = url.indexOf('#');
  if (hash >= 0) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const q = url.indexOf('?');
  if (q >= 0) {
    query = url.slice(q + 1);
    url = url.slice(0, q);
  }
  // _checknetloc: characters that NFKC-normalise into URL delimiters.
  if (netloc && /[^\x00-\x7f]/.test(netloc)) {
    const n = netloc.replace(/[@:#?]/g, '');
    const n2 = n.normalize('NFKC');
    if (n !== n2 && /[/?#@:]/.test(n2)) {
      throw new PyValueError(`netloc '${netloc}' contains invalid characters under NFKC normalization`);
    }
  }
  // urlparse's _splitparams: ";params" of the last path segment.
  if (USES_PARAMS.has(scheme) && url.includes(';')) {
    const semi = url.includes('/') ? url.indexOf(';', url.lastIndexOf('/')) : url.indexOf(';');
    if (semi >= 0) url = url.slice(0, semi);
  }
  return { scheme, netloc, path: url, query, fragment };
}

/** `ParseResult.hostname`. */
export function pyHostname(netloc: string): string | null {
  const hostinfo = netloc.slice(netloc.lastIndexOf('@') + 1);
  const br = hostinfo.indexOf('[');
  let host: string;
  if (br >= 0) {
    const bracketed = hostinfo.slice(br + 1);
    const end = bracketed.indexOf(']');
    host = end >= 0 ? bracketed.slice(0, end) : bracketed;
  } else {
    const colon = hostinfo.indexOf(':');
    host = colon >= 0 ? hostinfo.slice(0, colon) : hostinfo;
  }
  if (!host) return null;
  const pct = host.indexOf('%');
  return pct >= 0 ? host.slice(0, pct).toLowerCase() + host.slice(pct) : host.toLowerCase();
}

/** `urlparse(url).hostname`: null when there is none; throws PyValueError where Python raises ValueError. */
export function pyUrlHostname(url: string): string | null {
  return pyHostname(pyUrlParse(url).netloc);
}
