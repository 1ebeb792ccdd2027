/**
 * `user …` and `token …`: user and access-token administration on the auth tables (AUTH=basic), through
 * the server's own stores (auth/store.ts, auth/tokens.ts), so the CLI applies exactly the API's rules
 * (MLflow's password policy, token lifetimes and limits) and messages.
 */
import { MlflowError } from '../errors.js';
import { AuthStore, validatePassword, type AuthUser } from '../auth/store.js';
import { announceAuthChanges } from '../auth/changes.js';
import { TokenStore, type AccessToken } from '../auth/tokens.js';
import { CliError, positiveInt, UsageError, type Parsed } from './args.js';
import { config, migrationLogger, openMigrated, safeMessage } from './database.js';
import { readPassword } from './secrets.js';

type Run = (parsed: Parsed) => Promise<number>;

/** The new password, checked against MLflow's policy before any database is opened. */
async function newPassword(values: Parsed['values']): Promise<string> {
  const password = await readPassword(values['password-env'] as string | undefined);
  try {
    validatePassword(password);
  } catch (err) {
    if (err instanceof MlflowError) throw new CliError(err.message);
    throw err;
  }
  return password;
}
const out = (s: string) => process.stdout.write(`${s}\n`);

/** Opens the auth database (migrated, as the server would), runs `fn` with its stores, closes it. */
async function withAuth(fn: (stores: { users: AuthStore; tokens: TokenStore }) => Promise<void>): Promise<number> {
  const c = config();
  if (c.auth.mode !== 'basic') throw new CliError('user and token administration needs AUTH=basic (the configuration the server runs with)');
  let dbs: Awaited<ReturnType<typeof openMigrated>>;
  try {
    dbs = await openMigrated(c, migrationLogger((line) => process.stderr.write(`${line}\n`)), { auth: true });
  } catch (err) {
    throw new CliError(`cannot open the auth database: ${safeMessage(err, c)}`);
  }
  try {
    const users = new AuthStore(dbs.authDb!);
    // Running replicas on the same PostgreSQL database hear the change on the change feed (auth/changes.ts)
    // and drop what they cached of the user, as for a change made through the API (this process listens to nothing).
    announceAuthChanges(users.changes, dbs.db, dbs.authDb!, () => 0);
    await fn({ users, tokens: new TokenStore(dbs.authDb!) });
    return 0;
  } catch (err) {
    // The stores' MLflow errors (unknown user, password too short, …) are the user's to fix.
    if (err instanceof MlflowError) throw new CliError(err.message);
    throw err;
  } finally {
    await dbs.close();
  }
}

const userLine = (u: AuthUser) => `${u.username}${u.isAdmin ? '  (admin)' : ''}`;
const userJson = (u: AuthUser) => ({ id: u.id, username: u.username, is_admin: u.isAdmin });
const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const tokenJson = (t: AccessToken) => ({
  id: t.id,
  name: t.name,
  username: t.username,
  creation_timestamp: t.createdAt,
  expiration_timestamp: t.expiresAt,
  last_used_timestamp: t.lastUsedAt,
  revoked_timestamp: t.revokedAt,
});

function tokenState(t: AccessToken): string {
  if (t.revokedAt !== null) return 'revoked';
  return t.expiresAt <= Date.now() ? 'expired' : 'live';
}

export const userCommands: Record<string, Run> = {
  create: async ({ values, positionals: [username] }) => {
    const password = await newPassword(values);
    return withAuth(async ({ users }) => {
      const u = await users.createUser(username!, password, values.admin === true);
      out(`created user ${userLine(u)}`);
    });
  },
  list: async ({ values }) =>
    withAuth(async ({ users }) => {
      const list = await users.listUsers();
      if (values.json) out(JSON.stringify({ users: list.map(userJson) }));
      else for (const u of list) out(userLine(u));
    }),
  'set-password': async ({ values, positionals: [username] }) => {
    const password = await newPassword(values);
    return withAuth(async ({ users }) => {
      await users.updatePassword(username!, password);
      out(`password of ${username} changed`);
    });
  },
  'set-admin': async ({ positionals: [username, flag] }) => {
    if (flag !== 'true' && flag !== 'false') throw new UsageError(`the second argument must be true or false, got '${flag}'`);
    return withAuth(async ({ users }) => {
      const u = await users.updateAdmin(username!, flag === 'true');
      out(`${u.username} is ${u.isAdmin ? 'now an admin' : 'no longer an admin'}`);
    });
  },
  delete: async ({ positionals: [username] }) =>
    withAuth(async ({ users }) => {
      await users.deleteUser(username!);
      out(`deleted user ${username}`);
    }),
};

export const tokenCommands: Record<string, Run> = {
  create: async ({ values, positionals: [username] }) => {
    const name = values.name;
    if (typeof name !== 'string' || name.trim() === '') throw new UsageError('--name is required (what the token is for)');
    const days = positiveInt(values, 'expires-in-days', 30, 365);
    return withAuth(async ({ users, tokens }) => {
      const user = await users.getUser(username!);
      const { token, info } = await tokens.create(user, name, days * 86_400);
      if (values.json) out(JSON.stringify({ token, access_token: tokenJson(info) }));
      else {
        out(token);
        process.stderr.write(`token ${info.id} '${info.name}' for ${info.username}, expires ${time(info.expiresAt)}; it is shown only now\n`);
      }
    });
  },
  list: async ({ values, positionals: [username] }) =>
    withAuth(async ({ users, tokens }) => {
      const list = await tokens.list((await users.getUser(username!)).id);
      if (values.json) out(JSON.stringify({ access_tokens: list.map(tokenJson) }));
      else for (const t of list) out(`${t.id}  ${t.name}  ${tokenState(t)}  created ${time(t.createdAt)}  expires ${time(t.expiresAt)}  last used ${time(t.lastUsedAt)}`);
    }),
  revoke: async ({ positionals: [raw] }) => {
    if (!/^\d{1,10}$/.test(raw!) || Number(raw) < 1 || Number(raw) > 2_147_483_647) throw new UsageError(`the token id must be a positive integer, got '${raw}'`);
    return withAuth(async ({ tokens }) => {
      const t = await tokens.revoke(Number(raw));
      if (!t) throw new CliError(`Access token with id=${raw} not found`);
      out(`revoked token ${t.id} '${t.name}' of ${t.username}`);
    });
  },
};
