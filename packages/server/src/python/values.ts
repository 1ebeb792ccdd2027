/**
 * Python values as the ports of `ast.literal_eval` and `json.loads` produce them (str, bytes, int as
 * bigint, float, bool, None, tuple, list, dict), and what MLflow's messages do with them: `repr()`,
 * `str()`, `int()`, truthiness; plus the str methods and Unicode character classes those need.
 */
import { pyRepr as pyStrRepr } from './repr.js';

/** Python's `\s` on str patterns (Unicode whitespace), as a RegExp source fragment. */
export const PY_SPACE = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
/** Python's `\d` on str patterns (Unicode decimal digits), as a RegExp source fragment ('u' flag). */
export const PY_DIGIT = '\\p{Nd}';
const S = PY_SPACE;
const D = PY_DIGIT;

export interface PyStr {
  t: 'str';
  v: string;
}
export interface PyBytes {
  t: 'bytes';
  v: Uint8Array;
}
export interface PyTuple {
  t: 'tuple';
  v: PyValue[];
}
export type PyValue =
  | PyStr
  | PyBytes
  | PyTuple
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'list'; v: PyValue[] }
  | { t: 'dict'; v: Map<string, PyValue> };

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** Python `repr(bytes)`. */
export function pyBytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += `\\x${hex(b, 2)}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mantissa, exp] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const decpt = Number(exp) + 1;
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${frac}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

/** Python `repr(value)`. */
export function pyValueRepr(v: PyValue): string {
  switch (v.t) {
    case 'str':
      return pyStrRepr(v.v);
    case 'bytes':
      return pyBytesRepr(v.v);
    case 'int':
      return v.v.toString();
    case 'float':
      return pyFloatRepr(v.v);
    case 'bool':
      return v.v ? 'True' : 'False';
    case 'none':
      return 'None';
    case 'tuple':
      return v.v.length === 1 ? `(${pyValueRepr(v.v[0]!)},)` : `(${v.v.map(pyValueRepr).join(', ')})`;
    case 'list':
      return `[${v.v.map(pyValueRepr).join(', ')}]`;
    case 'dict':
      return `{${[...v.v].map(([k, item]) => `${pyStrRepr(k)}: ${pyValueRepr(item)}`).join(', ')}}`;
  }
}

/** Python `str(value)`. */
export function pyStr(v: PyValue): string {
  return v.t === 'str' ? v.v : pyValueRepr(v);
}

export function pyList(items: readonly string[]): string {
  return `[${items.map(pyStrRepr).join(', ')}]`;
}

/** A Python set of strings as MLflow prints it, in our fixed order. */
export function pySet(items: readonly string[]): string {
  return `{${items.map(pyStrRepr).join(', ')}}`;
}

export function pyTruthy(v: PyValue): boolean {
  switch (v.t) {
    case 'none':
      return false;
    case 'bool':
      return v.v;
    case 'int':
      return v.v !== 0n;
    case 'float':
      return v.v !== 0;
    case 'str':
    case 'bytes':
    case 'tuple':
    case 'list':
      return v.v.length > 0;
    case 'dict':
      return v.v.size > 0;
  }
}

/** Python `int(value)`; null where Python raises (ValueError, TypeError, OverflowError). */
export function pyInt(v: PyValue): bigint | null {
  switch (v.t) {
    case 'int':
      return v.v;
    case 'bool':
      return v.v ? 1n : 0n;
    case 'float':
      return Number.isFinite(v.v) ? BigInt(Math.trunc(v.v)) : null;
    case 'str': {
      const m = new RegExp(`^${S}*([+-]?)(${D}+(?:_${D}+)*)${S}*$`, 'u').exec(v.v);
      return m ? BigInt(m[1] + asciiDigits(m[2]!.replaceAll('_', ''))) : null;
    }
    default:
      return null;
  }
}

/** Python `str.upper()` (JavaScript agrees on everything a keyword or comparator can contain). */
export function pyUpper(s: string): string {
  return s.toUpperCase();
}

/** Python `str.strip()` (Unicode whitespace). */
export function pyStrip(s: string): string {
  return s.replace(new RegExp(`^${S}+|${S}+$`, 'gu'), '');
}

/** Maps Unicode decimal digits (which Python's int() and float() accept) to ASCII ones. */
export function asciiDigits(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch >= '0' && ch <= '9') {
      out += ch;
      continue;
    }
    let cp = ch.codePointAt(0)!;
    if (!/\p{Nd}/u.test(ch)) {
      out += ch;
      continue;
    }
    // Decimal digits come in contiguous runs of 0-9; find where this run of runs starts.
    let start = cp;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start -= 1;
    cp = (cp - start) % 10;
    out += String(cp);
  }
  return out;
}
