import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { MlflowError } from '../errors.js';
import type { Database } from '../store/db.js';
import type { WebhookConfig } from '../config.js';
import { Fernet } from './fernet.js';
import { DeliveryWorker } from './worker.js';

const config: WebhookConfig = {
  allowedSchemes: ['http'],
  secretEncryptionKey: undefined,
  allowPrivateTargets: true,
  requestTimeoutMs: 5000,
  maxRetries: 3,
  retryBaseMs: 100,
  retryMaxMs: 1000,
  maxWorkers: 2,
  pollIntervalMs: 50,
  leaseMs: 35_000,
  deliveryEnabled: true,
};

describe('DeliveryWorker while the database is unavailable', () => {
  let server: http.Server;
  let url = '';
  let received = 0;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received++;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('records the outcome of a delivery sent just before the outage once the database is back (no wait for the lease)', async () => {
    let claimed = false;
    let finishFailures = 3;
    const finished: unknown[][] = [];
    const db = {
      kind: 'pglite',
      mlflowOwned: false,
      async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
        if (text.includes('FOR UPDATE SKIP LOCKED')) {
          if (claimed) return [];
          claimed = true;
          return [
            {
              id: 1,
              delivery_id: '6f1c1d5e-8a7b-4c3d-9e2f-1a2b3c4d5e6f',
              event_id: 1,
              webhook_id: 'w1',
              attempts: 1,
              entity: 'model_version',
              action: 'created',
              time: Date.now(),
              payload: '{"name": "m", "version": "1"}',
              url,
              secret: null,
              webhook_status: 'ACTIVE',
              deleted_timestamp: null,
            },
          ] as T[];
        }
        if (text.includes('INSERT INTO webhook_delivery_attempts (delivery_row_id, attempt, started_at')) {
          if (finishFailures-- > 0) throw new MlflowError('TEMPORARILY_UNAVAILABLE', 'The database is temporarily unavailable (ECONNREFUSED); retry later.');
          finished.push([...(params ?? [])]);
          return [{ updated: 1, logged: 1 }] as T[];
        }
        return [];
      },
      transaction: () => Promise.reject(new Error('unused')),
      close: async () => {},
    } as unknown as Database;
    const worker = new DeliveryWorker({ db, config, cipher: new Fernet(Fernet.generateKey()), log: createLogger('silent') });
    worker.start();
    try {
      const deadline = Date.now() + 5000;
      while (finished.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(received).toBe(1);
      expect(finishFailures).toBeLessThan(0);
      expect(finished).toHaveLength(1);
      expect(finished[0]![3]).toBe('DELIVERED');
    } finally {
      await worker.stop(100);
    }
  });
});
