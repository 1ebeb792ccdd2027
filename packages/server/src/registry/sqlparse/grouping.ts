/**
 * The grouping passes of sqlparse/engine/grouping.py that can matter at the top level of a filter:
 * comments, brackets, parentheses, functions, identifiers with periods, arrays, ASC/DESC, typecasts,
 * operations, comparisons, AS, aliases, assignments and identifier lists, including their quirks.
 * Block keywords (BEGIN ... END, GO) and the rarer passes (CASE, WHERE, typed literals, OVER) are not
 * ported: they only ever occur in filters that both implementations reject (the message can differ).
 */
import { pyUpper } from '../../python/values.js';
import { isKeyword, isWhitespace, makeGroup, matches, ParseLimitError, type GroupClass, type Node } from './tokens.js';

// sqlparse's MAX_GROUPING_TOKENS / MAX_GROUPING_DEPTH: beyond them group() raises ParseLimitError
// (counted as sqlparse counts them only approximately).
const MAX_GROUPING_TOKENS = 10_000;
const MAX_GROUPING_DEPTH = 100;

function isName(t: Node | undefined): boolean {
  return t !== undefined && (t.ttype === 'Name' || t.ttype === 'Name.Placeholder' || t.ttype === 'Name.Builtin');
}

/** sqlparse's T_NUMERICAL + T_STRING + T_NAME, compared by exact type. */
function isPlainOperand(t: Node): boolean {
  switch (t.ttype) {
    case 'Number.Integer':
    case 'Number.Float':
    case 'String.Single':
    case 'String.Symbol':
    case 'Name':
    case 'Name.Placeholder':
      return true;
    default:
      return false;
  }
}

/** The grouping passes of sqlparse's `group()` that can apply at the top level of a filter. */
export function group(statement: Node[]): Node[] {
  let tokens = groupComments(statement);
  if (tokens.length > MAX_GROUPING_TOKENS) throw new ParseLimitError();
  const depths = new Map<Node, number>();
  tokens = groupMatching(tokens, '[', ']', 'SquareBrackets', depths);
  tokens = groupMatching(tokens, '(', ')', 'Parenthesis', depths);
  if (tokens.some((t) => (depths.get(t) ?? 0) > MAX_GROUPING_DEPTH)) throw new ParseLimitError();
  tokens = groupFunctions(tokens);
  const identifierStart = (p: Node | undefined): boolean =>
    p !== undefined &&
    (p.cls === 'SquareBrackets' || p.cls === 'Identifier' || p.ttype === 'Name' || p.ttype === 'String.Symbol');
  groupBinary(tokens, 'Identifier', isPeriod, identifierStart, () => true, periodPost, true);
  // group_arrays: `<name> [ ... ]`
  const arrayStart = (p: Node | undefined): boolean => identifierStart(p) || p?.cls === 'Function';
  const isBrackets = (t: Node): boolean => t.cls === 'SquareBrackets';
  groupBinary(tokens, 'Identifier', isBrackets, arrayStart, () => true, (_t, p, t) => [p, t], true);
  tokens = tokens.map((t) => (t.ttype === 'Name' || t.ttype === 'String.Symbol' ? makeGroup('Identifier', [t]) : t));
  groupOrder(tokens);
  // group_typecasts: `x::y`
  const present = (t: Node | undefined): boolean => t !== undefined;
  groupBinary(tokens, 'Identifier', (t) => matches(t, 'Punctuation', '::'), present, present, spanPost, true);
  groupBinary(
    tokens,
    'Operation',
    (t) => t.ttype === 'Operator' || t.ttype === 'Wildcard',
    isOperationOperand,
    isOperationOperand,
    (tokens, p, t, n) => {
      tokens[t] = { ...tokens[t]!, ttype: 'Operator' };
      return [p, n!];
    },
    false,
  );
  const isComparator = (t: Node): boolean => t.ttype === 'Operator.Comparison';
  groupBinary(tokens, 'Comparison', isComparator, isComparisonOperand, isComparisonOperand, spanPost, false);
  // group_as: `x AS y` becomes an identifier.
  groupBinary(
    tokens,
    'Identifier',
    (t) => isKeyword(t) && pyUpper(t.text) === 'AS',
    (p) => p !== undefined && (!isKeyword(p) || pyUpper(p.text) === 'NULL'),
    (n) => n !== undefined && n.ttype !== 'Keyword.DML' && n.ttype !== 'Keyword.DDL' && n.ttype !== 'Keyword.CTE',
    spanPost,
    true,
  );
  groupAliased(tokens);
  // group_assignment: `x := y`, extended up to a following `;`.
  const assignable = (t: Node | undefined): boolean => t !== undefined && t.ttype !== 'Keyword';
  const isAssign = (t: Node): boolean => matches(t, 'Assignment', ':=');
  groupBinary(tokens, 'Assignment', isAssign, assignable, assignable, assignmentPost, true);
  alignComments(tokens);
  const isComma = (t: Node): boolean => matches(t, 'Punctuation', ',');
  groupBinary(tokens, 'IdentifierList', isComma, isListMember, isListMember, spanPost, true);
  return tokens;
}

