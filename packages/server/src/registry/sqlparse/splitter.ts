/** sqlparse's StatementSplitter (sqlparse/engine/statement_splitter.py), for flat token lists. */
import { isWhitespace, matches, type Node } from './tokens.js';

/** StatementSplitter: split at `;` outside parentheses; whitespace and `--` comments after it stay. */
export function splitStatements(tokens: readonly Node[]): Node[][] {
  const statements: Node[][] = [];
  let current: Node[] = [];
  let level = 0;
  let consumeWs = false;
  for (const t of tokens) {
    if (consumeWs && !(isWhitespace(t) || t.ttype === 'Comment.Single')) {
      statements.push(current);
      current = [];
      level = 0;
      consumeWs = false;
    }
    if (matches(t, 'Punctuation', '(')) level += 1;
    else if (matches(t, 'Punctuation', ')')) level -= 1;
    current.push(t);
    if (matches(t, 'Punctuation', ';') && level <= 0) consumeWs = true;
  }
  if (current.length > 0 && !current.every(isWhitespace)) statements.push(current);
  return statements;
}
