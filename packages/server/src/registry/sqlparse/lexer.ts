/**
 * sqlparse's lexer (sqlparse/lexer.py) with the rules of sqlparse/keywords.py SQL_REGEX, in order:
 * at each position the first rule that matches makes the next token; a character no rule matches
 * becomes an `Error` token, as in sqlparse.
 */
import { PY_DIGIT, PY_SPACE } from '../../python/values.js';
import { lookupKeyword } from './keywords.js';
import { leaf, type Node, type TType } from './tokens.js';

// Python's `\s`, `\w` and `\d` on str patterns are Unicode-aware. Python's `\b` is approximated by a
// lookahead: every `\b` in SQL_REGEX follows a word character.
const S = PY_SPACE;
const W = '[\\p{L}\\p{N}_]';
const D = PY_DIGIT;
const B = `(?!${W})`;
const LETTER = '[A-ZÀ-Ü]';

/** The SQL_REGEX rules in order; `null` type means "look the word up in the keyword table". */
const RULES: ReadonlyArray<readonly [RegExp, TType | null]> = (
  [
    [`(?:--|# )\\+[^\\n]*?(?:\\r\\n|\\r|\\n|$)`, 'Comment.Single'],
    [`(?:--|# )[^\\n]*?(?:\\r\\n|\\r|\\n|$)`, 'Comment.Single'],
    [`\\r\\n|\\r|\\n`, 'Newline'],
    [S, 'Whitespace'],
    [`:=`, 'Assignment'],
    [`::`, 'Punctuation'],
    [`\\*`, 'Wildcard'],
    ['`(?:``|[^`])*`', 'Name'],
    [`´(?:´´|[^´])*´`, 'Name'],
    [`\\?`, 'Name.Placeholder'],
    [`%(?:\\(${W}+\\))?s`, 'Name.Placeholder'],
    [`(?<!${W})[$:?]${W}+`, 'Name.Placeholder'],
    [`\\\\${W}+`, 'Command'],
    [`(?:CASE|IN|VALUES|USING|FROM|AS)${B}`, 'Keyword'],
    [`(?:@|##|#)${LETTER}${W}+`, 'Name'],
    [`${LETTER}${W}*(?=${S}*\\.(?!${D}))`, 'Name'],
    [`(?<=\\.)${LETTER}${W}*`, 'Name'],
    [`${LETTER}${W}*(?=\\()`, 'Name'],
    [`-?0x[${D}A-F]+`, 'Number.Hexadecimal'],
    [`-?${D}+(?:\\.${D}+)?E-?${D}+`, 'Number.Float'],
    [`(?![_A-ZÀ-Ü])-?(?:${D}+(?:\\.${D}*)|\\.${D}+)(?![_A-ZÀ-Ü])`, 'Number.Float'],
    [`(?![_A-ZÀ-Ü])-?${D}+(?![_A-ZÀ-Ü])`, 'Number.Integer'],
    [`'(?:''|\\\\'|[^'])*'`, 'String.Single'],
    [`"(?:""|\\\\"|[^"])*"`, 'String.Symbol'],
    [`(?:""|"[^\\n]*?[^\\\\]")`, 'String.Symbol'],
    [`(?<![\\p{L}\\p{N}_\\])])(?:\\[[^\\]\\[]+\\])`, 'Name'],
    [`(?:(?:LEFT${S}+|RIGHT${S}+|FULL${S}+)?(?:INNER${S}+|OUTER${S}+|STRAIGHT${S}+)?|(?:CROSS${S}+|NATURAL${S}+)?)?JOIN${B}`, 'Keyword'],
    [`END(?:${S}+IF|${S}+LOOP|${S}+WHILE|${S}+FOR|${S}+CASE)?${B}`, 'Keyword'],
    [`IF${S}+(?:NOT${S}+)?EXISTS${B}`, 'Keyword'],
    [`NOT${S}+NULL${B}`, 'Keyword'],
    [`(?:ASC|DESC)(?:${S}+NULLS${S}+(?:FIRST|LAST))?${B}`, 'Keyword.Order'],
    [`(?:ASC|DESC)${B}`, 'Keyword.Order'],
    [`NULLS${S}+(?:FIRST|LAST)${B}`, 'Keyword.Order'],
    [`UNION${S}+ALL${B}`, 'Keyword'],
    [`CREATE(?:${S}+OR${S}+REPLACE)?${B}`, 'Keyword.DDL'],
    [`DOUBLE${S}+PRECISION${B}`, 'Name.Builtin'],
    [`GROUP${S}+BY${B}`, 'Keyword'],
    [`ORDER${S}+BY${B}`, 'Keyword'],
    [`PRIMARY${S}+KEY${B}`, 'Keyword'],
    [`HANDLER${S}+FOR${B}`, 'Keyword'],
    [`GO(?:${S}${D}+)${B}`, 'Keyword'],
    [`(?:LATERAL${S}+VIEW${S}+)(?:EXPLODE|INLINE|PARSE_URL_TUPLE|POSEXPLODE|STACK)${B}`, 'Keyword'],
    [`(?:AT|WITH')${S}+TIME${S}+ZONE${S}+'[^']+'`, 'Keyword.TZCast'],
    [`(?:NOT${S}+)?(?:LIKE|ILIKE|RLIKE)${B}`, 'Operator.Comparison'],
    [`(?:NOT${S}+)?REGEXP(?:${S}+BINARY)?${B}`, 'Operator.Comparison'],
    [`${W}[$#\\p{L}\\p{N}_]*`, null],
    [`[;:()\\[\\],.]`, 'Punctuation'],
    [`(?:->>?|#>>?|@>|<@|\\?\\|?|\\?&|-|#-)`, 'Operator'],
    [`[<>=~!]+`, 'Operator.Comparison'],
    [`[+/@#%^&|^-]+`, 'Operator'],
  ] as const
).map(([source, ttype]) => [new RegExp(source, 'iuy'), ttype] as const);