function isPeriod(t: Node): boolean {
  return matches(t, 'Punctuation', '.') || matches(t, 'Operator', '->') || matches(t, 'Operator', '->>');
}

type Post = (tokens: Node[], prevIdx: number, idx: number, nextIdx: number | undefined) => [number, number];

const spanPost: Post = (_tokens, p, _t, n) => [p, n!];

/** group_period's post: include the next token only if it can end an identifier. */
const periodPost: Post = (tokens, p, t, n) => {
  const next = n === undefined ? undefined : tokens[n];
  const ok =
    next !== undefined &&
    (next.cls === 'Function' ||
      next.cls === 'SquareBrackets' ||
      next.ttype === 'Name' ||
      next.ttype === 'String.Symbol' ||
      next.ttype === 'Wildcard' ||
      next.ttype === 'String.Single');
  return ok ? [p, n!] : [p, t];
};

const assignmentPost: Post = (tokens, p, _t, n) => {
  for (let i = n! + 1; i < tokens.length; i++) if (matches(tokens[i]!, 'Punctuation', ';')) return [p, i];
  return [p, n!];
};

function isOperationOperand(t: Node | undefined): boolean {
  if (t === undefined) return false;
  if (t.cls === 'SquareBrackets' || isComparisonGroup(t) || isPlainOperand(t)) return true;
  return ['CURRENT_DATE', 'CURRENT_TIME', 'CURRENT_TIMESTAMP'].some((word) => matches(t, 'Keyword', word));
}

function isComparisonOperand(t: Node | undefined): boolean {
  if (t === undefined) return false;
  if (isComparisonGroup(t) || isPlainOperand(t)) return true;
  return isKeyword(t) && pyUpper(t.text) === 'NULL';
}

/** Groups that group_operator and group_comparison accept as operands. */
function isComparisonGroup(t: Node): boolean {
  return t.cls === 'Parenthesis' || t.cls === 'Function' || t.cls === 'Identifier' || t.cls === 'Operation';
}

function isListMember(t: Node | undefined): boolean {
  if (t === undefined) return false;
  switch (t.cls) {
    case 'Function':
    case 'Identifier':
    case 'Comparison':
    case 'IdentifierList':
    case 'Operation':
      return true;
    default:
      break;
  }
  if (matches(t, 'Keyword', 'NULL') || matches(t, 'Keyword', 'ROLE')) return true;
  return isPlainOperand(t) || t.ttype === 'Keyword' || t.ttype === 'Wildcard';
}

/** Index of the next token after `idx` that is not whitespace (comments count), or undefined. */
function nextIndex(tokens: readonly Node[], idx: number): number | undefined {
  for (let i = idx + 1; i < tokens.length; i++) if (!isWhitespace(tokens[i]!)) return i;
  return undefined;
}

function prevIndex(tokens: readonly Node[], idx: number): number | undefined {
  for (let i = idx - 1; i >= 0; i--) if (!isWhitespace(tokens[i]!)) return i;
  return undefined;
}

/** TokenList.group_tokens: replaces tokens[start..end] by one group, or extends tokens[start]. */
function groupTokens(tokens: Node[], cls: GroupClass, start: number, end: number, extend: boolean): Node {
  const first = tokens[start]!;
  if (extend && first.cls === cls) {
    const grown = makeGroup(cls, [...first.children!, ...tokens.slice(start + 1, end + 1)]);
    tokens.splice(start, end - start + 1, grown);
    return grown;
  }
  const grp = makeGroup(cls, tokens.slice(start, end + 1));
  tokens.splice(start, end - start + 1, grp);
  return grp;
}

/**
 * sqlparse `_group` (top level only): joins `prev <match> next`. Like sqlparse it walks a snapshot of
 * the list, so a token swallowed by a group can still become `prev` of a later match.
 */
