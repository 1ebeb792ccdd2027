/**
 * Search semantics of MLflow's Model Registry (MLflow 3.17.2): the `filter` grammar of
 * search-registered-models / search-model-versions, `order_by` clauses and page tokens.
 *
 * MLflow parses filters with `sqlparse` and then walks the token tree (mlflow/utils/search_utils.py:
 * SearchModelUtils, SearchModelVersionUtils) before the SQL store validates comparators and values
 * (mlflow/store/model_registry/sqlalchemy_store.py: _get_search_registered_model_filter_query,
 * _get_search_model_versions_filter_clauses, _parse_search_*_order_by). What a filter means, which
 * inputs are accepted and which message a rejected input gets all follow from sqlparse's tokens and
 * groups. So this module ports the parts of sqlparse that matter for a flat filter expression:
 *
 *   lex      the lexer rules of sqlparse/keywords.py SQL_REGEX, in order, with its keyword table;
 *   split    statements at top-level `;` (sqlparse/engine/statement_splitter.py);
 *   group    the grouping passes of sqlparse/engine/grouping.py that can matter at the top level of
 *            a filter (comments, brackets, parentheses, functions, identifiers with periods, arrays,
 *            ASC/DESC, typecasts, operations, comparisons, AS, aliases, assignments, identifier
 *            lists), including their quirks;
 *
 * and then MLflow's own logic on the resulting tokens, with its exact messages. Nothing here builds
 * SQL: the store turns the returned comparisons into parameterised SQL. The port was checked against
 * MLflow on about 100,000 generated filters, order_by clauses and page tokens (see search.test.ts).
 *
 * Deliberate differences from MLflow
 * ----------------------------------
 * We answer 400 INVALID_PARAMETER_VALUE, with MLflow's message text where it has one, where MLflow
 * answers 500 or lets a database error through:
 *   - duplicate `order_by` fields ("`order_by` contains duplicate fields: [...]"): MLflow raises a
 *     bare MlflowException (INTERNAL_ERROR, 500);
 *   - `IS NULL` / `IS NOT NULL` comparisons: MLflow fails with a Python ValueError (500); we answer
 *     "Invalid comparison clause. Expected 3 tokens found 2";
 *   - a list value (`name = ('a')`) with a comparator other than IN / NOT IN: MLflow hands the tuple
 *     to the database, which fails; we answer "Invalid comparator '<op>' for a list of values. Use IN
 *     or NOT IN.";
 *   - lists that Python parses but `ast.literal_eval` refuses (names, calls, f-strings, ...), raw
 *     null bytes, and `\N{...}` escapes (500 in MLflow), and complex, dict and set literals inside a
 *     list: we report them all as the "ill-formed list" error;
 *   - `order_by` clauses that `shlex.split` cannot split (an unclosed quote; 500 in MLflow): we
 *     answer "Invalid order_by clause '<clause>'. Could not be parsed.";
 *   - page tokens: a non-ASCII token (500 in MLflow) gets "could not base64-decode"; JSON that is not
 *     an object (500) gets "parsed value=<value>"; an offset that `int()` refuses with TypeError or
 *     OverflowError (a list, an object, infinity; 500) gets "not stringable <value>"; a negative or
 *     unsafe (> 2^53 - 1) offset, which MLflow passes on to the database, gets "Invalid page token,
 *     offset out of range: <offset>"; JSON text in UTF-16/32 is not decoded;
 *   - `version_number` compared with an integer beyond 2^53 - 1, which MLflow passes on to the
 *     database, gets "Invalid value for numeric attribute 'version_number': <value>".
 * Other differences:
 *   - MLflow prints Python sets in messages ("Valid keys are '{...}'") in hash order, which changes
 *     from process to process; we always print them in one fixed order;
 *   - sqlparse's block keywords (BEGIN ... END, GO) and the rarer grouping passes (CASE, WHERE,
 *     typed literals, OVER) are not ported: they only ever occur in filters that
 *     both implementations reject, and then the message can differ;
 *   - sqlparse gives up on statements of more than 10,000 tokens or deeper than 100 nested groups
 *     ("Error on parsing filter '<filter>'"); we apply the same limits, counted the same way only
 *     approximately.
 *
 * Quirks kept on purpose, because clients may rely on them: a string value keeps its escapes
 * verbatim (`'it''s'` compares with `it''s`), while list items are Python literals (`('it\'s')` is
 * `it's`); run ids in an IN list are not case-folded; `tags.name DESC` in a model-version `order_by`
 * sorts by the model name.
 */
import { pyRepr as pyStrRepr } from '../python/repr.js';
import { MlflowError } from '../errors.js';

// ------------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------------

/**
 * Comparators the store must support. `NOT IN` is included because MLflow 3.17.2 accepts
 * `name NOT IN (...)` for registered models and `name` / `run_id NOT IN (...)` for model versions.
 */
export type Comparator = '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | '<' | '<=' | '>' | '>=';

/**
 * One AND-ed condition. `attribute` keys are MLflow's canonical names (`name`, `run_id`,
 * `source_path` for the `source` column, `version_number` for the `version` column); `tag` keys are
 * tag keys. Values: a string for `=`, `!=`, `LIKE`, `ILIKE` (and comparisons of `version_number` use
 * a number), a non-empty list of strings for `IN` / `NOT IN`.
 */
export interface Comparison {
  type: 'attribute' | 'tag';
  key: string;
  comparator: Comparator;
  value: string | number | string[];
}

export const PROMPT_TAG_KEY = 'mlflow.prompt.is_prompt';

export interface OrderTerm {
  column: 'name' | 'last_updated_time' | 'creation_time' | 'version';
  asc: boolean;
}

/** Parses a search-registered-models filter. Attributes: `name`; tags. Empty filter: no conditions. */
export function parseRegisteredModelFilter(filter: string | undefined): Comparison[] {
  return parseFilter(filter, REGISTERED_MODEL_RULES);
}

