/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), for the metrics
 * tests: any line it does not understand is an error, not skipped. Besides the syntax it checks what
 * Prometheus' own parser rejects or what would make a scrape wrong: a TYPE after the family's samples
 * or given twice, a sample name that does not belong to its family's type (e.g. `_bucket` outside a
 * histogram), a family split into two groups, a series given twice, histograms whose buckets are not
 * cumulative or lack `le="+Inf"` equal to `_count`, and label values with bad escapes.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestampMs?: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export class PromParseError extends Error {}

function parseValue(raw: string, line: number): number {
  // As Prometheus reads values (Go's strconv.ParseFloat): NaN and Inf in any case (prom-client writes `Nan`).
  if (/^nan$/i.test(raw)) return NaN;
  if (/^\+?inf(inity)?$/i.test(raw)) return Infinity;
  if (/^-inf(inity)?$/i.test(raw)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new PromParseError(`line ${line}: bad value '${raw}'`);
  return Number(raw);
}

function unescapeHelp(s: string): string {
  return s.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Parses `{a="x",b="y"}` starting at `s[i] === '{'`; returns the labels and the index after `}`. */
function parseLabels(s: string, i: number, line: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++;
  for (;;) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === '}') return [labels, i + 1];
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(s.slice(i));
    if (!m) throw new PromParseError(`line ${line}: bad label name at ${i}`);
    const name = m[0];
    i += name.length;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '=') throw new PromParseError(`line ${line}: '=' expected after label ${name}`);
    i++;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '"') throw new PromParseError(`line ${line}: '"' expected for label ${name}`);
    i++;
    let value = '';
    for (;;) {
      const ch = s[i];
      if (ch === undefined) throw new PromParseError(`line ${line}: unterminated value of label ${name}`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new PromParseError(`line ${line}: bad escape \\${next ?? ''} in label ${name}`);
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    i++;
    if (name in labels) throw new PromParseError(`line ${line}: label ${name} given twice`);
    if (name.startsWith('__')) throw new PromParseError(`line ${line}: reserved label name ${name}`);
    labels[name] = value;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] === '}') return [labels, i + 1];
    throw new PromParseError(`line ${line}: ',' or '}' expected after label ${name}`);
  }
}

/** The family a sample name belongs to, given its type. */
function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sampleName);
  if (direct && direct.type !== 'histogram' && direct.type !== 'summary') return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const f = families.get(sampleName.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  if (direct?.type === 'summary') return direct; // quantile samples
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new PromParseError('the exposition must end with a line feed');
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!NAME.test(name!)) throw new PromParseError(`line ${line}: bad metric name '${name}'`);
      let f = families.get(name!);
      if (f && finished.has(name!)) throw new PromParseError(`line ${line}: family ${name} continues after another family`);
      if (!f) {
        f = { name: name!, type: 'untyped', samples: [] };
        families.set(name!, f);
      }
      if (current && current !== f) finished.add(current.name);
      current = f;
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new PromParseError(`line ${line}: second HELP for ${name}`);
        f.help = unescapeHelp(rest);
      } else {
        if (!TYPES.has(rest.trim())) throw new PromParseError(`line ${line}: bad type '${rest}' for ${name}`);
        if (f.samples.length > 0) throw new PromParseError(`line ${line}: TYPE for ${name} after its samples`);
        if ((f as Family & { typed?: boolean }).typed) throw new PromParseError(`line ${line}: second TYPE for ${name}`);
        (f as Family & { typed?: boolean }).typed = true;
        f.type = rest.trim() as MetricType;
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nm) throw new PromParseError(`line ${line}: bad sample line '${raw}'`);
    const name = nm[0];
    let i = name.length;
    let labels: Record<string, string> = {};
    if (raw[i] === '{') [labels, i] = parseLabels(raw, i, line);
    const rest = raw.slice(i);
    const vm = /^[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$/.exec(rest);
    if (!vm) throw new PromParseError(`line ${line}: value expected in '${raw}'`);
    const value = parseValue(vm[1]!, line);
    let f = familyOf(name, families);
    if (!f) {
      if (families.has(name)) throw new PromParseError(`line ${line}: sample ${name} does not fit its family's type`);
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    if (finished.has(f.name)) throw new PromParseError(`line ${line}: family ${f.name} continues after another family`);
    if (current && current !== f) finished.add(current.name);
    current = f;
    if (name.endsWith('_bucket') && f.type === 'histogram' && labels.le === undefined) throw new PromParseError(`line ${line}: bucket without le`);
    if (f.type === 'summary' && name === f.name && labels.quantile === undefined) throw new PromParseError(`line ${line}: summary sample without quantile`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new PromParseError(`line ${line}: series ${key} given twice`);
    seen.add(key);
    f.samples.push({ name, labels, value, ...(vm[2] ? { timestampMs: Number(vm[2]) } : {}) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Each series of a histogram: cumulative buckets ending in le="+Inf", equal to _count, and a _sum. */
function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const e = series.get(key) ?? { buckets: [] };
    series.set(key, e);
    if (s.name === `${f.name}_bucket`) e.buckets.push([parseValue(le!, 0), s.value]);
    else if (s.name === `${f.name}_count`) e.count = s.value;
    else if (s.name === `${f.name}_sum`) e.sum = s.value;
  }
  for (const [key, e] of series) {
    const where = `${f.name}${key}`;
    if (e.count === undefined || e.sum === undefined) throw new PromParseError(`${where}: histogram without _count or _sum`);
    const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new PromParseError(`${where}: no le="+Inf" bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]![1] < sorted[i - 1]![1]) throw new PromParseError(`${where}: buckets not cumulative`);
    if (sorted.at(-1)![1] !== e.count) throw new PromParseError(`${where}: le="+Inf" bucket differs from _count`);
  }
}

/** The value of the one sample of `family` named `name` (default: the family's) whose labels include `labels`. */
export function sampleValue(families: Map<string, Family>, family: string, labels: Record<string, string> = {}, name = family): number | undefined {
  const matches = (families.get(family)?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length > 1) throw new Error(`${name}${JSON.stringify(labels)} matches ${matches.length} series`);
  return matches[0]?.value;
}