function groupBinary(
  tokens: Node[],
  cls: GroupClass,
  match: (t: Node) => boolean,
  validPrev: (t: Node | undefined) => boolean,
  validNext: (t: Node | undefined) => boolean,
  post: Post,
  extend: boolean,
): void {
  const snapshot = [...tokens];
  let offset = 0;
  let prevIdx = -1;
  let prev: Node | undefined;
  for (let idx = 0; idx < snapshot.length; idx++) {
    const token = snapshot[idx]!;
    const tidx = idx - offset;
    if (tidx < 0 || isWhitespace(token)) continue;
    if (match(token)) {
      const nidx = nextIndex(tokens, tidx);
      const next = nidx === undefined ? undefined : tokens[nidx];
      if (prev !== undefined && validPrev(prev) && validNext(next)) {
        const [from, to] = post(tokens, prevIdx, tidx, nidx);
        const grp = groupTokens(tokens, cls, from, to, extend);
        offset += to - from;
        prevIdx = from;
        prev = grp;
        continue;
      }
    }
    prevIdx = tidx;
    prev = token;
  }
}

/** group_comments: a run of comments (and newlines) followed by something else becomes one group. */
function groupComments(tokens: readonly Node[]): Node[] {
  const out: Node[] = [];
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i]!;
    if (!isComment(t)) {
      out.push(t);
      i += 1;
      continue;
    }
    let end = i;
    while (end < tokens.length && (isComment(tokens[end]!) || tokens[end]!.ttype === 'Newline')) end += 1;
    if (end >= tokens.length) {
      out.push(...tokens.slice(i));
      break;
    }
    out.push(makeGroup('Comment', tokens.slice(i, end)));
    i = end;
  }
  return out;
}

function isComment(t: Node): boolean {
  return t.ttype === 'Comment.Single' || t.ttype === 'Comment.Multiline';
}

/** group_brackets / group_parenthesis: matching pairs become groups; unmatched ones stay tokens. */
function groupMatching(
  tokens: readonly Node[],
  open: string,
  close: string,
  cls: GroupClass,
  depths: Map<Node, number>,
): Node[] {
  const stack: Node[][] = [[]];
  for (const t of tokens) {
    if (matches(t, 'Punctuation', open)) {
      stack.push([t]);
    } else if (matches(t, 'Punctuation', close) && stack.length > 1) {
      const inner = stack.pop()!;
      inner.push(t);
      const grp = makeGroup(cls, inner);
      depths.set(grp, 1 + Math.max(0, ...inner.map((c) => depths.get(c) ?? 0)));
      stack[stack.length - 1]!.push(grp);
    } else {
      stack[stack.length - 1]!.push(t);
    }
  }
  while (stack.length > 1) {
    const unclosed = stack.pop()!;
    stack[stack.length - 1]!.push(...unclosed);
  }
  return stack[0]!;
}

/** group_functions: a name followed by a parenthesis (skipped inside CREATE TABLE without AS). */
function groupFunctions(tokens: Node[]): Node[] {
  const words = new Set(tokens.map((t) => pyUpper(t.text)));
  if (words.has('CREATE') && words.has('TABLE') && !words.has('AS')) return tokens;
  for (let i = 0; i < tokens.length; i++) {
    if (!isName(tokens[i])) continue;
    const n = nextIndex(tokens, i);
    if (n !== undefined && tokens[n]!.cls === 'Parenthesis') groupTokens(tokens, 'Function', i, n, false);
  }
  return tokens;
}

/** group_order: `<identifier or number> ASC|DESC` becomes one identifier. */
function groupOrder(tokens: Node[]): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.ttype !== 'Keyword.Order') continue;
    const p = prevIndex(tokens, i);
    if (p === undefined) continue;
    const prev = tokens[p]!;
    if (prev.cls === 'Identifier' || (prev.ttype !== null && prev.ttype.startsWith('Number'))) {
      groupTokens(tokens, 'Identifier', p, i, false);
      i = p;
    }
  }
}

/** group_aliased: `<group or number> <identifier>` becomes an identifier. */
function groupAliased(tokens: Node[]): void {
  const aliasable = (t: Node): boolean =>
    t.cls === 'Parenthesis' ||
    t.cls === 'Function' ||
    t.cls === 'Identifier' ||
    t.cls === 'Operation' ||
    t.cls === 'Comparison' ||
    (t.ttype !== null && t.ttype.startsWith('Number'));
  for (let i = 0; i < tokens.length; i++) {
    if (!aliasable(tokens[i]!)) continue;
    const n = nextIndex(tokens, i);
    if (n !== undefined && tokens[n]!.cls === 'Identifier') groupTokens(tokens, 'Identifier', i, n, true);
  }
}

/** align_comments: a comment group is absorbed by the group before it. */
function alignComments(tokens: Node[]): void {
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]!.cls !== 'Comment') continue;
    const p = prevIndex(tokens, i);
    if (p === undefined || tokens[p]!.cls === null) continue;
    const prev = tokens[p]!;
    const grown = makeGroup(prev.cls!, [...prev.children!, ...tokens.slice(p + 1, i + 1)]);
    tokens.splice(p, i - p + 1, grown);
    i = p;
  }
}
