/**
 * Python's serialisations that webhook receivers see byte for byte (the HMAC signature covers them):
 * `json.dumps(obj)` with its default separators (", " and ": ") and ensure_ascii, and
 * `datetime.isoformat()` of an aware UTC datetime.
 */
import { pyFloatRepr } from './values.js';

/** `json.dumps(value)`: insertion key order, `", "`/`": "` separators, non-ASCII as \uXXXX escapes. */
export function pyJsonDumps(value: unknown): string {
  return dump(value);
}

function dumpString(s: string): string {
  // JSON.stringify escapes `"`, `\` and control characters as Python does (\b \f \n \r \t, else
  // \u00XX in lower case); ensure_ascii additionally escapes everything outside ' '..'~', per
  // UTF-16 code unit (so astral characters become surrogate pairs, as in Python).
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'));
}

function dump(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return dumpString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return String(v);
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return pyFloatRepr(v);
  }
  if (Array.isArray(v)) return '[' + v.map(dump).join(', ') + ']';
  if (typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${dumpString(k)}: ${dump(x)}`).join(', ') + '}';
  }
  return dumpString(String(v));
}

/**
 * `datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat()`: `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`
 * (the fraction only when non-zero, always six digits).
 */
export function pyIsoformatUtc(ms: number): string {
  const d = new Date(ms);
  const base = d.toISOString().slice(0, 19);
  const frac = ((ms % 1000) + 1000) % 1000;
  return frac === 0 ? `${base}+00:00` : `${base}.${String(frac * 1000).padStart(6, '0')}+00:00`;
}
