/**
 * The first admin, as MLflow 3.17.2's `create_admin_user` makes it: there is no default password. At
 * start, when no user named `username` exists, it is created as an admin from the configured password
 * (MLFLOW_AUTH_ADMIN_PASSWORD), which must be set, must not be the password older MLflow versions shipped
 * ("password1234") and must have at least 12 characters. Once the user exists the password is ignored,
 * except to rotate an admin still on that legacy password (MLflow's upgrade path).
 *
 * Idempotent across replicas starting at once: the insert is ON CONFLICT DO NOTHING, so exactly one
 * replica creates the user and the others find it.
 */
import type { Executor } from '../store/db.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { LEGACY_DEFAULT_ADMIN_PASSWORD, MIN_PASSWORD_LENGTH } from './store.js';

export interface BootstrapOptions {
  /** admin_username / MLFLOW_AUTH_ADMIN_USERNAME ("admin" in MLflow's basic_auth.ini). */
  username: string | undefined;
  /** admin_password / MLFLOW_AUTH_ADMIN_PASSWORD. Never logged. */
  password: string | undefined;
  /** Names used in messages (the setting an operator must fix). */
  passwordSetting?: string;
  usernameSetting?: string;
}

export type BootstrapOutcome = 'created' | 'exists' | 'rotated';

/** A configuration error that must stop the server, with a message naming the setting to fix (never the password). */
export class BootstrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootstrapError';
  }
}

/** The checks MLflow applies to a bootstrap password (_validate_bootstrap_admin_password). */
export function validateBootstrapPassword(username: string, password: string | undefined, setting = 'MLFLOW_AUTH_ADMIN_PASSWORD'): asserts password is string {
  if (!password) {
    throw new BootstrapError(
      `Authentication needs a password to create the admin user '${username}', but none is configured (or it is empty). There is no default admin password. Set ${setting} and restart the server.`,
    );
  }
  if (password === LEGACY_DEFAULT_ADMIN_PASSWORD) {
    throw new BootstrapError(
      `Refusing to use the insecure default password that older MLflow versions shipped in basic_auth.ini for the admin user '${username}' (https://github.com/advisories/GHSA-gq3w-7jj3-x7gr). Set ${setting} to a different password.`,
    );
  }
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new BootstrapError(
      `The configured password for the admin user '${username}' is invalid: Password must be at least ${MIN_PASSWORD_LENGTH} characters. Set ${setting} to a valid password.`,
    );
  }
}

/**
 * Creates the admin user if it does not exist yet. Throws BootstrapError for a missing username, or for a
 * missing or invalid password when the user must be created.
 */
export async function bootstrapAdmin(db: Executor, opts: BootstrapOptions): Promise<BootstrapOutcome> {
  const setting = opts.passwordSetting ?? 'MLFLOW_AUTH_ADMIN_PASSWORD';
  const username = opts.username;
  if (!username) {
    throw new BootstrapError(
      `Authentication needs a username for the admin user, but none is configured (or it is empty). Set ${opts.usernameSetting ?? 'MLFLOW_AUTH_ADMIN_USERNAME'} and restart the server.`,
    );
  }
  const [existing] = await db.query<{ id: number; password_hash: string | null; is_admin: boolean | null }>(
    'SELECT id, password_hash, is_admin FROM users WHERE username = $1',
    [username],
  );
  if (!existing) {
    validateBootstrapPassword(username, opts.password, setting);
    const hash = await hashPassword(opts.password);
    const created = await db.query('INSERT INTO users (username, password_hash, is_admin) VALUES ($1, $2, true) ON CONFLICT (username) DO NOTHING RETURNING id', [
      username,
      hash,
    ]);
    return created.length > 0 ? 'created' : 'exists';
  }
  // MLflow's upgrade path: the configured password replaces the legacy default one (a configured legacy
  // value is a stale copy of the old ini, not a rotation request: ignored).
  if (opts.password && opts.password !== LEGACY_DEFAULT_ADMIN_PASSWORD && (await verifyPassword(existing.password_hash, LEGACY_DEFAULT_ADMIN_PASSWORD))) {
    validateBootstrapPassword(username, opts.password, setting);
    const hash = await hashPassword(opts.password);
    await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [existing.id, hash]);
    return 'rotated';
  }
  return 'exists';
}