/** Parses a search-model-versions filter. Attributes: `name`, `run_id`, `source_path`, `version_number`; tags. */
export function parseModelVersionFilter(filter: string | undefined): Comparison[] {
  return parseFilter(filter, MODEL_VERSION_RULES);
}

/**
 * MLflow's `_is_querying_prompt`: the first condition on the prompt tag decides; prompts are asked
 * for by `= 'true'` or `!= 'false'` (value compared case-insensitively). Without such a condition
 * searches return only models.
 */
export function isQueryingPrompts(filters: readonly Comparison[]): boolean {
  for (const f of filters) {
    if (f.type !== 'tag' || f.key !== PROMPT_TAG_KEY) continue;
    const value = String(f.value).toLowerCase();
    return (f.comparator === '=' && value === 'true') || (f.comparator === '!=' && value === 'false');
  }
  return false;
}

/**
 * Registered-model `order_by` (SQL store): keys `name`, `timestamp`, `last_updated_timestamp` (both
 * sort by last-updated time); `name ASC` is appended unless `name` is present.
 */
export function parseRegisteredModelOrderBy(orderBy: readonly string[] | undefined): OrderTerm[] {
  const terms: OrderTerm[] = [];
  const seen = new Set<OrderTerm['column']>();
  for (const clause of orderBy ?? []) {
    const [rawKey, asc] = parseOrderByString(clause);
    const key = pyStrip(rawKey);
    if (!RM_ORDER_BY_KEYS.has(key)) {
      throw MlflowError.invalid(
        `Invalid order by key '${key}' specified. Valid keys are '${pySet(RM_RECOMMENDED_ORDER_BY_KEYS)}'`,
      );
    }
    const column: OrderTerm['column'] = key === 'name' ? 'name' : 'last_updated_time';
    addOrderTerm(terms, seen, column, asc, orderBy ?? []);
  }
  if (!seen.has('name')) terms.push({ column: 'name', asc: true });
  return terms;
}

/**
 * Model-version `order_by`: keys `name`, `version_number`, `creation_timestamp`,
 * `last_updated_timestamp`, optionally prefixed with `attribute.` and quoted with backticks. Default
 * `last_updated_timestamp DESC, name ASC, version_number DESC`; `name ASC` and then `version DESC`
 * are appended when absent.
 */
export function parseModelVersionOrderBy(orderBy: readonly string[] | undefined): OrderTerm[] {
  // The default is parsed once: re-parsing it cost more than a typical filter (35 µs per search).
  if (!orderBy || orderBy.length === 0) return (mvDefaultOrder ??= parseMvOrderClauses(MV_DEFAULT_ORDER_BY)).map((t) => ({ ...t }));
  return parseMvOrderClauses(orderBy);
}

let mvDefaultOrder: OrderTerm[] | undefined;

function parseMvOrderClauses(clauses: readonly string[]): OrderTerm[] {
  const terms: OrderTerm[] = [];
  const seen = new Set<OrderTerm['column']>();
  for (const clause of clauses) {
    const [tokenValue, asc] = parseOrderByString(clause);
    const { key } = parseEntityIdentifier(pyStrip(tokenValue), MV_ORDER_BY_KEYS, true);
    const column = MV_ORDER_BY_COLUMNS.get(key);
    if (column === undefined) {
      // Reached for `tags.<key>`: MLflow ignores the entity type and checks only the key.
      throw MlflowError.invalid(`Invalid order by key '${key}' specified. Valid keys are ${pySet(MV_ORDER_BY_KEYS)}`);
    }
    addOrderTerm(terms, seen, column, asc, clauses);
  }
  if (!seen.has('name')) terms.push({ column: 'name', asc: true });
  if (!seen.has('version')) terms.push({ column: 'version', asc: false });
  return terms;
}

/** MLflow's page token: base64 of Python's `json.dumps({"offset": N})`, e.g. 1 -> `eyJvZmZzZXQiOiAxfQ==`. */
export function createPageToken(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new MlflowError('INTERNAL_ERROR', `Cannot create a page token for offset ${offset}`);
  }
  return Buffer.from(`{"offset": ${offset}}`, 'utf8').toString('base64');
}

/** MLflow's `parse_start_offset_from_page_token`: absent or empty token -> 0. */
export function parsePageToken(token: string | undefined): number {
  if (!token) return 0;
  const bytes = b64decode(token);
  if (bytes === null) throw MlflowError.invalid('Invalid page token, could not base64-decode');
  const parsed = jsonLoads(bytes);
  if (parsed === null) throw MlflowError.invalid(`Invalid page token, decoded value=${pyBytesRepr(bytes)}`);
  if (parsed.t !== 'dict') throw MlflowError.invalid(`Invalid page token, parsed value=${pyRepr(parsed)}`);
  const offsetValue = parsed.v.get('offset');
  if (offsetValue === undefined || !pyTruthy(offsetValue)) {
    throw MlflowError.invalid(`Invalid page token, parsed value=${pyRepr(parsed)}`);
  }
  const offset = pyInt(offsetValue);
  if (offset === null) throw MlflowError.invalid(`Invalid page token, not stringable ${pyStr(offsetValue)}`);
  if (offset < 0n || offset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw MlflowError.invalid(`Invalid page token, offset out of range: ${offset}`);
  }
  return Number(offset);
}

// ------------------------------------------------------------------------------------------------
// MLflow: filters
// ------------------------------------------------------------------------------------------------

interface FilterRules {
  /** VALID_SEARCH_ATTRIBUTE_KEYS, in the order we print them. */
  attributeKeys: readonly string[];
  /** LIST_SUPPORTED_KEYS (printed sorted, as MLflow does). */
  listKeys: readonly string[];
  /** NUMERIC_ATTRIBUTES, or null where numbers are not accepted at all (registered models). */
  numericKeys: readonly string[] | null;
  /** The store's check of one parsed condition; `version_number` values become integers. */
  validate: (c: RawComparison) => RawComparison;
}

