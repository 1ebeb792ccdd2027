/**
 * Tests for search.ts.
 *
 * Every row of the MLFLOW_* tables was produced by running MLflow 3.17.2 (installed in /work/pyvenv) on
 * the input: for filters `SearchModelUtils.parse_search_filter` / `SearchModelVersionUtils.parse_search_filter`
 * followed by the SQL store's `_get_search_registered_model_filter_query` /
 * `_get_search_model_versions_filter_clauses` (SQLite store; `version_number` values as the store
 * converts them), for order_by `SqlAlchemyStore._parse_search_registered_models_order_by` /
 * `_parse_search_model_versions_order_by`, for page tokens
 * `SearchUtils.parse_start_offset_from_page_token`. `error` rows are MLflow's exact
 * INVALID_PARAMETER_VALUE message, except that MLflow prints Python sets ("Valid keys are '{...}'")
 * in an order that changes from process to process, and we print them in one fixed order.
 *
 * The same comparison was run on about 100,000 generated inputs (random clause combinations and
 * token soup); the only disagreements left are the deliberate differences listed at the top of
 * search.ts, which DELIBERATE below pins down.
 */
import { describe, expect, it } from 'vitest';
import { MlflowError } from '../errors.js';
import {
  type Comparison,
  type OrderTerm,
  createPageToken,
  isQueryingPrompts,
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parsePageToken,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
  PROMPT_TAG_KEY,
} from './search.js';

type Outcome<T> = { ok: T } | { error: string };

const A = (key: string, comparator: Comparison['comparator'], value: Comparison['value']): Comparison => ({
  type: 'attribute',
  key,
  comparator,
  value,
});
const T = (key: string, comparator: Comparison['comparator'], value: Comparison['value']): Comparison => ({
  type: 'tag',
  key,
  comparator,
  value,
});

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

function expectInvalid(f: () => unknown, message: string): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(MlflowError);
  const err = e as MlflowError;
  expect(err.message).toBe(message);
  expect(err.errorCode).toBe('INVALID_PARAMETER_VALUE');
  expect(err.status).toBe(400);
}

function check<I, T>(f: (input: I) => T, input: I, expected: Outcome<T>): void {
  if ('ok' in expected) expect(f(input)).toEqual(expected.ok);
  else expectInvalid(() => f(input), expected.error);
}

