/**
 * Every command of `mlflow-registry`: its words, arguments, options and help text (args.ts turns them
 * into the parser and `--help`), and the module that runs it, loaded only when that command runs (so
 * `serve` loads what the server needs and nothing else).
 */
import type { CommandSpec, Parsed } from './args.js';

export interface Command {
  spec: CommandSpec;
  /** Runs the command; resolves with the exit code. */
  load(): Promise<(parsed: Parsed) => Promise<number>>;
}

const PASSWORD_ENV = {
  type: 'string',
  value: 'VAR',
  description: 'read the password from this environment variable (default: from stdin; a terminal is prompted without echo)',
} as const;
const JSON_OPT = { type: 'boolean', description: 'print JSON instead of text' } as const;
const AUTH_NOTE =
  'Needs AUTH=basic and the server\'s configuration (DATABASE_URL or DATA_DIR, AUTH_DATABASE_URL, MLFLOW_AUTH_ADMIN_PASSWORD …).\n' +
  'Pending migrations of the auth tables are applied first, as the server does at start. With the embedded database, stop the\n' +
  'server first (one process at a time may open it). Running servers see the change within MLFLOW_AUTH_CACHE_TTL_SECONDS.';

const user = (name: string) => () => import('./users.js').then((m) => m.userCommands[name]!);
const token = (name: string) => () => import('./users.js').then((m) => m.tokenCommands[name]!);

