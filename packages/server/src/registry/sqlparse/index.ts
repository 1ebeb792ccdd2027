/**
 * A port of the parts of Python's sqlparse (0.6.1, as MLflow 3.17.2 uses it) that decide how a flat
 * filter or order_by expression is tokenised and grouped:
 *
 *   lex      the lexer rules of sqlparse/keywords.py SQL_REGEX, in order, with its keyword table
 *            (lexer.ts, keywords.ts);
 *   split    statements at top-level `;` (sqlparse/engine/statement_splitter.py; splitter.ts);
 *   group    the grouping passes of sqlparse/engine/grouping.py that can matter at the top level of
 *            a filter, including their quirks (grouping.ts).
 *
 * It knows nothing about MLflow: ../search.ts walks the resulting tokens as MLflow does.
 */
export { group } from './grouping.js';
export { lex } from './lexer.js';
export { splitStatements } from './splitter.js';
export { isWhitespace, leaf, makeGroup, matches, ParseLimitError, type Node } from './tokens.js';
