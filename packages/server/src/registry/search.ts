/**
 * Search semantics of MLflow's Model Registry (MLflow 3.17.2): the `filter` grammar of
 * search-registered-models / search-model-versions, `order_by` clauses and page tokens.
 *
 * MLflow parses filters with `sqlparse` and then walks the token tree (mlflow/utils/search_utils.py:
 * SearchModelUtils, SearchModelVersionUtils) before the SQL store validates comparators and values
 * (mlflow/store/model_registry/sqlalchemy_store.py: _get_search_registered_model_filter_query,
 * _get_search_model_versions_filter_clauses, _parse_search_*_order_by). What a filter means, which
 * inputs are accepted and which message a rejected input gets all follow from sqlparse's tokens and
 * groups. So ./sqlparse ports the parts of sqlparse that matter for a flat filter expression (lex,
 * split into statements, group), ../python ports the Python behaviour MLflow relies on
 * (`ast.literal_eval`, `shlex.split`, `base64.b64decode`, `json.loads`, `repr()`, `int()`), and this
 * module is MLflow's own logic on the resulting tokens, with its exact messages. Nothing here builds
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
import { b64decode } from '../python/b64decode.js';
import { jsonLoads } from '../python/json-loads.js';
import { literalEval, LiteralError } from '../python/literal-eval.js';
import { shlexSplit } from '../python/shlex.js';
import {
  asciiDigits,
  pyBytesRepr,
  pyInt,
  pyList,
  pySet,
  pyStr,
  pyStrip,
  pyTruthy,
  pyUpper,
  pyValueRepr as pyRepr,
  type PyStr,
  type PyTuple,
  type PyValue,
} from '../python/values.js';
import { MlflowError } from '../errors.js';
import {
  group,
  isWhitespace,
  leaf,
  lex,
  makeGroup,
  matches,
  ParseLimitError,
  splitStatements,
  type Node,
} from './sqlparse/index.js';

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
