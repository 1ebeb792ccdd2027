/**
 * sqlparse's tokens and groups (sqlparse/tokens.py, sqlparse/sql.py), reduced to what the filter and
 * order_by parsers look at: a token type or a group class, and the source text.
 */
import { pyUpper } from '../../python/values.js';

export type TType =
  | 'Whitespace'
  | 'Newline'
  | 'Comment.Single'
  | 'Comment.Multiline'
  | 'Assignment'
  | 'Punctuation'
  | 'Wildcard'
  | 'Name'
  | 'Name.Placeholder'
  | 'Name.Builtin'
  | 'Command'
  | 'Keyword'
  | 'Keyword.DML'
  | 'Keyword.DDL'
  | 'Keyword.DCL'
  | 'Keyword.CTE'
  | 'Keyword.Order'
  | 'Keyword.TZCast'
  | 'Number.Hexadecimal'
  | 'Number.Float'
  | 'Number.Integer'
  | 'String.Single'
  | 'String.Symbol'
  | 'Literal'
  | 'Operator'
  | 'Operator.Comparison'
  | 'Error';

export type GroupClass =
  | 'Comment'
  | 'SquareBrackets'
  | 'Parenthesis'
  | 'Function'
  | 'Identifier'
  | 'Operation'
  | 'Comparison'
  | 'Assignment'
  | 'IdentifierList'
  | 'TokenList';

/** A sqlparse token (`cls` null) or group (`cls` set, `ttype` null). `text` is the source text. */
export interface Node {
  ttype: TType | null;
  cls: GroupClass | null;
  text: string;
  children?: Node[];
}

/** sqlparse gave up: too many tokens, or groups nested too deep (see grouping.ts). */
export class ParseLimitError extends Error {}

export function leaf(ttype: TType, text: string): Node {
  return { ttype, cls: null, text };
}

export function makeGroup(cls: GroupClass, children: Node[]): Node {
  return { ttype: null, cls, text: children.map((c) => c.text).join(''), children };
}

export function isWhitespace(t: Node): boolean {
  return t.ttype === 'Whitespace' || t.ttype === 'Newline';
}

export function isKeyword(t: Node): boolean {
  return t.ttype !== null && t.ttype.startsWith('Keyword');
}

/** sqlparse `Token.match(ttype, value)`: exact type; keywords compare case-insensitively. */
export function matches(t: Node, ttype: TType, value?: string): boolean {
  if (t.ttype !== ttype) return false;
  if (value === undefined) return true;
  return isKeyword(t) ? pyUpper(t.text) === value.toUpperCase() : t.text === value;
}
