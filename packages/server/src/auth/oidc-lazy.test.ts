import { describe, expect, it, vi } from 'vitest';

// Whether jose has been evaluated: its mock's factory runs on the first import of 'jose', and only then.
const jose = vi.hoisted(() => ({ loaded: false }));
vi.mock('jose', async (original) => {
  jose.loaded = true;
  return original();
});

describe('jose', () => {
  it('is loaded by the first JWT to verify, not by the configuration or the verifier', async () => {
    const { loadConfig } = await import('../config.js');
    const { OidcVerifier } = await import('./oidc.js');
    const { BearerCache } = await import('./tokens.js');
    loadConfig({ DATA_DIR: '/nonexistent' });
    const verifier = new OidcVerifier(
      {
        issuer: 'https://issuer.invalid',
        audience: ['mlflow'],
        jwksUrl: 'https://issuer.invalid/jwks',
        usernameClaim: 'preferred_username',
        adminClaim: undefined,
        adminValue: undefined,
        algorithms: ['RS256'],
        clockToleranceSeconds: 30,
      },
      {} as never,
      { log: { warn: () => {} } as never, cache: new BearerCache({ maxEntries: 10, ttlMs: 1000 }), onUserChanged: () => {} },
    );
    expect(jose.loaded).toBe(false);
    // A JWT-shaped token of an algorithm not allowed (refused before any key is fetched), after loading jose to verify it.
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(await verifier.authenticate(`${part({ alg: 'HS256' })}.${part({ sub: 'x' })}.c2ln`)).toBeUndefined();
    expect(jose.loaded).toBe(true);
  });
});