/** A condition as MLflow's parser returns it, before the store checks it. */
interface RawComparison {
  type: 'attribute' | 'tag';
  key: string;
  comparator: string;
  value: PyValue;
}

const STRING_COMPARATORS: ReadonlySet<string> = new Set(['=', '!=', 'LIKE', 'ILIKE']);
const LIST_COMPARATORS: ReadonlySet<string> = new Set(['IN', 'NOT IN']);
const NUMERIC_COMPARATORS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);

const REGISTERED_MODEL_RULES: FilterRules = {
  attributeKeys: ['name'],
  listKeys: ['name'],
  numericKeys: null,
  validate(c) {
    if (c.type === 'attribute') {
      if (!STRING_COMPARATORS.has(c.comparator) && !LIST_COMPARATORS.has(c.comparator)) {
        throw MlflowError.invalid(`Invalid comparator for attribute: ${c.comparator}`);
      }
      return c;
    }
    return validateTag(c);
  },
};

const MODEL_VERSION_RULES: FilterRules = {
  attributeKeys: ['name', 'version_number', 'run_id', 'source_path'],
  listKeys: ['name', 'run_id'],
  numericKeys: ['version_number', 'creation_timestamp', 'last_updated_timestamp'],
  validate(c) {
    if (c.type === 'tag') return validateTag(c);
    if (c.key === 'version_number') {
      if (!NUMERIC_COMPARATORS.has(c.comparator)) {
        throw MlflowError.invalid(`Invalid comparator for attribute ${c.key}: ${c.comparator}`);
      }
      const n = c.value.t === 'float' ? null : pyInt(c.value);
      if (n === null || n < BigInt(Number.MIN_SAFE_INTEGER) || n > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw MlflowError.invalid(`Invalid value for numeric attribute '${c.key}': ${pyRepr(c.value)}`);
      }
      return { ...c, value: { t: 'int', v: n } };
    }
    if (
      !(STRING_COMPARATORS.has(c.comparator) || LIST_COMPARATORS.has(c.comparator)) ||
      (LIST_COMPARATORS.has(c.comparator) && c.key !== 'run_id' && c.key !== 'name')
    ) {
      throw MlflowError.invalid(`Invalid comparator for attribute: ${c.comparator}`);
    }
    return c;
  },
};

function validateTag(c: RawComparison): RawComparison {
  if (!STRING_COMPARATORS.has(c.comparator)) throw MlflowError.invalid(`Invalid comparator for tag: ${c.comparator}`);
  return c;
}

/** Converts a validated condition: strings for =, !=, LIKE, ILIKE; lists for IN; numbers for versions. */
function toComparison(c: RawComparison): Comparison {
  const comparator = c.comparator as Comparator;
  if (c.value.t === 'int') return { type: c.type, key: c.key, comparator, value: Number(c.value.v) };
  if (c.value.t === 'tuple') {
    if (!LIST_COMPARATORS.has(comparator)) {
      throw MlflowError.invalid(`Invalid comparator '${comparator}' for a list of values. Use IN or NOT IN.`);
    }
    return { type: c.type, key: c.key, comparator, value: c.value.v.map((item) => (item as PyStr).v) };
  }
  // IN / NOT IN always come with a parenthesised list (see joinInComparisons), so this is a string.
  return { type: c.type, key: c.key, comparator, value: (c.value as PyStr).v };
}

/** SearchModelUtils / SearchModelVersionUtils.parse_search_filter, then the store's checks. */
function parseFilter(filter: string | undefined, rules: FilterRules): Comparison[] {
  if (!filter) return [];
  let statements: Node[][];
  try {
    statements = splitStatements(lex(filter));
    if (statements.length > 0) statements[0] = group(statements[0]!);
  } catch (e) {
    if (e instanceof ParseLimitError) throw MlflowError.invalid(`Error on parsing filter '${filter}'`);
    throw e;
  }
  if (statements.length === 0) throw MlflowError.invalid(`Invalid filter '${filter}'. Could not be parsed.`);
  if (statements.length > 1) {
    throw MlflowError.invalid(
      `Search filter contained multiple expression ${pyStrRepr(filter)}. Provide AND-ed expression list.`,
    );
  }
  const tokens = joinInComparisons(statements[0]!);
  const invalid = tokens.filter((t) => !(t.cls === 'Comparison' || isWhitespace(t) || matches(t, 'Keyword', 'AND')));
  if (invalid.length > 0) {
    throw MlflowError.invalid(`Invalid clause(s) in filter string: ${invalid.map((t) => t.text).join(', ')}`);
  }
  const parsed = tokens.filter((t) => t.cls === 'Comparison').map((t) => parseComparison(t, rules));
  // The store checks every condition before the database sees any of them.
  return parsed.map((c) => rules.validate(c)).map(toComparison);
}

/** `_join_in_comparison_tokens`: folds `ident IN (...)`, `ident NOT IN (...)`, `ident IS [NOT] NULL`. */
function joinInComparisons(statement: readonly Node[]): Node[] {
  const tokens = statement.filter((t) => !isWhitespace(t));
  const joined: Node[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = tokens[i]!;
    if (tokens.length - i < 3) {
      joined.push(...tokens.slice(i));
      break;
    }
    if (first.cls !== 'Identifier') {
      joined.push(first);
      i += 1;
      continue;
    }
    const second = tokens[i + 1]!;
    const third = tokens[i + 2]!;
    i += 3;
    if (matches(second, 'Keyword', 'IN') && third.cls === 'Parenthesis') {
      joined.push(makeGroup('Comparison', [first, second, third]));
      continue;
    }
    if (matches(second, 'Keyword', 'IS') && matches(third, 'Keyword', 'NULL')) {
      joined.push(makeGroup('Comparison', [first, leaf('Keyword', 'IS NULL')]));
      continue;
    }
    if (matches(second, 'Keyword', 'IS') && third.ttype === 'Keyword' && pyUpper(third.text) === 'NOT NULL') {
      joined.push(makeGroup('Comparison', [first, leaf('Keyword', 'IS NOT NULL')]));
      continue;
    }
    if (i >= tokens.length) {
      joined.push(first, second, third);
      break;
    }
    const fourth = tokens[i]!;
    i += 1;
    if (matches(second, 'Keyword', 'NOT') && matches(third, 'Keyword', 'IN') && fourth.cls === 'Parenthesis') {
      joined.push(makeGroup('Comparison', [first, leaf('Keyword', 'NOT IN'), fourth]));
      continue;
    }
    joined.push(first, second, third, fourth);
  }
  return joined;
}

