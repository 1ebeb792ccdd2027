/** Python's `json.loads`, for page tokens: values as Python sees them (integers stay exact). */
import type { PyValue } from './values.js';

/** Raised inside jsonLoads to abandon the parse; jsonLoads then returns null. */
class JsonDecodeError extends Error {}

const JSON_NUMBER = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/** Python `json.loads(bytes)` for UTF-8 input; null where it raises. Integers stay exact. */
export function jsonLoads(bytes: Uint8Array): PyValue | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
  let pos = 0;
  const fail = (): never => {
    throw new JsonDecodeError();
  };
  const ws = (): void => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos += 1;
  };
  const parseString = (): string => {
    pos += 1; // opening quote
    let out = '';
    for (;;) {
      const ch = text[pos];
      if (ch === undefined || ch < ' ') fail();
      pos += 1;
      if (ch === '"') return out;
      if (ch !== '\\') {
        out += ch;
        continue;
      }
      const e = text[pos++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && e in simple) out += simple[e];
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(pos, pos + 4))) {
        out += String.fromCharCode(parseInt(text.slice(pos, pos + 4), 16));
        pos += 4;
      } else fail();
    }
  };
  const parseValue = (): PyValue => {
    ws();
    const ch = text[pos];
    if (ch === '{') {
      pos += 1;
      const map = new Map<string, PyValue>();
      ws();
      if (text[pos] === '}') return ((pos += 1), { t: 'dict', v: map });
      for (;;) {
        ws();
        if (text[pos] !== '"') fail();
        const key = parseString();
        ws();
        if (text[pos] !== ':') fail();
        pos += 1;
        map.set(key, parseValue());
        ws();
        if (text[pos] === ',') {
          pos += 1;
          continue;
        }
        if (text[pos] === '}') return ((pos += 1), { t: 'dict', v: map });
        fail();
      }
    }
    if (ch === '[') {
      pos += 1;
      const items: PyValue[] = [];
      ws();
      if (text[pos] === ']') return ((pos += 1), { t: 'list', v: items });
      for (;;) {
        items.push(parseValue());
        ws();
        if (text[pos] === ',') {
          pos += 1;
          continue;
        }
        if (text[pos] === ']') return ((pos += 1), { t: 'list', v: items });
        fail();
      }
    }
    if (ch === '"') return { t: 'str', v: parseString() };
    for (const [word, value] of [
      ['null', { t: 'none' }],
      ['true', { t: 'bool', v: true }],
      ['false', { t: 'bool', v: false }],
      ['NaN', { t: 'float', v: NaN }],
      ['Infinity', { t: 'float', v: Infinity }],
      ['-Infinity', { t: 'float', v: -Infinity }],
    ] as const) {
      if (text.startsWith(word, pos)) return ((pos += word.length), value);
    }
    JSON_NUMBER.lastIndex = pos;
    const m = JSON_NUMBER.exec(text) ?? fail();
    pos += m[0].length;
    return m[2] === undefined && m[3] === undefined ? { t: 'int', v: BigInt(m[1]!) } : { t: 'float', v: Number(m[0]) };
  };
  try {
    const value = parseValue();
    ws();
    return pos === text.length ? value : null;
  } catch (e) {
    if (e instanceof JsonDecodeError) return null;
    throw e;
  }
}
