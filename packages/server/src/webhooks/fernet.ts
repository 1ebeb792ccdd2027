/**
 * Fernet (https://github.com/fernet/spec), as Python's `cryptography.fernet.Fernet` implements it:
 * the key is 32 url-safe base64 bytes (16 signing + 16 encryption); a token is the url-safe base64 of
 * 0x80 | timestamp (8 bytes, big endian) | IV (16) | AES-128-CBC ciphertext (PKCS7) | HMAC-SHA256 (32)
 * over everything before it. MLflow encrypts webhook secrets with it (`EncryptedString`), so with the
 * same MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY, MLflow and this server read each other's rows.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class FernetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FernetError';
  }
}

function b64urlDecode(s: string): Buffer | null {
  const std = s.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std)) return null;
  return Buffer.from(std, 'base64');
}

/** url-safe base64 with padding, as Python's base64.urlsafe_b64encode. */
function b64urlEncode(b: Buffer): string {
  return b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export class Fernet {
  private readonly signingKey: Buffer;
  private readonly encryptionKey: Buffer;

  constructor(key: string) {
    const raw = b64urlDecode(key);
    if (!raw || raw.length !== 32) throw new FernetError('Fernet key must be 32 url-safe base64-encoded bytes.');
    this.signingKey = raw.subarray(0, 16);
    this.encryptionKey = raw.subarray(16);
  }

  /** `Fernet.generate_key()`. */
  static generateKey(): string {
    return b64urlEncode(randomBytes(32));
  }

  encrypt(plaintext: string, now: number = Date.now(), iv: Buffer = randomBytes(16)): string {
    const header = Buffer.alloc(9);
    header[0] = 0x80;
    header.writeBigUInt64BE(BigInt(Math.floor(now / 1000)), 1);
    const cipher = createCipheriv('aes-128-cbc', this.encryptionKey, iv);
    const ct = Buffer.concat([cipher.update(Buffer.from(plaintext, 'utf8')), cipher.final()]);
    const body = Buffer.concat([header, iv, ct]);
    const mac = createHmac('sha256', this.signingKey).update(body).digest();
    return b64urlEncode(Buffer.concat([body, mac]));
  }

  /** Decrypts a token (no TTL check, as MLflow calls `decrypt` without one). */
  decrypt(token: string): string {
    const data = b64urlDecode(token);
    if (!data || data.length < 1 + 8 + 16 + 16 + 32 || data[0] !== 0x80 || (data.length - 57) % 16 !== 0) {
      throw new FernetError('Invalid Fernet token');
    }
    const body = data.subarray(0, data.length - 32);
    const mac = data.subarray(data.length - 32);
    const expected = createHmac('sha256', this.signingKey).update(body).digest();
    if (!timingSafeEqual(mac, expected)) throw new FernetError('Invalid Fernet token (signature mismatch: wrong key?)');
    const iv = body.subarray(9, 25);
    const decipher = createDecipheriv('aes-128-cbc', this.encryptionKey, iv);
    try {
      return Buffer.concat([decipher.update(body.subarray(25)), decipher.final()]).toString('utf8');
    } catch {
      throw new FernetError('Invalid Fernet token (bad padding)');
    }
  }
}