/** `_validate_comparison` + `_get_comparison` of the registry's search utils. */
function parseComparison(comparison: Node, rules: FilterRules): RawComparison {
  const parts = comparison.children!.filter((t) => !isWhitespace(t));
  const base = 'Invalid comparison clause';
  // `IS [NOT] NULL` passes MLflow's validation and then fails to unpack into three tokens.
  if (parts.length !== 3) throw MlflowError.invalid(`${base}. Expected 3 tokens found ${parts.length}`);
  const [left, op, right] = parts as [Node, Node, Node];
  if (left.cls !== 'Identifier') throw MlflowError.invalid(`${base}. Expected 'Identifier' found '${left.text}'`);
  const { type, key } = parseEntityIdentifier(left.text, rules.attributeKeys, false);
  return { type, key, comparator: pyUpper(op.text), value: parseValue(type, key, right, rules) };
}

/**
 * `_get_model_search_identifier` (filters, `stripFirst` false: the attribute key is checked before
 * quotes are removed) and `SearchExperimentsUtils._get_identifier` (model-version order_by,
 * `stripFirst` true).
 */
function parseEntityIdentifier(
  identifier: string,
  validAttributes: readonly string[],
  stripFirst: boolean,
): { type: 'attribute' | 'tag'; key: string } {
  const dot = identifier.indexOf('.');
  let type: 'attribute' | 'tag' = 'attribute';
  let key = identifier;
  if (dot >= 0) {
    const entityType = identifier.slice(0, dot);
    key = identifier.slice(dot + 1);
    if (entityType !== 'attribute' && entityType !== 'tag' && entityType !== 'tags') {
      throw MlflowError.invalid(
        `Invalid entity type '${entityType}'. Valid entity types are ('attribute', 'tag', 'tags')`,
      );
    }
    type = entityType === 'attribute' ? 'attribute' : 'tag';
  }
  const stripped = trimBackticks(stripQuotes(key, false));
  const checked = stripFirst ? stripped : key;
  if (type === 'attribute' && !validAttributes.includes(checked)) {
    throw MlflowError.invalid(
      `Invalid attribute key '${checked}' specified. Valid keys are '${pySet(validAttributes)}'`,
    );
  }
  return { type, key: stripped };
}

/** `_get_value` of SearchModelUtils (numericKeys null) and SearchModelVersionUtils. */
function parseValue(type: 'attribute' | 'tag', key: string, token: Node, rules: FilterRules): PyValue {
  const isString = token.ttype === 'String.Single' || token.cls === 'Identifier';
  if (type === 'tag') {
    if (isString) return { t: 'str', v: stripQuotes(token.text, true) };
    throw MlflowError.invalid(`Expected a quoted string value for tag (e.g. 'my-value'). Got value ${token.text}`);
  }
  if (isString) return { t: 'str', v: stripQuotes(token.text, true) };
  if (token.cls === 'Parenthesis') {
    if (!rules.listKeys.includes(key)) {
      throw MlflowError.invalid(
        `Only ${pyList([...rules.listKeys].sort())} attributes support comparison with a list of quoted string values.`,
      );
    }
    return parseListLiteral(token.text);
  }
  if (rules.numericKeys !== null && (token.ttype === 'Number.Integer' || token.ttype === 'Number.Float')) {
    if (!rules.numericKeys.includes(key)) {
      throw MlflowError.invalid(
        `Only the '${pySet(rules.numericKeys)}' attributes support comparison with numeric values.`,
      );
    }
    const digits = asciiDigits(token.text);
    return token.ttype === 'Number.Integer' ? { t: 'int', v: BigInt(digits) } : { t: 'float', v: Number(digits) };
  }
  throw MlflowError.invalid(
    `Expected a quoted string value or a list of quoted string values for attributes. Got value ${token.text}`,
  );
}

/** `_strip_quotes`: removes one pair of single or double quotes; `expectQuoted` rejects anything else. */
function stripQuotes(value: string, expectQuoted: boolean): string {
  if (isQuoted(value, "'") || isQuoted(value, '"')) return value.slice(1, -1);
  if (expectQuoted) {
    throw MlflowError.invalid(
      `Parameter value is either not quoted or unidentified quote types used for string value ${value}. ` +
        'Use either single or double quotes.',
    );
  }
  return value;
}

function trimBackticks(value: string): string {
  return isQuoted(value, '`') ? value.slice(1, -1) : value;
}

function isQuoted(value: string, quote: string): boolean {
  return value.length >= 2 && value.startsWith(quote) && value.endsWith(quote);
}

