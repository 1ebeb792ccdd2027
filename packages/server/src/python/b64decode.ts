/** Python's `base64.b64decode` (non-strict binascii.a2b_base64), for page tokens. */

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Python `base64.b64decode(token)`; null where it raises. Characters outside the alphabet are skipped. */
export function b64decode(token: string): Uint8Array | null {
  if (/[^\x00-\x7f]/.test(token)) return null;
  const out: number[] = [];
  let quadPos = 0;
  let leftChar = 0;
  let pads = 0;
  for (const ch of token) {
    if (ch === '=') {
      if (quadPos >= 2 && quadPos + ++pads >= 4) return Uint8Array.from(out);
      continue;
    }
    const v = B64_ALPHABET.indexOf(ch);
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftChar = v;
        break;
      case 1:
        quadPos = 2;
        out.push(((leftChar << 2) | (v >> 4)) & 0xff);
        leftChar = v & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out.push(((leftChar << 4) | (v >> 2)) & 0xff);
        leftChar = v & 0x03;
        break;
      default:
        quadPos = 0;
        out.push(((leftChar << 6) | v) & 0xff);
        leftChar = 0;
    }
  }
  return quadPos === 0 ? Uint8Array.from(out) : null;
}
