/**
 * Passwords for the user commands: never from the command line (it is visible in `ps` and shell
 * history). From the environment variable named by --password-env, else from stdin: a terminal is
 * prompted twice without echo; a pipe gives its first line.
 */
import { CliError } from './args.js';

function readLine(prompt: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function firstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

export async function readPassword(envName: string | undefined): Promise<string> {
  if (envName !== undefined) {
    const v = process.env[envName];
    if (v === undefined || v === '') throw new CliError(`the environment variable ${envName} (--password-env) is not set`);
    return v;
  }
  if (process.stdin.isTTY) {
    const first = await readLine('Password: ');
    const again = await readLine('Repeat the password: ');
    if (first !== again) throw new CliError('the passwords do not match');
    return first;
  }
  const line = await firstLineOfStdin();
  if (line === '') throw new CliError('no password on stdin (pipe it in, or use --password-env VAR)');
  return line;
}