const DOLLAR_QUOTE = new RegExp(`\\$(?:[_A-ZÀ-Ü]${W}*)?\\$`, 'iuy');
/** A `$` after a word character, `"` or `$` cannot open a dollar-quoted literal. */
const DOLLAR_OPENER_NOT_AFTER = new RegExp(`[\\p{L}\\p{N}_"$]$`, 'u');

/** Where `/* ... *\/` comments and `$tag$ ... $tag$` literals may close (sqlparse find_delimited_spans). */
interface DelimitedSpans {
  resolve(pos: number): { end: number; ttype: TType } | null;
}

function findDelimitedSpans(text: string): DelimitedSpans {
  // Start positions of every possible closer, per delimiter; looked up by binary search like sqlparse
  // does, so that many unclosed openers cost O(n log n) rather than O(n^2).
  const closers = new Map<string, number[]>();
  const addCloser = (delimiter: string, at: number): void => {
    const list = closers.get(delimiter);
    if (list) list.push(at);
    else closers.set(delimiter, [at]);
  };
  for (let at = text.indexOf('*/'); at >= 0; at = text.indexOf('*/', at + 2)) addCloser('*/', at);
  for (let at = text.indexOf('$'); at >= 0; at = text.indexOf('$', at + 1)) {
    DOLLAR_QUOTE.lastIndex = at;
    const m = DOLLAR_QUOTE.exec(text);
    if (m) addCloser(m[0], at);
  }
  const firstCloser = (delimiter: string, from: number): number | undefined => {
    const list = closers.get(delimiter) ?? [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    return list[lo];
  };
  return {
    resolve(pos) {
      if (text.startsWith('/*', pos)) {
        const closer = firstCloser('*/', pos + 2);
        return closer === undefined ? null : { end: closer + 2, ttype: 'Comment.Multiline' };
      }
      if (text[pos] !== '$' || DOLLAR_OPENER_NOT_AFTER.test(text.slice(Math.max(0, pos - 2), pos))) return null;
      DOLLAR_QUOTE.lastIndex = pos;
      const m = DOLLAR_QUOTE.exec(text);
      if (!m) return null;
      const closer = firstCloser(m[0], pos + m[0].length);
      return closer === undefined ? null : { end: closer + m[0].length, ttype: 'Literal' };
    },
  };
}

export function lex(text: string): Node[] {
  const out: Node[] = [];
  const spans = findDelimitedSpans(text);
  let pos = 0;
  next: while (pos < text.length) {
    const span = spans.resolve(pos);
    if (span) {
      out.push(leaf(span.ttype, text.slice(pos, span.end)));
      pos = span.end;
      continue;
    }
    for (const [re, ttype] of RULES) {
      re.lastIndex = pos;
      const m = re.exec(text);
      if (!m || m[0].length === 0) continue;
      out.push(leaf(ttype ?? lookupKeyword(m[0]), m[0]));
      pos += m[0].length;
      continue next;
    }
    const ch = String.fromCodePoint(text.codePointAt(pos)!);
    out.push(leaf('Error', ch));
    pos += ch.length;
  }
  return out;
}