export const COMMANDS: Command[] = [
  {
    spec: {
      name: 'serve',
      summary: 'Start the server (what `mlflow-registry` with no command does).',
      details:
        'Configuration comes from environment variables only (PORT, HOST, DATABASE_URL, DATA_DIR, AUTH, S3_BUCKET, …: README\n' +
        '"Configuration"). Pending database migrations are applied at start. SIGTERM or SIGINT drains in-flight requests, then exits 0.',
    },
    load: async () => {
      const { serve } = await import('./serve.js');
      return async () => {
        await serve();
        return -1; // keeps running; the signal handlers exit
      };
    },
  },
  {
    spec: {
      name: 'migrate status',
      summary: 'List the database migrations, applied and pending, without changing anything.',
      details:
        'The sets: the registry tables (unless mlflow server created them), our extension tables, and with AUTH=basic the auth\n' +
        'tables (in AUTH_DATABASE_URL when set). On DATABASE_URL, else the embedded database under DATA_DIR. Exit code 0 either way.',
      options: { json: JSON_OPT },
    },
    load: () => import('./migrate.js').then((m) => m.status),
  },
  {
    spec: {
      name: 'migrate apply',
      summary: 'Apply the pending database migrations (as the server does at start), then exit.',
      details: 'Under the same PostgreSQL advisory lock as the server, so it is safe while replicas start. Prints each migration applied.',
    },
    load: () => import('./migrate.js').then((m) => m.apply),
  },
  {
    spec: {
      name: 'doctor',
      summary: 'Check the configuration, database, artifact store and authentication settings; one line per check.',
      details:
        'Checks: the configuration (as the server reads it), DATA_DIR (writable, when used), the database (connects, migrations current),\n' +
        'the auth database (AUTH_DATABASE_URL), S3 (bucket reachable; a probe object written, read back and deleted), authentication\n' +
        '(admin password policy, the admin user). Changes nothing but the S3 probe object. Never prints a password or key.\n' +
        'Exit code 1 when a check fails.',
      options: { json: JSON_OPT },
    },
    load: () => import('./doctor.js').then((m) => m.doctor),
  },
  {
    spec: {
      name: 'user create',
      summary: 'Create a user (AUTH=basic).',
      args: ['<username>'],
      details: `The password must have at least 12 characters. ${AUTH_NOTE}`,
      options: { admin: { type: 'boolean', description: 'make the user an admin' }, 'password-env': PASSWORD_ENV },
    },
    load: user('create'),
  },
  {
    spec: { name: 'user list', summary: 'List the users (AUTH=basic).', details: AUTH_NOTE, options: { json: JSON_OPT } },
    load: user('list'),
  },
  {
    spec: {
      name: 'user set-password',
      summary: "Set a user's password (AUTH=basic).",
      args: ['<username>'],
      details: AUTH_NOTE,
      options: { 'password-env': PASSWORD_ENV },
    },
    load: user('set-password'),
  },
  {
    spec: {
      name: 'user set-admin',
      summary: 'Make a user an admin (true) or not (false) (AUTH=basic).',
      args: ['<username>', '<true|false>'],
      details: AUTH_NOTE,
    },
    load: user('set-admin'),
  },
  {
    spec: {
      name: 'user delete',
      summary: 'Delete a user with their grants and access tokens (AUTH=basic).',
      args: ['<username>'],
      details: AUTH_NOTE,
    },
    load: user('delete'),
  },
  {
    spec: {
      name: 'token create',
      summary: 'Create a personal access token for a user and print it (shown once) (AUTH=basic).',
      args: ['<username>'],
      details: `Clients send it as MLFLOW_TRACKING_TOKEN. ${AUTH_NOTE}`,
      options: {
        name: { type: 'string', value: 'name', description: 'what the token is for (required)' },
        'expires-in-days': { type: 'string', value: 'days', description: 'lifetime, 1 to 365 days', default: '30' },
        json: JSON_OPT,
      },
    },
    load: token('create'),
  },
  {
    spec: {
      name: 'token list',
      summary: "List a user's access tokens (never the tokens themselves) (AUTH=basic).",
      args: ['<username>'],
      details: AUTH_NOTE,
      options: { json: JSON_OPT },
    },
    load: token('list'),
  },
  {
    spec: { name: 'token revoke', summary: 'Revoke an access token by its id (AUTH=basic).', args: ['<id>'], details: AUTH_NOTE },
    load: token('revoke'),
  },
  {
    spec: {
      name: 'copy',
      summary: 'Copy registered models, versions, tags, aliases, stages, descriptions and artifacts from another MLflow registry into this one.',
      details:
        'Over REST with @mlflow-registry/client, from any MLflow-compatible registry (e.g. `mlflow server`). Resumable and idempotent:\n' +
        're-running skips what is there and completes what is partial. Each copied version carries the tag\n' +
        'mlflow_registry.copied_from = "<source model>/<source version>", which identifies it on later runs.\n' +
        'Artifacts behind mlflow-artifacts: URIs (the source\'s artifact proxy) are streamed into the target\'s artifact store at the same\n' +
        'path; other sources (s3://, gs://, runs:/ of another server …) are copied as references.\n' +
        'Credentials, as MLflow\'s client reads them, for each side:\n' +
        '  source: SOURCE_MLFLOW_TRACKING_USERNAME + SOURCE_MLFLOW_TRACKING_PASSWORD, or SOURCE_MLFLOW_TRACKING_TOKEN\n' +
        '  target: TARGET_MLFLOW_TRACKING_USERNAME + TARGET_MLFLOW_TRACKING_PASSWORD, or TARGET_MLFLOW_TRACKING_TOKEN\n' +
        '          (else MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN)\n' +
        'A progress line on a terminal, one line per model otherwise. Exit code 1 when anything could not be copied.',
      options: {
        from: { type: 'string', value: 'url', description: 'source server (default: SOURCE_MLFLOW_TRACKING_URI)' },
        to: { type: 'string', value: 'url', description: 'target server (default: TARGET_MLFLOW_TRACKING_URI, else MLFLOW_TRACKING_URI)' },
        filter: { type: 'string', value: 'filter', description: "copy only the source models matching this search filter, e.g. \"name LIKE 'iris%'\"" },
        concurrency: { type: 'string', value: 'n', description: 'models copied at once', default: '4' },
        artifacts: { type: 'boolean', description: 'copy artifact bytes (--no-artifacts: keep every source as a reference)', default: true },
      },
    },
    load: () => import('./copy/command.js').then((m) => m.copy),
  },
];