// search-registered-models `filter`.
const MLFLOW_RM_FILTERS: Array<[string, Outcome<Comparison[]>]> = [
  ["name = 'a'", { ok: [A('name', '=', 'a')] }],
  ["name='my-model'", { ok: [A('name', '=', 'my-model')] }],
  ['name = "double"', { ok: [A('name', '=', 'double')] }],
  ["name != 'a'", { ok: [A('name', '!=', 'a')] }],
  ["name LIKE 'a%'", { ok: [A('name', 'LIKE', 'a%')] }],
  ["name like 'a%'", { ok: [A('name', 'LIKE', 'a%')] }],
  ["name ILIKE '%A_'", { ok: [A('name', 'ILIKE', '%A_')] }],
  ["attribute.name = 'a'", { ok: [A('name', '=', 'a')] }],
  ["name IN ('a', 'b')", { ok: [A('name', 'IN', ['a', 'b'])] }],
  ["name in ('a')", { ok: [A('name', 'IN', ['a'])] }],
  ["name NOT IN ('a', \"b\")", { ok: [A('name', 'NOT IN', ['a', 'b'])] }],
  ["name not  in ('a',)", { ok: [A('name', 'NOT IN', ['a'])] }],
  ["tags.k = 'v'", { ok: [T('k', '=', 'v')] }],
  ["tag.k != 'v'", { ok: [T('k', '!=', 'v')] }],
  ["tags.`mlflow.prompt.is_prompt` = 'true'", { ok: [T('mlflow.prompt.is_prompt', '=', 'true')] }],
  ["tags.\"key with space\" LIKE '%x%'", { ok: [T('key with space', 'LIKE', '%x%')] }],
  ["tags.'quoted' = 'v'", { ok: [T('quoted', '=', 'v')] }],
  ["tags.a.b = 'v'", { ok: [T('a.b', '=', 'v')] }],
  ["tags.select = 'v'", { ok: [T('select', '=', 'v')] }],
  ["tags.1abc = 'v'", { ok: [T('1abc', '=', 'v')] }],
  ["tags.`weird``name` = 'v'", { ok: [T('weird``name', '=', 'v')] }],
  ["name = 'a' AND tags.k = 'v'", { ok: [A('name', '=', 'a'), T('k', '=', 'v')] }],
  ["name = 'a' and tags.k = 'v' AnD tags.j ILIKE 'x'", { ok: [A('name', '=', 'a'), T('k', '=', 'v'), T('j', 'ILIKE', 'x')] }],
  ["name = 'a'\n\tAND\n tags.k = 'v'", { ok: [A('name', '=', 'a'), T('k', '=', 'v')] }],
  ["name = 'it''s'", { ok: [A('name', '=', "it''s")] }],
  ["name = 'it\\'s'", { ok: [A('name', '=', "it\\'s")] }],
  ["name = \"it's\"", { ok: [A('name', '=', "it's")] }],
  ["name = ''", { ok: [A('name', '=', '')] }],
  ["name = '日本語'", { ok: [A('name', '=', '日本語')] }],
  ["and name = 'a'", { ok: [A('name', '=', 'a')] }],
  ["name = 'a' and", { ok: [A('name', '=', 'a')] }],
  ["name = 'a' AND AND name = 'b'", { ok: [A('name', '=', 'a'), A('name', '=', 'b')] }],
  ["tags. k = 'v'", { ok: [T(' k', '=', 'v')] }],
  ['   ', { error: "Invalid filter '   '. Could not be parsed." }],
  ["name = 'a' OR name = 'b'", { error: 'Invalid clause(s) in filter string: OR' }],
  ["(name = 'a')", { error: "Invalid clause(s) in filter string: (name = 'a')" }],
  ["name = 'a' AND (tags.k = 'v')", { error: "Invalid clause(s) in filter string: (tags.k = 'v')" }],
  ["NOT name = 'a'", { error: 'Invalid clause(s) in filter string: NOT' }],
  ["name = 'a'; name = 'b'", { error: "Search filter contained multiple expression \"name = 'a'; name = 'b'\". Provide AND-ed expression list." }],
  [";name = 'a'", { error: "Search filter contained multiple expression \";name = 'a'\". Provide AND-ed expression list." }],
  ["name = 'a';", { error: 'Invalid clause(s) in filter string: ;' }],
  ['name = a', { error: 'Parameter value is either not quoted or unidentified quote types used for string value a. Use either single or double quotes.' }],
  ['name = `a`', { error: 'Parameter value is either not quoted or unidentified quote types used for string value `a`. Use either single or double quotes.' }],
  ['name = 5', { error: 'Expected a quoted string value or a list of quoted string values for attributes. Got value 5' }],
  ['name = 1.5', { error: 'Expected a quoted string value or a list of quoted string values for attributes. Got value 1.5' }],
  ['name = null', { error: 'Expected a quoted string value or a list of quoted string values for attributes. Got value null' }],
  ['name = true', { error: 'Invalid clause(s) in filter string: name, =, true' }],
  ['name = ', { error: 'Invalid clause(s) in filter string: name, =' }],
  ["= 'a'", { error: "Invalid clause(s) in filter string: =, 'a'" }],
  ["name 'a'", { error: "Invalid clause(s) in filter string: name, 'a'" }],
  ["'a' = name", { error: "Invalid comparison clause. Expected 'Identifier' found ''a''" }],
  ['5 = name', { error: "Invalid comparison clause. Expected 'Identifier' found '5'" }],
  ["name = 'a' = 'b'", { error: "Invalid comparison clause. Expected 'Identifier' found 'name = 'a''" }],
  ["name = 'a' b", { error: "Invalid clause(s) in filter string: name = 'a' b" }],
  ["tags.a b = 'x'", { error: 'Invalid clause(s) in filter string: tags.a' }],
  ["name = 'a', name = 'b'", { error: "Invalid clause(s) in filter string: name = 'a', name = 'b'" }],
  ["name = 'a' -- comment", { error: 'Invalid clause(s) in filter string: -- comment' }],
  ["name = 'a' /* c */", { error: 'Invalid clause(s) in filter string: /* c */' }],
  ["foo.a = 'x'", { error: "Invalid entity type 'foo'. Valid entity types are ('attribute', 'tag', 'tags')" }],
  ["TAGS.a = 'x'", { error: "Invalid entity type 'TAGS'. Valid entity types are ('attribute', 'tag', 'tags')" }],
  ["`tags`.a = 'x'", { error: "Invalid entity type '`tags`'. Valid entity types are ('attribute', 'tag', 'tags')" }],
  ["tags . a = 'x'", { error: "Invalid entity type 'tags '. Valid entity types are ('attribute', 'tag', 'tags')" }],
  ["run_id = 'x'", { error: "Invalid attribute key 'run_id' specified. Valid keys are '{'name'}'" }],
  ["NAME = 'x'", { error: "Invalid attribute key 'NAME' specified. Valid keys are '{'name'}'" }],
  ["`name` = 'x'", { error: "Invalid attribute key '`name`' specified. Valid keys are '{'name'}'" }],
  ["\"name\" = 'x'", { error: "Invalid attribute key '\"name\"' specified. Valid keys are '{'name'}'" }],
  ["attribute.`name` = 'x'", { error: "Invalid attribute key '`name`' specified. Valid keys are '{'name'}'" }],
  ['version = 1', { error: 'Invalid clause(s) in filter string: version, =, 1' }],
  ["name > 'a'", { error: 'Invalid comparator for attribute: >' }],
  ["name == 'a'", { error: 'Invalid comparator for attribute: ==' }],
  ["name <> 'a'", { error: 'Invalid comparator for attribute: <>' }],
  ["name NOT LIKE 'a'", { error: 'Invalid comparator for attribute: NOT LIKE' }],
  ["name RLIKE 'a'", { error: 'Invalid comparator for attribute: RLIKE' }],
  ["name REGEXP 'a'", { error: 'Invalid comparator for attribute: REGEXP' }],
  ["name IN 'a'", { error: "Invalid clause(s) in filter string: name, IN, 'a'" }],
  ["tags.a > 'x'", { error: 'Invalid comparator for tag: >' }],
  ["tags.a IN ('x')", { error: "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')" }],
  ["tags.a NOT IN ('x')", { error: "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('x')" }],
  ['tags.a = 5', { error: "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5" }],
  ['tags.a = x', { error: 'Parameter value is either not quoted or unidentified quote types used for string value x. Use either single or double quotes.' }],
  ["tags.a-b = 'x'", { error: "Invalid comparison clause. Expected 'Identifier' found 'tags.a-b'" }],
  ["tags.123 = 'x'", { error: 'Invalid clause(s) in filter string: tags' }],
  ['name IN ()', { error: 'While parsing a list in the query, expected a non-empty list of string values, but got empty list' }],
  ['name IN (,)', { error: 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.' }],
  ['name IN (1, 2)', { error: 'While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1, 2)' }],
  ["name IN ('a', 1)", { error: "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: ('a', 1)" }],
  ["name IN ('a',,'b')", { error: 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.' }],
  ['name IN (None)', { error: 'While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (None,)' }],
  ["name IN (b'a')", { error: "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (b'a',)" }],
  ["name IN (['a'])", { error: "While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (['a'],)" }],
  ["name = 'a' || 'b'", { error: "Expected a quoted string value or a list of quoted string values for attributes. Got value 'a' || 'b'" }],
  ["name = lower('a')", { error: "Expected a quoted string value or a list of quoted string values for attributes. Got value lower('a')" }],
  ["name = 'unterminated", { error: "Invalid clause(s) in filter string: name, =, ', unterminated" }],
];

// search-model-versions `filter`.
const MLFLOW_MV_FILTERS: Array<[string, Outcome<Comparison[]>]> = [
  ["name = 'a'", { ok: [A('name', '=', 'a')] }],
  ["run_id = 'abc'", { ok: [A('run_id', '=', 'abc')] }],
  ["attribute.run_id = 'abc'", { ok: [A('run_id', '=', 'abc')] }],
  ["run_id IN ('abc', 'DEF')", { ok: [A('run_id', 'IN', ['abc', 'DEF'])] }],
  ["run_id NOT IN ('abc')", { ok: [A('run_id', 'NOT IN', ['abc'])] }],
  ["name IN ('a')", { ok: [A('name', 'IN', ['a'])] }],
  ["source_path = 's3://bucket/key'", { ok: [A('source_path', '=', 's3://bucket/key')] }],
  ["source_path LIKE 's3://%'", { ok: [A('source_path', 'LIKE', 's3://%')] }],
  ["source_path ILIKE '%KEY'", { ok: [A('source_path', 'ILIKE', '%KEY')] }],
  ["attribute.source_path != 'x'", { ok: [A('source_path', '!=', 'x')] }],
  ['version_number = 3', { ok: [A('version_number', '=', 3)] }],
  ['version_number >= 3', { ok: [A('version_number', '>=', 3)] }],
  ['version_number < -1', { ok: [A('version_number', '<', -1)] }],
  ['version_number != 0', { ok: [A('version_number', '!=', 0)] }],
  ["version_number = '7'", { ok: [A('version_number', '=', 7)] }],
  ["version_number <= ' 7 '", { ok: [A('version_number', '<=', 7)] }],
  ['version_number = 007', { ok: [A('version_number', '=', 7)] }],
  ['attribute.version_number > 1', { ok: [A('version_number', '>', 1)] }],
  ["tags.k = 'v'", { ok: [T('k', '=', 'v')] }],
  ["tags.`mlflow.prompt.is_prompt` != 'true'", { ok: [T('mlflow.prompt.is_prompt', '!=', 'true')] }],
  ["name = 'a' AND version_number > 1 AND run_id IN ('r1', 'r2') AND source_path LIKE '%x' AND tags.t = 'v'", { ok: [A('name', '=', 'a'), A('version_number', '>', 1), A('run_id', 'IN', ['r1', 'r2']), A('source_path', 'LIKE', '%x'), T('t', '=', 'v')] }],
  ["name IN ('\\x41', 'caf\\u00e9', \"it's\")", { ok: [A('name', 'IN', ['A', 'café', "it's"])] }],
  ["run_id IN ('a' 'b')", { ok: [A('run_id', 'IN', ['ab'])] }],
  ['version_number = 1.5', { error: "Invalid value for numeric attribute 'version_number': 1.5" }],
  ['version_number = 1e3', { error: "Invalid value for numeric attribute 'version_number': 1000.0" }],
  ['version_number = 1.', { error: "Invalid value for numeric attribute 'version_number': 1.0" }],
  ["version_number = 'x'", { error: "Invalid value for numeric attribute 'version_number': 'x'" }],
  ["version_number = '1.0'", { error: "Invalid value for numeric attribute 'version_number': '1.0'" }],
  ["version_number LIKE '1'", { error: 'Invalid comparator for attribute version_number: LIKE' }],
  ['version_number IN (1, 2)', { error: "Only ['name', 'run_id'] attributes support comparison with a list of quoted string values." }],
  ["version_number = ('1')", { error: "Only ['name', 'run_id'] attributes support comparison with a list of quoted string values." }],
  ["source_path IN ('a')", { error: "Only ['name', 'run_id'] attributes support comparison with a list of quoted string values." }],
  ['name = 5', { error: "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' attributes support comparison with numeric values." }],
  ['run_id = 5', { error: "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' attributes support comparison with numeric values." }],
  ['creation_timestamp > 5', { error: "Invalid attribute key 'creation_timestamp' specified. Valid keys are '{'name', 'version_number', 'run_id', 'source_path'}'" }],
  ['last_updated_timestamp > 5', { error: "Invalid attribute key 'last_updated_timestamp' specified. Valid keys are '{'name', 'version_number', 'run_id', 'source_path'}'" }],
  ['version > 1', { error: 'Invalid clause(s) in filter string: version, >, 1' }],
  ["source = 'x'", { error: "Invalid clause(s) in filter string: source, =, 'x'" }],
  ["status = 'READY'", { error: "Invalid attribute key 'status' specified. Valid keys are '{'name', 'version_number', 'run_id', 'source_path'}'" }],
  ["run_id > 'a'", { error: 'Invalid comparator for attribute: >' }],
  ["source_path NOT IN ('a')", { error: "Only ['name', 'run_id'] attributes support comparison with a list of quoted string values." }],
  ["name > 'a'", { error: 'Invalid comparator for attribute: >' }],
  ['version_number == 1', { error: 'Invalid comparator for attribute version_number: ==' }],
  ["tags.k < 'v'", { error: 'Invalid comparator for tag: <' }],
  ['version_number = 0x1F', { error: 'Invalid clause(s) in filter string: version_number, =, 0x1F' }],
  ["foo.bar = 'x'", { error: "Invalid entity type 'foo'. Valid entity types are ('attribute', 'tag', 'tags')" }],
];

// search-registered-models `order_by` (a repeated field: one list per request).
const MLFLOW_RM_ORDER_BY: Array<[string[], Outcome<OrderTerm[]>]> = [
  [['name'], { ok: [{ column: 'name', asc: true }] }],
  [['name DESC'], { ok: [{ column: 'name', asc: false }] }],
  [['name asc'], { ok: [{ column: 'name', asc: true }] }],
  [['`name` desc'], { ok: [{ column: 'name', asc: false }] }],
  [['timestamp'], { ok: [{ column: 'last_updated_time', asc: true }, { column: 'name', asc: true }] }],
  [['timestamp DESC'], { ok: [{ column: 'last_updated_time', asc: false }, { column: 'name', asc: true }] }],
  [['last_updated_timestamp'], { ok: [{ column: 'last_updated_time', asc: true }, { column: 'name', asc: true }] }],
  [['`last_updated_timestamp` ASC'], { ok: [{ column: 'last_updated_time', asc: true }, { column: 'name', asc: true }] }],
  [["name\tDESC"], { ok: [{ column: 'name', asc: false }] }],
  [['timestamp', 'name desc'], { ok: [{ column: 'last_updated_time', asc: true }, { column: 'name', asc: false }] }],
  [[], { ok: [{ column: 'name', asc: true }] }],
  [['last_updated_timestamp desc', 'name'], { ok: [{ column: 'last_updated_time', asc: false }, { column: 'name', asc: true }] }],
  [['NAME'], { error: "Invalid order by key 'NAME' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['creation_timestamp'], { error: "Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['attribute.name'], { error: "Invalid order by key 'attribute.name' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['`name`'], { error: "Invalid order by key '`name`' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['"name"'], { error: "Invalid order by key '\"name\"' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['version_number'], { error: "Invalid order by key 'version_number' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['tags.x'], { error: "Invalid order by key 'tags.x' specified. Valid keys are '{'name', 'timestamp'}'" }],
  [['TIMESTAMP DESC'], { error: "Invalid order_by clause 'TIMESTAMP DESC'. Could not be parsed." }],
  [['Timestamp'], { error: "Invalid order_by clause 'Timestamp'. Could not be parsed." }],
  [['name desc desc'], { error: "Invalid order_by clause 'name desc desc'. Could not be parsed." }],
  [['name foo'], { error: "Invalid ordering key in order_by clause 'name foo'." }],
  [['name, timestamp'], { error: "Invalid order_by clause 'name, timestamp'. Could not be parsed." }],
  [[''], { error: "Invalid order_by clause ''. Could not be parsed." }],
  [[' '], { error: "Invalid order_by clause ' '. Could not be parsed." }],
  [[' name'], { error: "Invalid order_by clause ' name'. Could not be parsed." }],
  [['name;'], { error: "Invalid order_by clause 'name;'. Could not be parsed." }],
  [['name desc nulls first'], { error: "Invalid order_by clause 'name desc nulls first'. Could not be parsed." }],
  [["'name'"], { error: "Invalid order_by clause ''name''. Could not be parsed." }],
];

// search-model-versions `order_by`.
const MLFLOW_MV_ORDER_BY: Array<[string[], Outcome<OrderTerm[]>]> = [
  [['name'], { ok: [{ column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['name DESC'], { ok: [{ column: 'name', asc: false }, { column: 'version', asc: false }] }],
  [['version_number'], { ok: [{ column: 'version', asc: true }, { column: 'name', asc: true }] }],
  [['version_number desc'], { ok: [{ column: 'version', asc: false }, { column: 'name', asc: true }] }],
  [['creation_timestamp'], { ok: [{ column: 'creation_time', asc: true }, { column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['last_updated_timestamp DESC'], { ok: [{ column: 'last_updated_time', asc: false }, { column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['attribute.name'], { ok: [{ column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['attribute.`version_number` desc'], { ok: [{ column: 'version', asc: false }, { column: 'name', asc: true }] }],
  [['`name` desc'], { ok: [{ column: 'name', asc: false }, { column: 'version', asc: false }] }],
  [['`name`'], { ok: [{ column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['"name"'], { ok: [{ column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['tags.name DESC'], { ok: [{ column: 'name', asc: false }, { column: 'version', asc: false }] }],
  [[], { ok: [{ column: 'last_updated_time', asc: false }, { column: 'name', asc: true }, { column: 'version', asc: false }] }],
  [['version_number ASC', 'name DESC'], { ok: [{ column: 'version', asc: true }, { column: 'name', asc: false }] }],
  [['creation_timestamp', 'version_number'], { ok: [{ column: 'creation_time', asc: true }, { column: 'version', asc: true }, { column: 'name', asc: true }] }],
  [['timestamp'], { error: "Invalid attribute key 'timestamp' specified. Valid keys are '{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'" }],
  [['NAME'], { error: "Invalid attribute key 'NAME' specified. Valid keys are '{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'" }],
  [['attr.name'], { error: "Invalid entity type 'attr'. Valid entity types are ('attribute', 'tag', 'tags')" }],
  [['tags.x'], { error: "Invalid order by key 'x' specified. Valid keys are {'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}" }],
  [['attribute.foo'], { error: "Invalid attribute key 'foo' specified. Valid keys are '{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}'" }],
  [['name foo'], { error: "Invalid ordering key in order_by clause 'name foo'." }],
  [['name, version_number'], { error: "Invalid order_by clause 'name, version_number'. Could not be parsed." }],
  [[''], { error: "Invalid order_by clause ''. Could not be parsed." }],
  [['name;x'], { error: "Invalid order_by clause 'name;x'. Could not be parsed." }],
];

// `page_token` of both searches.
const MLFLOW_PAGE_TOKENS: Array<[string, Outcome<number>]> = [
  ['eyJvZmZzZXQiOiAxfQ==', { ok: 1 }],
  ['eyJvZmZzZXQiOiA4fQ==', { ok: 8 }],
  ['eyJvZmZzZXQiOiAxMDB9', { ok: 100 }],
  ['eyJvZmZzZXQiOjV9', { ok: 5 }],
  ['eyJvZmZzZXQiOiAiMTIifQ==', { ok: 12 }],
  ['eyJvZmZzZXQiOiAxLjl9', { ok: 1 }],
  ['eyJvZmZzZXQiOiB0cnVlfQ==', { ok: 1 }],
  ['IHsib2Zmc2V0IjogM30g', { ok: 3 }],
  ["eyJvZmZzZXQiOiAxfQ==\n", { ok: 1 }],
  ['eyJvZm Zz ZXQiOiAxfQ==', { ok: 1 }],
  ['77u/eyJvZmZzZXQiOiAyfQ==', { ok: 2 }],
  ['abc', { error: 'Invalid page token, could not base64-decode' }],
  ['a', { error: 'Invalid page token, could not base64-decode' }],
  ['eyJvZmZzZXQiOiAxfQ', { error: 'Invalid page token, could not base64-decode' }],
  ['!!!!', { error: "Invalid page token, decoded value=b''" }],
  ['YQ==', { error: "Invalid page token, decoded value=b'a'" }],
  ['bm90IGpzb24=', { error: "Invalid page token, decoded value=b'not json'" }],
  ['eyJvZmZzZXQiOiAwfQ==', { error: "Invalid page token, parsed value={'offset': 0}" }],
  ['e30=', { error: 'Invalid page token, parsed value={}' }],
  ['eyJvZmZzZXQiOiBudWxsfQ==', { error: "Invalid page token, parsed value={'offset': None}" }],
  ['eyJvZmZzZXQiOiBmYWxzZX0=', { error: "Invalid page token, parsed value={'offset': False}" }],
  ['eyJvZmZzZXQiOiAiIn0=', { error: "Invalid page token, parsed value={'offset': ''}" }],
  ['eyJvZmZzZXQiOiAieCJ9', { error: 'Invalid page token, not stringable x' }],
  ['eyJvZmZzZXQiOiAiMS41In0=', { error: 'Invalid page token, not stringable 1.5' }],
  ['eyJvZmZzZXQiOiBOYU59', { error: 'Invalid page token, not stringable nan' }],
  ['eyJhIjogIml0J3MiLCAiYiI6IFsxLCAyLjUsIG51bGxdfQ==', { error: "Invalid page token, parsed value={'a': \"it's\", 'b': [1, 2.5, None]}" }],
  ['/w==', { error: "Invalid page token, decoded value=b'\\xff'" }],
  ['eyJvZmZzZXQiOiAyfSB4', { error: "Invalid page token, decoded value=b'{\"offset\": 2} x'" }],
];

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/**
 * The deliberate differences listed at the top of search.ts: `error` is our 400 answer, `mlflow`
 * what MLflow 3.17.2 does instead.
 */
const DELIBERATE: Array<{ name: string; run: () => unknown; error: string; mlflow: string }> = [
  {
    name: 'duplicate registered-model order_by fields',
    run: () => parseRegisteredModelOrderBy(['name', 'name desc']),
    error: "`order_by` contains duplicate fields: ['name', 'name desc']",
    mlflow: 'same message, INTERNAL_ERROR (500)',
  },
  {
    name: 'timestamp and last_updated_timestamp are the same field',
    run: () => parseRegisteredModelOrderBy(['timestamp', 'last_updated_timestamp']),
    error: "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp']",
    mlflow: 'same message, INTERNAL_ERROR (500)',
  },
  {
    name: 'duplicate model-version order_by fields',
    run: () => parseModelVersionOrderBy(['version_number', 'attribute.version_number DESC']),
    error: "`order_by` contains duplicate fields: ['version_number', 'attribute.version_number DESC']",
    mlflow: 'same message, INTERNAL_ERROR (500)',
  },
  {
    name: 'tags.name sorts by name, so it duplicates name',
    run: () => parseModelVersionOrderBy(['tags.name', 'name']),
    error: "`order_by` contains duplicate fields: ['tags.name', 'name']",
    mlflow: 'same message, INTERNAL_ERROR (500)',
  },
  {
    name: 'IS NULL',
    run: () => parseRegisteredModelFilter('tags.a IS NULL'),
    error: 'Invalid comparison clause. Expected 3 tokens found 2',
    mlflow: 'ValueError: not enough values to unpack (500)',
  },
  {
    name: 'IS NOT NULL',
    run: () => parseModelVersionFilter('tags.a IS NOT NULL'),
    error: 'Invalid comparison clause. Expected 3 tokens found 2',
    mlflow: 'ValueError: not enough values to unpack (500)',
  },
  {
    name: 'a list with =',
    run: () => parseRegisteredModelFilter("name = ('a')"),
    error: "Invalid comparator '=' for a list of values. Use IN or NOT IN.",
    mlflow: 'passes the tuple to the database, which fails',
  },
  {
    name: 'a list with LIKE',
    run: () => parseModelVersionFilter("run_id LIKE ('a', 'b')"),
    error: "Invalid comparator 'LIKE' for a list of values. Use IN or NOT IN.",
    mlflow: 'passes the tuple to the database, which fails',
  },
  {
    name: 'the list check comes after every store check',
    run: () => parseModelVersionFilter("name = ('a') AND version_number LIKE '1'"),
    error: 'Invalid comparator for attribute version_number: LIKE',
    mlflow: 'the same message (the database never sees the tuple)',
  },
  {
    name: 'a bare name in a list',
    run: () => parseModelVersionFilter('run_id IN (abc)'),
    error: 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    mlflow: 'ValueError: malformed node or string (500)',
  },
  {
    name: 'an f-string in a list',
    run: () => parseRegisteredModelFilter("name IN (f'a')"),
    error: 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    mlflow: 'ValueError: malformed node or string (500)',
  },
  {
    name: 'a set in a list',
    run: () => parseRegisteredModelFilter("name IN ({'a'})"),
    error: 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    mlflow: "different type in list: ({'a'},)",
  },
  {
    name: 'a named escape in a list',
    run: () => parseRegisteredModelFilter("name IN ('\\N{BULLET}')"),
    error: 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.',
    mlflow: "accepts it as ['\u2022']",
  },
  {
    name: 'an order_by clause shlex cannot split',
    run: () => parseModelVersionOrderBy(['"na`me"']),
    error: "Invalid order_by clause '\"na`me\"'. Could not be parsed.",
    mlflow: 'ValueError: No closing quotation (500)',
  },
  {
    name: 'a version number beyond 2^53 - 1',
    run: () => parseModelVersionFilter('version_number = 99999999999999999999'),
    error: "Invalid value for numeric attribute 'version_number': 99999999999999999999",
    mlflow: 'passes the integer to the database',
  },
  {
    name: 'a non-ASCII page token',
    run: () => parsePageToken('é'),
    error: 'Invalid page token, could not base64-decode',
    mlflow: 'ValueError: string argument should contain only ASCII characters (500)',
  },
  {
    name: 'a page token that is not a JSON object',
    run: () => parsePageToken(b64('[1]')),
    error: 'Invalid page token, parsed value=[1]',
    mlflow: "AttributeError: 'list' object has no attribute 'get' (500)",
  },
  {
    name: 'a page-token offset that is a list',
    run: () => parsePageToken(b64('{"offset": [1]}')),
    error: 'Invalid page token, not stringable [1]',
    mlflow: 'TypeError: int() argument must be ... not \'list\' (500)',
  },
  {
    name: 'an infinite page-token offset',
    run: () => parsePageToken(b64('{"offset": Infinity}')),
    error: 'Invalid page token, not stringable inf',
    mlflow: 'OverflowError: cannot convert float infinity to integer (500)',
  },
  {
    name: 'a negative page-token offset',
    run: () => parsePageToken(b64('{"offset": -3}')),
    error: 'Invalid page token, offset out of range: -3',
    mlflow: 'returns -3 and passes it to the database',
  },
  {
    name: 'a negative page-token offset given as a string',
    run: () => parsePageToken(b64('{"offset": "-5"}')),
    error: 'Invalid page token, offset out of range: -5',
    mlflow: 'returns -5 and passes it to the database',
  },
  {
    name: 'a page-token offset beyond 2^53 - 1',
    run: () => parsePageToken(b64('{"offset": 99999999999999999999}')),
    error: 'Invalid page token, offset out of range: 99999999999999999999',
    mlflow: 'returns it and passes it to the database',
  },
];

describe('parseRegisteredModelFilter', () => {
  it('returns no conditions for an absent or empty filter', () => {
    expect(parseRegisteredModelFilter(undefined)).toEqual([]);
    expect(parseRegisteredModelFilter('')).toEqual([]);
  });

  it.each(MLFLOW_RM_FILTERS)('%j', (filter, expected) => {
    check(parseRegisteredModelFilter, filter, expected);
  });
});

describe('parseModelVersionFilter', () => {
  it('returns no conditions for an absent or empty filter', () => {
    expect(parseModelVersionFilter(undefined)).toEqual([]);
    expect(parseModelVersionFilter('')).toEqual([]);
  });

  it.each(MLFLOW_MV_FILTERS)('%j', (filter, expected) => {
    check(parseModelVersionFilter, filter, expected);
  });

  it('returns version numbers as numbers and everything else as strings', () => {
    const [version, name] = parseModelVersionFilter("version_number = '12' AND name = '12'");
    expect(version!.value).toBe(12);
    expect(name!.value).toBe('12');
  });
});

describe('sqlparse details', () => {
  const mv = parseModelVersionFilter;

  it('keeps string escapes verbatim but evaluates list items as Python literals', () => {
    expect(mv("name = 'a\\nb'")).toEqual([A('name', '=', 'a\\nb')]);
    expect(mv("name IN ('a\\nb', r'\\d', u'x', '''t''')")).toEqual([A('name', 'IN', ['a\nb', '\\d', 'x', 't'])]);
  });

  it('reads identifiers quoted with backticks or double quotes, with dots and spaces', () => {
    expect(mv('tags.`a.b c` = "x y"')).toEqual([T('a.b c', '=', 'x y')]);
    expect(mv('tags."a.b c" = \'x\'')).toEqual([T('a.b c', '=', 'x')]);
    expect(mv("tags.`it``s` = 'x'")).toEqual([T('it``s', '=', 'x')]);
  });

  it('treats keywords and operators case-insensitively', () => {
    expect(mv("name like 'a' and run_id not in ('r') AnD tags.t iLiKe 'v'")).toEqual([
      A('name', 'LIKE', 'a'),
      A('run_id', 'NOT IN', ['r']),
      T('t', 'ILIKE', 'v'),
    ]);
  });

  it('accepts any whitespace between tokens', () => {
    expect(mv("name\n=\n'a'\r\nAND\ttags.t\u00a0=\u3000'v'")).toEqual([A('name', '=', 'a'), T('t', '=', 'v')]);
  });

  it('ignores a semicolon inside parentheses when splitting statements', () => {
    expectInvalid(() => mv("name IN ('a'; 'b')"), 'While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list.');
    expectInvalid(
      () => mv("name = 'a';\n;"),
      'Search filter contained multiple expression "name = \'a\';\\n;". Provide AND-ed expression list.',
    );
  });

  it('lexes comments and dollar-quoted literals as single tokens', () => {
    expectInvalid(() => mv("name = 'a' -- x\nAND name = 'b'"), 'Invalid comparison clause. Expected 3 tokens found 4');
    expectInvalid(() => mv('name = $$a b$$'), 'Invalid clause(s) in filter string: name, =, $$a b$$');
    expectInvalid(() => mv("/* c */ name = 'a'"), 'Invalid clause(s) in filter string: /* c */');
  });

  it("gives up like sqlparse on more than 10,000 tokens or groups nested more than 100 deep", () => {
    expect(mv(`name = 'a'${' '.repeat(9995)}`)).toEqual([A('name', '=', 'a')]);
    const long = `name = 'a'${' '.repeat(9996)}`;
    expectInvalid(() => mv(long), `Error on parsing filter '${long}'`);
    expect(mv(`name IN ${'('.repeat(100)}'a'${')'.repeat(100)}`)).toEqual([A('name', 'IN', ['a'])]);
    const deep = `name IN ${'('.repeat(101)}'a'${')'.repeat(101)}`;
    expectInvalid(() => mv(deep), `Error on parsing filter '${deep}'`);
    expectInvalid(() => parseModelVersionOrderBy([`name${' '.repeat(10000)}`]), `Error on parsing order_by clause 'name${' '.repeat(10000)}'`);
  });

  it('stays fast on large adversarial input', () => {
    const started = Date.now();
    for (const input of ['$a$ '.repeat(50000), '/* '.repeat(50000), '('.repeat(50000), "'\\''".repeat(20000)]) {
      expect(thrown(() => mv(input))).toBeInstanceOf(MlflowError);
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('isQueryingPrompts', () => {
  const P = 'tags.`mlflow.prompt.is_prompt`';
  // MLflow's SqlAlchemyStore._is_querying_prompt on the parsed filter (same answer for both searches).
  const rows: Array<[string, boolean]> = [
    ['', false],
    ["name = 'a'", false],
    [`${P} = 'true'`, true],
    [`${P} = 'TRUE'`, true],
    [`${P} = 'True'`, true],
    [`${P} != 'false'`, true],
    [`${P} != 'FALSE'`, true],
    [`${P} = 'false'`, false],
    [`${P} != 'true'`, false],
    [`${P} LIKE 'true'`, false],
    [`${P} = 'yes'`, false],
    ["tags.other = 'true'", false],
    ['tags."mlflow.prompt.is_prompt" = "true"', true],
    ["tag.`mlflow.prompt.is_prompt` = 'true'", true],
    [`${P} = 'false' AND ${P} = 'true'`, false],
    [`name = 'x' AND ${P} = 'true'`, true],
  ];

  it.each(rows)('%j -> %s', (filter, expected) => {
    expect(isQueryingPrompts(parseRegisteredModelFilter(filter))).toBe(expected);
    expect(isQueryingPrompts(parseModelVersionFilter(filter))).toBe(expected);
  });

  it('uses the prompt tag key', () => {
    expect(PROMPT_TAG_KEY).toBe('mlflow.prompt.is_prompt');
  });
});

describe('parseRegisteredModelOrderBy', () => {
  it('orders by name when order_by is absent', () => {
    expect(parseRegisteredModelOrderBy(undefined)).toEqual([{ column: 'name', asc: true }]);
  });

  it.each(MLFLOW_RM_ORDER_BY)('%j', (orderBy, expected) => {
    check(parseRegisteredModelOrderBy, orderBy, expected);
  });
});

describe('parseModelVersionOrderBy', () => {
  it('uses MLflow\'s default order when order_by is absent', () => {
    expect(parseModelVersionOrderBy(undefined)).toEqual([
      { column: 'last_updated_time', asc: false },
      { column: 'name', asc: true },
      { column: 'version', asc: false },
    ]);
  });

  it.each(MLFLOW_MV_ORDER_BY)('%j', (orderBy, expected) => {
    check(parseModelVersionOrderBy, orderBy, expected);
  });
});

describe('page tokens', () => {
  it('creates the same tokens as MLflow', () => {
    // SearchUtils.create_page_token(n).decode()
    expect(createPageToken(1)).toBe('eyJvZmZzZXQiOiAxfQ==');
    expect(createPageToken(8)).toBe('eyJvZmZzZXQiOiA4fQ==');
    expect(createPageToken(100)).toBe('eyJvZmZzZXQiOiAxMDB9');
    expect(createPageToken(1234567)).toBe('eyJvZmZzZXQiOiAxMjM0NTY3fQ==');
  });

  it('round-trips', () => {
    for (const n of [1, 2, 99, 1000, 200000, Number.MAX_SAFE_INTEGER]) expect(parsePageToken(createPageToken(n))).toBe(n);
  });

  it('refuses to create a token for an offset that is not a non-negative integer', () => {
    for (const n of [-1, 1.5, NaN, Infinity]) {
      const e = thrown(() => createPageToken(n));
      expect(e).toBeInstanceOf(MlflowError);
      expect((e as MlflowError).errorCode).toBe('INTERNAL_ERROR');
    }
  });

  it('reads an absent or empty token as offset 0', () => {
    expect(parsePageToken(undefined)).toBe(0);
    expect(parsePageToken('')).toBe(0);
  });

  it.each(MLFLOW_PAGE_TOKENS)('%j', (token, expected) => {
    check(parsePageToken, token, expected);
  });
});

describe('deliberate differences from MLflow', () => {
  it.each(DELIBERATE)('$name', ({ run, error }) => {
    expectInvalid(run, error);
  });
});
