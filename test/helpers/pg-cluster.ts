/**
 * A private, throwaway PostgreSQL cluster for fault tests that stop, restart or kill PostgreSQL (the
 * shared server of TEST_DATABASE_URL serves other test files running in parallel and must never be
 * touched that way). Its data directory lives under the run's scratch directory (os.tmpdir(), removed
 * by the run's teardown too), on a free loopback port, with a password (so tests can check it never
 * leaks). initdb and postgres refuse to run as root: as root, they run as the `postgres` user.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the PostgreSQL binaries are: PG_BIN_DIR, else PostgreSQL 15's Debian location, else the PATH. */
export function pgBinDir(): string | undefined {
  const candidates = [process.env.PG_BIN_DIR, '/usr/lib/postgresql/15/bin'];
  for (const dir of candidates) if (dir && fs.existsSync(path.join(dir, 'pg_ctl')) && fs.existsSync(path.join(dir, 'initdb'))) return dir;
  const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
  const found = which.status === 0 ? path.dirname(which.stdout.trim()) : undefined;
  return found && fs.existsSync(path.join(found, 'initdb')) ? found : undefined;
}

/**
 * Whether a suite needing a private cluster should be skipped: only when the binaries are missing and
 * this is not CI (in CI a missing PostgreSQL must fail the run, not hide the suite).
 */
export function skipWithoutPostgres(): boolean {
  return pgBinDir() === undefined && process.env.CI !== 'true';
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export type StopMode = 'smart' | 'fast' | 'immediate';

export class PgCluster {
  readonly password = randomBytes(9).toString('hex');
  private running = false;

  private constructor(
    private readonly bin: string,
    /** The scratch directory (owned by the cluster's user); the data directory is `dir/data`. */
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string | undefined,
  ) {}

  /** Creates (initdb) a cluster on a free port; call start(). Throws when the binaries are missing. */
  static async create(): Promise<PgCluster> {
    const bin = pgBinDir();
    if (!bin) throw new Error('PostgreSQL binaries not found (set PG_BIN_DIR): the fault suite needs initdb and pg_ctl');
    const asUser = process.getuid?.() === 0 ? 'postgres' : undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-cluster-'));
    if (asUser) {
      // The cluster's user must reach its directory: make the directories above it that are ours
      // traversable (not readable). Scratch directories nest (CI's, then the run's), each made 0700.
      for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
        const st = fs.statSync(d);
        if (st.uid !== process.getuid!()) break;
        if ((st.mode & 0o001) === 0) fs.chmodSync(d, (st.mode & 0o7777) | 0o011);
      }
      const uid = Number(execFileSync('id', ['-u', asUser], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', asUser], { encoding: 'utf8' }).trim());
      fs.chownSync(dir, uid, gid);
    }
    const cluster = new PgCluster(bin, dir, await freePort(), asUser);
    const pwfile = path.join(dir, 'pwfile');
    fs.writeFileSync(pwfile, cluster.password + '\n', { mode: 0o644 });
    await cluster.run('initdb', [
      '-D',
      cluster.dataDir,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    fs.rmSync(pwfile);
    // Fault tests crash and restart the server, never the machine: fsync would only cost time.
    fs.appendFileSync(
      path.join(cluster.dataDir, 'postgresql.conf'),
      [
        `port = ${cluster.port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'full_page_writes = off',
        'shared_buffers = 32MB',
        'max_connections = 100',
        'log_min_messages = warning',
        '',
      ].join('\n'),
    );
    return cluster;
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** The superuser URL of database `db`. */
  url(db = 'postgres'): string {
    return `postgres://postgres:${this.password}@127.0.0.1:${this.port}/${db}`;
  }

  /** Runs a PostgreSQL tool as the cluster's user, without blocking the event loop (load keeps running meanwhile). */
  private run(tool: string, args: string[], timeoutMs = 90_000): Promise<string> {
    const exe = path.join(this.bin, tool);
    const [cmd, argv] = this.asUser ? ['runuser', ['-u', this.asUser, '--', exe, ...args]] : [exe, args];
    return new Promise((resolve, reject) => {
      execFile(
        cmd,
        argv,
        { cwd: this.dir, encoding: 'utf8', timeout: timeoutMs, env: { PATH: process.env.PATH ?? '', LANG: 'C', TZ: 'UTC' } },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`${tool} ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr || stdout}${this.logTail()}`));
          else resolve(stdout);
        },
      );
    });
  }

  private logTail(): string {
    try {
      return `\n--- server log ---\n${fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8').split('\n').slice(-20).join('\n')}`;
    } catch {
      return '';
    }
  }

  /** Starts PostgreSQL and returns once it accepts connections (pg_ctl -w). */
  async start(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', 'start']);
    this.running = true;
  }

  /** Stops PostgreSQL: fast (sessions terminated, clean shutdown), immediate (as a crash) or smart. */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    await this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
    this.running = false;
  }

  async restart(mode: StopMode = 'fast'): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** Whether PostgreSQL accepts connections now (pg_isready). */
  isReady(): boolean {
    return spawnSync(path.join(this.bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port), '-t', '1'], { timeout: 5000 }).status === 0;
  }

  /** Runs `fn` with a fresh superuser connection to database `db`. */
  async withClient<T>(fn: (c: pg.Client) => Promise<T>, db = 'postgres'): Promise<T> {
    const c = new pg.Client({ connectionString: this.url(db) });
    c.on('error', () => {});
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => {});
    }
  }

  /**
   * Terminates the backends of pg_stat_activity rows matching `filter` (SQL over pg_stat_activity's
   * columns, e.g. `datname = 'registry'`), other than the connection doing it; returns how many.
   */
  terminateBackends(filter: string): Promise<number> {
    return this.withClient(async (c) => {
      const { rows } = await c.query<{ n: number }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND (${filter})`,
      );
      return rows[0]!.n;
    });
  }

  /** Stops PostgreSQL if it runs (immediately: nothing is kept) and removes the directory. */
  async cleanup(): Promise<void> {
    if (this.running || fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) {
      try {
        await this.stop('immediate');
      } catch {
        /* not running after all */
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
