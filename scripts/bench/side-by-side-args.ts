/**
 * The options shared by the before/after benchmarks (auth.ts, write-path.ts, read-cache.ts): `--before <rev>`
 * (the snapshot compared with the working tree), `--rounds`, `--seconds`, `--connections`, and the admin URL
 * of the PostgreSQL server they create their databases on (BENCH_DATABASE_URL).
 */

/** The value of `--<name>` on the command line, else `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

export function sideBySideArgs(defaultRounds: number) {
  return {
    before: arg('before', 'HEAD'),
    rounds: Number(arg('rounds', String(defaultRounds))),
    seconds: Number(arg('seconds', '8')),
    connections: Number(arg('connections', '32')),
    adminUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres',
  };
}
