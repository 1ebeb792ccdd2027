/**
 * `mlflow-registry [command] [options]`: finds the command (one or two words), parses its options and
 * runs it. No command starts the server. Exit codes: 0 success, 1 failure, 2 usage error (unknown
 * command or option, missing argument), each with one message on stderr.
 */
import fs from 'node:fs';
import { CliError, helpText, parse, UsageError } from './args.js';
import { COMMANDS, type Command } from './specs.js';

const write = (s: string) => process.stdout.write(s);

function version(): string {
  const pkg = new URL('../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
}

function listing(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 2;
  return commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`).join('\n');
}

function mainHelp(): string {
  return [
    'Usage: mlflow-registry [command] [options]',
    '',
    'The MLflow Model Registry server and its administration. Without a command, starts the server (as `serve`).',
    '',
    'Commands:',
    listing(COMMANDS),
    '',
    'Options:',
    '  -h, --help     show this help (`mlflow-registry <command> --help` for a command)',
    '  -v, --version  print the version',
    '',
  ].join('\n');
}

function groupHelp(group: string, commands: Command[]): string {
  return [`Usage: mlflow-registry ${group} <command> [options]`, '', 'Commands:', listing(commands), ''].join('\n');
}

/** The command `argv` names and the arguments after its words. */
function find(argv: string[]): { command: Command; rest: string[] } | { group: string; rest: string[] } | undefined {
  const [first, second] = argv;
  const two = COMMANDS.find((c) => c.spec.name === `${first} ${second}`);
  if (two) return { command: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.spec.name === first);
  if (one) return { command: one, rest: argv.slice(1) };
  if (COMMANDS.some((c) => c.spec.name.startsWith(`${first} `))) return { group: first!, rest: argv.slice(1) };
  return undefined;
}

async function dispatch(argv: string[]): Promise<number> {
  if (argv.length === 0) argv = ['serve'];
  if (argv[0] === '-h' || argv[0] === '--help' || argv[0] === 'help') {
    write(mainHelp());
    return 0;
  }
  if (argv[0] === '-v' || argv[0] === '--version') {
    write(`${version()}\n`);
    return 0;
  }
  const found = find(argv);
  if (!found) {
    throw new UsageError(argv[0]!.startsWith('-') ? `unknown option '${argv[0]}'` : `unknown command '${argv[0]}'`);
  }
  if ('group' in found) {
    const members = COMMANDS.filter((c) => c.spec.name.startsWith(`${found.group} `));
    const next = found.rest[0];
    const names = members.map((c) => c.spec.name.split(' ')[1]).join(', ');
    if (next === '-h' || next === '--help') {
      write(groupHelp(found.group, members));
      return 0;
    }
    if (next === undefined) throw new UsageError(`missing command after '${found.group}' (one of: ${names})`);
    throw new UsageError(`unknown command '${found.group} ${next}' (one of: ${names})`);
  }
  const parsed = parse(found.command.spec, found.rest);
  if (parsed.help) {
    write(helpText(found.command.spec));
    return 0;
  }
  const run = await found.command.load();
  return run(parsed);
}

/** Runs the CLI and exits with its code (a running server keeps the process alive instead). */
export async function runCli(argv: string[]): Promise<void> {
  let code: number;
  try {
    code = await dispatch(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`mlflow-registry: ${err.message}\nRun 'mlflow-registry --help' for usage.\n`);
      code = 2;
    } else if (err instanceof CliError) {
      process.stderr.write(`mlflow-registry: ${err.message}\n`);
      code = 1;
    } else {
      process.stderr.write(`mlflow-registry: ${(err as Error)?.stack ?? String(err)}\n`);
      code = 1;
    }
  }
  if (code >= 0) {
    // Let stdout drain (a pipe may still hold output) before exiting.
    process.exitCode = code;
    process.stdout.write('', () => process.exit(code));
  }
}