/** `_parse_list_from_sql_token` + `_check_valid_identifier_list`. */
function parseListLiteral(text: string): PyTuple {
  let parsed: PyValue;
  try {
    parsed = literalEval(text);
  } catch (e) {
    if (!(e instanceof LiteralError)) throw e;
    throw MlflowError.invalid(
      'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    );
  }
  const tuple: PyTuple = parsed.t === 'tuple' ? parsed : { t: 'tuple', v: [parsed] };
  if (tuple.v.length === 0) {
    throw MlflowError.invalid(
      'While parsing a list in the query, expected a non-empty list of string values, but got empty list',
    );
  }
  if (!tuple.v.every((item) => item.t === 'str')) {
    throw MlflowError.invalid(
      'While parsing a list in the query, expected string value, punctuation, or whitespace, but got ' +
        `different type in list: ${pyRepr(tuple)}`,
    );
  }
  return tuple;
}

// ------------------------------------------------------------------------------------------------
// MLflow: order_by
// ------------------------------------------------------------------------------------------------

const RM_ORDER_BY_KEYS: ReadonlySet<string> = new Set(['timestamp', 'last_updated_timestamp', 'name']);
const RM_RECOMMENDED_ORDER_BY_KEYS = ['name', 'timestamp'];
const MV_ORDER_BY_KEYS = ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'];
const MV_ORDER_BY_COLUMNS: ReadonlyMap<string, OrderTerm['column']> = new Map([
  ['name', 'name'],
  ['version_number', 'version'],
  ['creation_timestamp', 'creation_time'],
  ['last_updated_timestamp', 'last_updated_time'],
] as const);
const MV_DEFAULT_ORDER_BY = ['last_updated_timestamp DESC', 'name ASC', 'version_number DESC'];

function addOrderTerm(
  terms: OrderTerm[],
  seen: Set<OrderTerm['column']>,
  column: OrderTerm['column'],
  asc: boolean,
  clauses: readonly string[],
): void {
  if (seen.has(column)) {
    // MLflow: bare MlflowException (500). We answer 400 with the same text.
    throw MlflowError.invalid(`\`order_by\` contains duplicate fields: ${pyList(clauses)}`);
  }
  seen.add(column);
  terms.push({ column, asc });
}

/** `_validate_order_by_and_generate_token` + `_parse_order_by_string`: [key text, ascending]. */
function parseOrderByString(orderBy: string): [string, boolean] {
  const unparsable = (): MlflowError =>
    MlflowError.invalid(`Invalid order_by clause '${orderBy}'. Could not be parsed.`);
  let statements: Node[][];
  try {
    statements = splitStatements(lex(orderBy));
    if (statements.length === 1) statements[0] = group(statements[0]!);
  } catch (e) {
    if (e instanceof ParseLimitError) throw MlflowError.invalid(`Error on parsing order_by clause '${orderBy}'`);
    throw e;
  }
  if (statements.length !== 1) throw unparsable();
  const tokens = statements[0]!;
  const first = tokens[0]!;
  const last = tokens[tokens.length - 1]!;
  const isTimestamp = (t: Node): boolean => t.ttype === 'Name.Builtin' && t.text === 'timestamp';
  let tokenValue: string;
  if (tokens.length === 1 && first.cls === 'Identifier') {
    tokenValue = first.text;
  } else if (tokens.length === 1 && isTimestamp(first)) {
    tokenValue = 'timestamp';
  } else if (isTimestamp(first) && tokens.slice(1, -1).every(isWhitespace) && last.ttype === 'Keyword.Order') {
    tokenValue = `timestamp ${last.text}`;
  } else {
    throw unparsable();
  }
  const words = shlexSplit(tokenValue.replaceAll('`', '"'));
  if (words === null || words.length > 2) throw unparsable();
  if (words.length === 2) {
    const direction = words[1]!.toLowerCase();
    if (direction !== 'asc' && direction !== 'desc') {
      throw MlflowError.invalid(`Invalid ordering key in order_by clause '${orderBy}'.`);
    }
    return [words[0]!, direction === 'asc'];
  }
  return [tokenValue, true];
}

/** `shlex.split(s)` (POSIX mode, no comments); null where Python raises ValueError. */
function shlexSplit(s: string): string[] | null {
  const whitespace = ' \t\r\n';
  const out: string[] = [];
  const chars = [...s];
  let i = 0;
  for (;;) {
    let token = '';
    let quoted = false;
    let state: string | null = ' ';
    let escapedState = 'a';
    for (;;) {
      const ch = i < chars.length ? chars[i++]! : '';
      if (state === ' ') {
        if (!ch) {
          state = null;
          break;
        } else if (whitespace.includes(ch)) {
          if (token || quoted) break;
        } else if (ch === '\\') {
          escapedState = 'a';
          state = ch;
        } else if (ch === "'" || ch === '"') {
          state = ch;
        } else {
          token = ch;
          state = 'a';
        }
      } else if (state === "'" || state === '"') {
        quoted = true;
        if (!ch) return null; // No closing quotation
        if (ch === state) state = 'a';
        else if (ch === '\\' && state === '"') {
          escapedState = state;
          state = ch;
        } else token += ch;
      } else if (state === '\\') {
        if (!ch) return null; // No escaped character
        if ((escapedState === "'" || escapedState === '"') && ch !== state && ch !== escapedState) token += state;
        token += ch;
        state = escapedState;
      } else {
        // state 'a': inside a word
        if (!ch) {
          state = null;
          break;
        } else if (whitespace.includes(ch)) {
          state = ' ';
          if (token || quoted) break;
        } else if (ch === "'" || ch === '"') {
          state = ch;
        } else if (ch === '\\') {
          escapedState = 'a';
          state = ch;
        } else token += ch;
      }
    }
    if (!quoted && token === '') return out; // end of input
    out.push(token);
    if (state === null) return out;
  }
}

// ------------------------------------------------------------------------------------------------
// sqlparse: lexer (sqlparse/keywords.py SQL_REGEX, sqlparse/lexer.py)
// ------------------------------------------------------------------------------------------------

type TType =
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

type GroupClass =
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
interface Node {
  ttype: TType | null;
  cls: GroupClass | null;
  text: string;
  children?: Node[];
}

class ParseLimitError extends Error {}

// Python's `\s`, `\w` and `\d` on str patterns are Unicode-aware. Python's `\b` is approximated by a
// lookahead: every `\b` in SQL_REGEX follows a word character.
const S = '[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const W = '[\\p{L}\\p{N}_]';
const D = '\\p{Nd}';
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

/** sqlparse's default keyword dictionaries, merged (first dictionary wins), as used by its lexer. */
let keywordTypes: Map<string, TType> | undefined;

function keywordTable(): ReadonlyMap<string, TType> {
  if (keywordTypes) return keywordTypes;
  const table = new Map<string, TType>();
  const add = (ttype: TType, words: string): void => {
    for (const w of words.split(/\s+/)) if (w) table.set(w, ttype);
  };
  add('Keyword.DML', 'COMMIT DELETE INSERT MERGE REPLACE ROLLBACK SELECT START UPDATE UPSERT');
  add('Keyword.DDL', 'ALTER CREATE DROP TRUNCATE');
  add('Keyword.DCL', 'GRANT REVOKE');
  add('Keyword.CTE', 'WITH');
  add('Operator', 'DIV');
  add(
    'Name.Builtin',
    `ARRAY BIGINT BIGNUMERIC BINARY BIT BLOB BOOLEAN CHAR DATE DEC DECIMAL FILE_TYPE FLOAT INT INT8 INTEGER
     INTERVAL LONG MAP NATURALN NUMBER NUMERIC NVARCHAR PLS_INTEGER POSITIVE POSITIVEN REAL ROWID ROWLABEL
     ROWNUM SERIAL SERIAL8 SIGNED SIGNTYPE SIMPLE_DOUBLE SIMPLE_FLOAT SIMPLE_INTEGER SMALLINT STRING STRUCT
     SYS_REFCURSOR TEXT TIMESTAMP TINYINT UNSIGNED UROWID UTL_FILE VARCHAR VARCHAR2 VARIANT VARYING`,
  );
  add('Keyword', SQLPARSE_KEYWORDS);
  keywordTypes = table;
  return table;
}

function lookupKeyword(word: string): TType {
  return keywordTable().get(pyUpper(word)) ?? 'Name';
}

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

function lex(text: string): Node[] {
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

// ------------------------------------------------------------------------------------------------
// sqlparse: statements and groups (sqlparse/engine/statement_splitter.py, grouping.py)
// ------------------------------------------------------------------------------------------------

const MAX_GROUPING_TOKENS = 10_000;
const MAX_GROUPING_DEPTH = 100;

function leaf(ttype: TType, text: string): Node {
  return { ttype, cls: null, text };
}

function makeGroup(cls: GroupClass, children: Node[]): Node {
  return { ttype: null, cls, text: children.map((c) => c.text).join(''), children };
}

function isWhitespace(t: Node): boolean {
  return t.ttype === 'Whitespace' || t.ttype === 'Newline';
}

function isKeyword(t: Node): boolean {
  return t.ttype !== null && t.ttype.startsWith('Keyword');
}

/** sqlparse `Token.match(ttype, value)`: exact type; keywords compare case-insensitively. */
function matches(t: Node, ttype: TType, value?: string): boolean {
  if (t.ttype !== ttype) return false;
  if (value === undefined) return true;
  return isKeyword(t) ? pyUpper(t.text) === value.toUpperCase() : t.text === value;
}

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

/** StatementSplitter: split at `;` outside parentheses; whitespace and `--` comments after it stay. */
function splitStatements(tokens: readonly Node[]): Node[][] {
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

/** The grouping passes of sqlparse's `group()` that can apply at the top level of a filter. */
function group(statement: Node[]): Node[] {
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

// ------------------------------------------------------------------------------------------------
// Python values, repr() and friends
// ------------------------------------------------------------------------------------------------

interface PyStr {
  t: 'str';
  v: string;
}
interface PyBytes {
  t: 'bytes';
  v: Uint8Array;
}
interface PyTuple {
  t: 'tuple';
  v: PyValue[];
}
type PyValue =
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
function pyBytesRepr(bytes: Uint8Array): string {
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
function pyFloatRepr(x: number): string {
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

function pyRepr(v: PyValue): string {
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
      return v.v.length === 1 ? `(${pyRepr(v.v[0]!)},)` : `(${v.v.map(pyRepr).join(', ')})`;
    case 'list':
      return `[${v.v.map(pyRepr).join(', ')}]`;
    case 'dict':
      return `{${[...v.v].map(([k, item]) => `${pyStrRepr(k)}: ${pyRepr(item)}`).join(', ')}}`;
  }
}

/** Python `str(value)`. */
function pyStr(v: PyValue): string {
  return v.t === 'str' ? v.v : pyRepr(v);
}

function pyList(items: readonly string[]): string {
  return `[${items.map(pyStrRepr).join(', ')}]`;
}

/** A Python set of strings as MLflow prints it, in our fixed order. */
function pySet(items: readonly string[]): string {
  return `{${items.map(pyStrRepr).join(', ')}}`;
}

function pyTruthy(v: PyValue): boolean {
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
function pyInt(v: PyValue): bigint | null {
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
function pyUpper(s: string): string {
  return s.toUpperCase();
}

/** Python `str.strip()` (Unicode whitespace). */
function pyStrip(s: string): string {
  return s.replace(new RegExp(`^${S}+|${S}+$`, 'gu'), '');
}

/** Maps Unicode decimal digits (which Python's int() and float() accept) to ASCII ones. */
function asciiDigits(s: string): string {
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

// ------------------------------------------------------------------------------------------------
// Python: ast.literal_eval for the list after IN (a subset: strings, bytes, numbers, None, booleans,
// tuples and lists). Anything else raises LiteralError.
// ------------------------------------------------------------------------------------------------

class LiteralError extends Error {}

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

function literalEval(source: string): PyValue {
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

// ------------------------------------------------------------------------------------------------
// Python: base64.b64decode (non-strict binascii.a2b_base64) and json.loads for page tokens
// ------------------------------------------------------------------------------------------------

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Python `base64.b64decode(token)`; null where it raises. Characters outside the alphabet are skipped. */
function b64decode(token: string): Uint8Array | null {
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

const JSON_NUMBER = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

/** Python `json.loads(bytes)` for UTF-8 input; null where it raises. Integers stay exact. */
function jsonLoads(bytes: Uint8Array): PyValue | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
  let pos = 0;
  const fail = (): never => {
    throw new LiteralError();
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
    if (e instanceof LiteralError) return null;
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------
// sqlparse's keyword table (type Keyword), from KEYWORDS_COMMON, _ORACLE, _MYSQL, _PLPGSQL, _HQL,
// _MSACCESS, _SNOWFLAKE, _BIGQUERY and KEYWORDS of sqlparse 0.6.1.
// ------------------------------------------------------------------------------------------------

const SQLPARSE_KEYWORDS = `
ABORT ABS ABSOLUTE ACCESS ACCOUNT ADA ADD ADMIN AFTER AGGREGATE ALIAS ALL ALLOCATE ANALYSE ANALYZE AND ANY
ARCHIVE ARCHIVELOG ARE ARRAYLEN ARRAY_CONTAINS AS ASENSITIVE ASSERTION ASSERT_ROWS_MODIFIED ASSIGNMENT
ASYMMETRIC AT ATOMIC ATTACH AUDIT AUTHORIZATION AUTO_INCREMENT AVG BACKUP BACKWARD BECOME BEFORE BEGIN BETWEEN
BIGSERIAL BITVAR BIT_LENGTH BLOCK BODY BOTH BOX BREADTH BREAK BY BYTEA CACHE CALL CALLED CANCEL CARDINALITY
CASCADE CASCADED CASE CAST CATALOG CATALOG_NAME CHAIN CHANGE CHARACTER CHARACTERISTICS CHARACTER_LENGTH
CHARACTER_SET_CATALOG CHARACTER_SET_NAME CHARACTER_SET_SCHEMA CHARSET CHAR_LENGTH CHECK CHECKED CHECKPOINT
CIDR CIRCLE CLASS CLASS_ORIGIN CLOB CLOSE CLUSTER CMP COALESCE COBOL COLLATE COLLATION COLLATION_CATALOG
COLLATION_NAME COLLATION_SCHEMA COLLECT COLLECT_LIST COLUMN COLUMN_NAME COMMAND_FUNCTION COMMAND_FUNCTION_CODE
COMMENT COMMITTED COMPILE COMPLETION COMPRESS CONCAT CONCURRENTLY CONDITION CONDITION_NUMBER CONFLICT CONNECT
CONNECTION CONNECTION_NAME CONSTRAINT CONSTRAINTS CONSTRAINT_CATALOG CONSTRAINT_NAME CONSTRAINT_SCHEMA
CONSTRUCTOR CONTAINS CONTENTS CONTINUE CONTROLFILE CONVERSION CONVERT COPY CORRESPONDING COUNT CREATEDB
CREATEUSER CROSS CUBE CURRENT CURRENT_DATE CURRENT_PATH CURRENT_ROLE CURRENT_TIME CURRENT_TIMESTAMP
CURRENT_USER CURSOR CURSOR_NAME CYCLE DATA DATABASE DATAFILE DATETIME_INTERVAL_CODE
DATETIME_INTERVAL_PRECISION DATE_ADD DATE_SUB DAY DBA DBMS_OUTPUT DEALLOCATE DECLARE DECODE DEFAULT DEFAULTS
DEFERRABLE DEFERRED DEFINE DEFINED DEFINER DELIMITER DELIMITERS DEREF DESCRIBE DESCRIPTOR DESTROY DESTRUCTOR
DETACH DETERMINISTIC DIAGNOSTICS DICTIONARY DIRECTORY DISABLE DISCONNECT DISMOUNT DISPATCH DISTINCT
DISTINCTROW DISTRIBUTE DO DOMAIN DOUBLE DUMP DYNAMIC DYNAMIC_FUNCTION DYNAMIC_FUNCTION_CODE EACH ELEMENTS ELSE
ELSIF ENABLE ENCODING ENCRYPTED END ENGINE ENUM EQUALS ESCAPE EVENTS EVERY EXCEPT EXCEPTION EXCEPTIONS
EXCHANGE EXCLUDING EXCLUSIVE EXEC EXECUTE EXISTING EXISTS EXIT EXPLAIN EXPLODE EXTENDED EXTENSION EXTENT
EXTERNAL EXTERNALLY EXTRACT FALSE FETCH FILE FINAL FIRST FLOOR FLUSH FOLLOWING FOR FORCE FOREACH FOREIGN
FORTRAN FORWARD FOUND FREE FREELIST FREELISTS FREEZE FROM FROM_UNIXTIME FTP FULL FUNCTION GENERAL GENERATED
GET GLOBAL GO GOTO GRANTED GROUP GROUPING GSCLUSTER HASH HAVING HIERARCHY HOLD HOST HOUR IDENTIFIED IDENTITY
IF IGNORE ILIKE IMMEDIATE IMMUTABLE IMPLEMENTATION IMPLICIT IN INCLUDE INCLUDING INCREMENT INDEX INDEXES
INDICATOR INET INFIX INHERIT INHERITS INITIAL INITIALIZE INITIALLY INITRANS INLINE INNER INOUT INPUT
INSENSITIVE INSTANCE INSTANTIABLE INSTEAD INSTR INTERSECT INTO INVOKER IS ISNULL ISOLATION ISSUE ITERATE JOIN
JSON JSONB KEY KEY_MEMBER KEY_TYPE LANCOMPILER LANGUAGE LARGE LAST LATERAL LAYER LEADING LEAVE LEFT LEN LENGTH
LESS LEVEL LIKE LIMIT LINE LINK LISTEN LISTS LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATE LOCATION LOCATOR LOCK
LOGFILE LOOKUP LOOP LOWER LSEG MACADDR MANAGE MANUAL MATCH MATERIALIZED MAX MAXDATAFILES MAXELEMENT MAXEXTENTS
MAXINDEX MAXINSTANCES MAXLOGFILES MAXLOGHISTORY MAXLOGMEMBERS MAXTRANS MAXVALUE MAX_PART_DATE MAX_PART_INT
MAX_PART_STRING MESSAGE_LENGTH MESSAGE_OCTET_LENGTH MESSAGE_TEXT METHOD MIN MINELEMENT MINEXTENTS MININDEX
MINUS MINUTE MINVALUE MIN_PART_DATE MIN_PART_INT MIN_PART_STRING MOD MODE MODIFIES MODIFY MODULE MONEY MONTH
MORE MOUNT MOVE MUMPS NAMES NATIONAL NATURAL NCHAR NCLOB NEW NEXT NO NOARCHIVELOG NOAUDIT NOCACHE NOCOMPRESS
NOCREATEDB NOCREATEUSER NOCYCLE NOMAXVALUE NOMINVALUE NONE NOORDER NORESETLOGS NORMAL NOSORT NOT NOTFOUND
NOTHING NOTICE NOTIFY NOTNULL NOW NOWAIT NULL NULLABLE NULLIF NVL NVL2 OBJECT OCTET_LENGTH OF OFF OFFLINE
OFFSET OIDS OLD ON ONLINE ONLY ON_ERROR_STOP OPEN OPERATION OPERATOR OPTIMAL OPTION OPTIONS OR ORDER
ORDINALITY ORGANIZATION OUT OUTER OUTPUT OVER OVERLAPS OVERLAY OVERRIDING OVERWRITE OWN OWNER PACKAGE PAD
PARALLEL PARAMETER PARAMETERS PARAMETER_MODE PARAMETER_NAME PARAMETER_ORDINAL_POSITION
PARAMETER_SPECIFIC_CATALOG PARAMETER_SPECIFIC_NAME PARAMETER_SPECIFIC_SCHEMA PARSE_URL_TUPLE PARTIAL PARTITION
PART_COUNT PART_COUNT_BY PART_LOC PASCAL PATH PCTFREE PCTINCREASE PCTUSED PENDANT PERFORM PG_LSN PIVOT PLACING
PLAN PLI PLPGSQL POINT POLYGON POSEXPLODE POSITION POSTFIX PRECEDING PRECISION PREFIX PREORDER PREPARE
PRESERVE PRIMARY PRINT PRIOR PRIVATE PRIVILEGES PROCEDURAL PROCEDURE PROFILE PROTO PUBLIC PUT_LINE QUALIFY
QUARTER QUOTA RAISE RANGE RAW READ READS RECHECK RECOVER RECURSIVE REDUCE REF REFERENCES REFERENCING REGEXP
REGEXP_REPLACE REINDEX RELATIVE RENAME REPEATABLE RESET RESETLOGS RESIGNAL RESOURCE RESPECT RESTART RESTRICT
RESTRICTED RESULT RETURN RETURNED_LENGTH RETURNED_OCTET_LENGTH RETURNED_SQLSTATE RETURNING RETURNS REUSE RIGHT
RLIKE ROLE ROLES ROLLUP ROUTINE ROUTINE_CATALOG ROUTINE_NAME ROUTINE_SCHEMA ROW ROWS ROW_COUNT ROW_FORMAT
RTRIM RULE SAMPLE SAVEPOINT SAVE_POINT SCALE SCHEMA SCHEMA_NAME SCN SCOPE SCROLL SEARCH SECOND SECTION
SECURITY SEGMENT SELF SENSITIVE SEQUENCE SERIALIZABLE SERVER_NAME SESSION SESSION_USER SET SETOF SETS SHARE
SHARED SHOW SIGN SIGNAL SIMILAR SIMPLE SIN SIZE SMALLSERIAL SNAPSHOT SOME SORT SOURCE SPACE SPECIFIC
SPECIFICTYPE SPECIFIC_NAME SPLIT SQL SQLBUF SQLCODE SQLERROR SQLEXCEPTION SQLSTATE SQLWARNING SQRT STABLE
STACK STATEMENT STATEMENT_ID STATIC STATISTICS STDIN STDOUT STOP STORAGE STR STRAIGHT_JOIN STRICT STRUCTURE
STYPE SUBCLASS_ORIGIN SUBLIST SUBSTR SUBSTRING SUCCESSFUL SUM SUMMARY SWITCH SYMMETRIC SYNONYM SYSID SYSTEM
SYSTEM_USER TABLE TABLES TABLESAMPLE TABLESPACE TABLE_NAME TBLPROPERTIES TEMP TEMPLATE TEMPORARY TERMINATE
THAN THEN THREAD TIME TIMESTAMP_ISO TIMEZONE_HOUR TIMEZONE_MINUTE TO TOAST TO_CHAR TO_DATE TO_TIMESTAMP
TRACING TRAILING TRANSACTION TRANSACTIONS_COMMITTED TRANSACTIONS_ROLLED_BACK TRANSATION TRANSATION_ACTIVE
TRANSFORM TRANSFORMS TRANSLATE TRANSLATION TREAT TRIGGER TRIGGERS TRIGGER_CATALOG TRIGGER_NAME TRIGGER_SCHEMA
TRIM TRUE TRUNC TRUSTED TRY_CAST TSQUERY TSVECTOR TXID_SNAPSHOT TYPE UID UNBOUNDED UNCOMMITTED UNDER
UNENCRYPTED UNION UNIQUE UNIQUEJOIN UNIX_TIMESTAMP UNKNOWN UNLIMITED UNLISTEN UNLOCK UNNAMED UNNEST UNPIVOT
UNTIL UPPER USAGE USE USER USER_DEFINED_TYPE_CATALOG USER_DEFINED_TYPE_NAME USER_DEFINED_TYPE_SCHEMA USING
UTC_TIMESTAMP UUID VACUUM VALID VALIDATE VALIDATOR VALUES VARIABLE VERBOSE VERSION VIEW VIEWS VOLATILE WEEK
WHEN WHENEVER WHERE WHILE WINDOW WITHOUT WORK WRITE XML YEAR ZONE
`;
