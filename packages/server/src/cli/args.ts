/**
 * Argument parsing for the CLI on node:util parseArgs: each command declares its options once (type,
 * description) and gets both the parser and its `--help` text from that. A usage mistake (unknown
 * command or option, a missing or extra argument) is a UsageError: one message and exit code 2.
 */
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure the user can act on: one line without a stack trace, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help; `<value>` names the argument of a string option. */
  description: string;
  value?: string;
  multiple?: boolean;
  default?: string | boolean;
}

export interface CommandSpec {
  /** Words after `mlflow-registry`, e.g. `migrate status`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Positional arguments, e.g. `<username>`; optional ones in brackets. */
  args?: string[];
  /** More text under the usage line. */
  details?: string;
  options?: Record<string, OptionSpec>;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export function helpText(spec: CommandSpec): string {
  const options = { ...spec.options, help: HELP };
  const usage = [`mlflow-registry ${spec.name}`, ...(spec.args ?? []), '[options]'].join(' ');
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.value ?? 'value'}>` : ''}`;
    return [flag, o.description + (o.default !== undefined && o.type === 'string' ? ` (default: ${String(o.default)})` : '')] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  return [
    `Usage: ${usage}`,
    '',
    spec.summary,
    ...(spec.details ? ['', spec.details] : []),
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`),
    '',
  ].join('\n');
}

/** Parses `argv` for `spec`; `help` is true when --help was given (the caller prints helpText). */
export function parse(spec: CommandSpec, argv: string[]): Parsed & { help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; default?: string | boolean }> = {};
  for (const [name, o] of Object.entries({ ...spec.options, help: HELP })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, allowNegative: true });
  } catch (err) {
    // parseArgs' messages name the option and say what is wrong; drop its advice about '--' for positionals.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const values = parsed.values as Parsed['values'];
  if (values.help === true) return { values, positionals: parsed.positionals, help: true };
  const required = (spec.args ?? []).filter((a) => !a.startsWith('['));
  const max = (spec.args ?? []).some((a) => a.endsWith('...]') || a.endsWith('...>')) ? Infinity : (spec.args ?? []).length;
  if (parsed.positionals.length < required.length) throw new UsageError(`missing argument ${required[parsed.positionals.length]}`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
  return { values, positionals: parsed.positionals, help: false };
}

/** A string option that must be a positive integer. */
export function positiveInt(values: Parsed['values'], name: string, def: number, max = 1_000_000): number {
  const raw = values[name];
  if (raw === undefined) return def;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer between 1 and ${max}, got '${String(raw)}'`);
  }
  return Number(raw);
}
