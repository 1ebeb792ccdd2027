/**
 * The Fernet key webhook secrets are encrypted with. From MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY when
 * set (the same variable MLflow reads, so both servers can read each other's rows). When unset,
 * MLflow draws a random key per process, which makes every stored secret unreadable after a restart
 * and across replicas; here one key is generated once and kept in our own `mlflow_ts_meta` table, so
 * that every replica and restart shares it. That keeps deliveries working but puts the key next to
 * the ciphertexts, so production deployments should set the variable (a warning says so).
 */
import type { Executor } from '../store/db.js';
import type { Logger } from '../log.js';
import { Fernet } from './fernet.js';

const META_KEY = 'webhook_secret_encryption_key';

export async function loadSecretCipher(db: Executor, configured: string | undefined, log: Logger): Promise<Fernet> {
  if (configured) return new Fernet(configured);
  await db.query(`INSERT INTO mlflow_ts_meta (key, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [
    META_KEY,
    Fernet.generateKey(),
    Date.now(),
  ]);
  const rows = await db.query<{ value: string }>(`SELECT value FROM mlflow_ts_meta WHERE key = $1`, [META_KEY]);
  log.warn(
    'MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY is not set: webhook secrets are encrypted with a key generated once and stored in ' +
      'the database (table mlflow_ts_meta). Set MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY (a Fernet key) in production.',
  );
  return new Fernet(rows[0]!.value);
}
