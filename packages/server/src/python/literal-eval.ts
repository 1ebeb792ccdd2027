/**
 * Python's `ast.literal_eval`, for the list after IN in a search filter: a subset (strings, bytes,
 * numbers, None, booleans, tuples and lists). Anything else raises LiteralError.
 */
import type { PyBytes, PyStr, PyValue } from './values.js';

export class LiteralError extends Error {}

const STRING_PREFIX = /(?:[rRuUbB]|[bB][rR]|[rR][bB])?(?='|")/y;
const PY_NUMBER =
  /0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?/y;
const PY_NAME = /[\p{L}_][\p{L}\p{N}_]*/uy;
const PY_NAME_CHAR = /[\p{L}\p{N}_.]/uy;

/** Matches a sticky regex at `pos`; the matched text or undefined. */
function stickyMatch(re: RegExp, text: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(text)?.[0];
}

export function literalEval(source: string): PyValue {
  let pos = 0;
  const text = source.replace(/^[ \t]+/, '');
  if (text.includes('\0')) throw new LiteralError();
  let depth = 0;
  const fail = (): never => {
    throw new LiteralError();
  };

  /** Skips blanks, comments, and (inside brackets) newlines and line continuations. */
  const skip = (): void => {
    for (;;) {
      const ch = text[pos];
      if (ch === ' ' || ch === '\t' || ch === '\f') pos += 1;
      else if (ch === '\\' && (text[pos + 1] === '\n' || text[pos + 1] === '\r')) {
        pos += text.startsWith('\r\n', pos + 1) ? 3 : 2;
      } else if (ch === '#') {
        while (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r') pos += 1;
      } else if ((ch === '\n' || ch === '\r') && depth > 0) pos += 1;
      else return;
    }
  };

  const parseString = (): PyStr | PyBytes => {
    const prefix = stickyMatch(STRING_PREFIX, text, pos) ?? fail();
    const raw = /r/i.test(prefix);
    const isBytes = /b/i.test(prefix);
    pos += prefix.length;
    const q = text[pos]!;
    const triple = text.startsWith(q.repeat(3), pos);
    const close = triple ? q.repeat(3) : q;
    pos += close.length;
    let body = '';
    for (;;) {
      if (pos >= text.length) fail();
      if (text.startsWith(close, pos)) {
        pos += close.length;
        break;
      }
      const ch = text[pos]!;
      if (!triple && (ch === '\n' || ch === '\r')) fail();
      if (ch === '\\') {
        if (pos + 1 >= text.length) fail();
        body += ch + text[pos + 1]!;
        pos += 2;
        continue;
      }
      body += ch;
      pos += 1;
    }
    const value = raw ? body : unescapePython(body, isBytes);
    if (isBytes) {
      const bytes: number[] = [];
      for (const ch of value) {
        const cp = ch.codePointAt(0)!;
        if (cp > 0xff || (cp > 0x7f && raw)) fail();
        bytes.push(cp);
      }
      // Non-ASCII source characters are a SyntaxError in bytes literals (escapes may exceed 0x7f).
      if ([...body].some((ch) => ch.codePointAt(0)! > 0x7f)) fail();
      return { t: 'bytes', v: Uint8Array.from(bytes) };
    }
    return { t: 'str', v: value };
  };

  const parseAtom = (): PyValue => {
    skip();
    const ch = text[pos];
    if (ch === undefined) fail();
    if (stickyMatch(STRING_PREFIX, text, pos) !== undefined) {
      // Adjacent string literals concatenate; str and bytes cannot be mixed.
      let value = parseString();
      for (;;) {
        skip();
        if (stickyMatch(STRING_PREFIX, text, pos) === undefined) return value;
        const more = parseString();
        if (value.t === 'str' && more.t === 'str') value = { t: 'str', v: value.v + more.v };
        else if (value.t === 'bytes' && more.t === 'bytes') value = { t: 'bytes', v: new Uint8Array([...value.v, ...more.v]) };
        else fail();
      }
    }
    if (ch === '(' || ch === '[') {
      const closer = ch === '(' ? ')' : ']';
      pos += 1;
      depth += 1;
      const items: PyValue[] = [];
      let trailingComma = false;
      for (;;) {
        skip();
        if (text[pos] === closer) break;
        items.push(parseExpr());
        skip();
        trailingComma = false;
        if (text[pos] === ',') {
          pos += 1;
          trailingComma = true;
          continue;
        }
        if (text[pos] !== closer) fail();
      }
      pos += 1;
      depth -= 1;
      if (closer === ']') return { t: 'list', v: items };
      if (items.length === 1 && !trailingComma) return items[0]!;
      return { t: 'tuple', v: items };
    }
    const number = stickyMatch(PY_NUMBER, text, pos) ?? '';
    if (/\d/.test(number)) {
      pos += number.length;
      if (stickyMatch(PY_NAME_CHAR, text, pos) !== undefined) fail(); // e.g. imaginary numbers, `1abc`
      const clean = number.replaceAll('_', '');
      if (/^0[xXoObB]/.test(clean)) return { t: 'int', v: BigInt(clean.toLowerCase()) };
      if (/[.eE]/.test(clean)) return { t: 'float', v: Number(clean) };
      if (/^0+\d/.test(clean) && /[1-9]/.test(clean)) fail(); // leading zeros are a SyntaxError
      return { t: 'int', v: BigInt(clean) };
    }
    const word = stickyMatch(PY_NAME, text, pos);
    if (word === 'None') return ((pos += 4), { t: 'none' });
    if (word === 'True') return ((pos += 4), { t: 'bool', v: true });
    if (word === 'False') return ((pos += 5), { t: 'bool', v: false });
    return fail();
  };

  const parseExpr = (): PyValue => {
    skip();
    const sign = text[pos];
    if (sign === '-' || sign === '+') {
      pos += 1;
      const operand = parseExpr();
      if (operand.t === 'int') return sign === '-' ? { t: 'int', v: -operand.v } : operand;
      if (operand.t === 'float') return sign === '-' ? { t: 'float', v: -operand.v } : operand;
      return fail();
    }
    return parseAtom();
  };

  const value = parseExpr();
  depth = 0;
  for (;;) {
    skip();
    if (text[pos] === '\n' || text[pos] === '\r') pos += 1;
    else break;
  }
  if (pos !== text.length) fail();
  return value;
}

/** Python string-literal escapes (non-raw). `\N{...}` is not supported. */
function unescapePython(body: string, isBytes: boolean): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = body[++i]!;
    const simple: Record<string, string> = {
      '\n': '',
      '\\': '\\',
      "'": "'",
      '"': '"',
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
    };
    if (e === '\r') {
      if (body[i + 1] === '\n') i += 1;
      continue;
    }
    if (e in simple) {
      out += simple[e];
      continue;
    }
    if (/[0-7]/.test(e)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      i += oct.length - 1;
      const code = parseInt(oct, 8);
      if (isBytes && code > 0xff) throw new LiteralError();
      out += String.fromCodePoint(code);
      continue;
    }
    const width = e === 'x' ? 2 : !isBytes && e === 'u' ? 4 : !isBytes && e === 'U' ? 8 : 0;
    if (width > 0) {
      const digits = body.slice(i + 1, i + 1 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits)) throw new LiteralError();
      const code = parseInt(digits, 16);
      if (code > 0x10ffff) throw new LiteralError();
      out += String.fromCodePoint(code);
      i += width;
      continue;
    }
    if (!isBytes && e === 'N') throw new LiteralError();
    out += `\\${e}`;
  }
  return out;
}
