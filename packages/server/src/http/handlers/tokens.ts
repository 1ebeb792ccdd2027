/**
 * Personal access tokens (our extension, /api/2.0/mlflow-ts/tokens/…), over auth/tokens.ts. With
 * authentication off every route answers 404 ENDPOINT_NOT_FOUND, as the auth API does.
 *
 * The middleware (http/authn.ts) has authenticated the caller; the rules that need the tables are decided
 * here: listing another user's tokens is for admins (403), revoking another user's token too (404, as an
 * unknown id: ids of other users' tokens are not disclosed), and a request authenticated by an access
 * token cannot create one.
 */
import { errorBody, MlflowError } from '../../errors.js';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';
import type { AccessToken as AccessTokenJson } from '../../gen/api/types.gen.js';
import type { AuthStore } from '../../auth/store.js';
import type { AccessToken, TokenAuthenticator, TokenStore } from '../../auth/tokens.js';
import { currentUser } from '../auth-context.js';
import { authMethod, forbidden, unauthenticated } from '../authn.js';

export interface TokenDeps {
  store: AuthStore;
  tokens: TokenStore;
  authenticator: TokenAuthenticator;
}

export type TokenOperationId = Extract<OperationId, 'createAccessToken' | 'listAccessTokens' | 'revokeAccessToken'>;
const TOKEN_OPERATION_IDS: readonly TokenOperationId[] = ['createAccessToken', 'listAccessTokens', 'revokeAccessToken'];

/** The API's shape (proto2 style: unset timestamps omitted). */
function toJson(t: AccessToken): AccessTokenJson {
  return {
    id: t.id,
    name: t.name,
    username: t.username,
    creation_timestamp: t.createdAt,
    expiration_timestamp: t.expiresAt,
    ...(t.lastUsedAt !== null ? { last_used_timestamp: t.lastUsedAt } : {}),
    ...(t.revokedAt !== null ? { revoked_timestamp: t.revokedAt } : {}),
  };
}

const notFound = (id: unknown) => new MlflowError('RESOURCE_DOES_NOT_EXIST', `Access token with id=${String(id)} not found`);

export function tokenHandlers(deps: TokenDeps | undefined): { [K in TokenOperationId]: Handler<K> } {
  if (!deps) {
    const off: Handler = (_r, c) =>
      new Response(JSON.stringify(errorBody('ENDPOINT_NOT_FOUND', `No endpoint ${c.req.method} ${new URL(c.req.url).pathname}`)), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    return Object.fromEntries(TOKEN_OPERATION_IDS.map((id) => [id, off])) as { [K in TokenOperationId]: Handler<K> };
  }
  const { store, tokens, authenticator } = deps;
  return {
    createAccessToken: async (req, c) => {
      const caller = currentUser(c);
      if (!caller) return unauthenticated();
      if (authMethod(c) === 'token') {
        throw new MlflowError('PERMISSION_DENIED', 'An access token cannot create access tokens: log in with a password or an OpenID Connect token.');
      }
      const { token, info } = await tokens.create(caller, req.fields.name ?? '', req.fields.expires_in_seconds);
      return { token, access_token: toJson(info) };
    },
    listAccessTokens: async (req, c) => {
      const caller = currentUser(c);
      if (!caller) return unauthenticated();
      const username = req.fields.username;
      let userId = caller.id;
      if (username !== undefined && username !== '' && username !== caller.username) {
        if (!caller.isAdmin) return forbidden();
        userId = (await store.getUser(username)).id;
      }
      const list = await tokens.list(userId);
      return list.length ? { access_tokens: list.map(toJson) } : {};
    },
    revokeAccessToken: async (req, c) => {
      const caller = currentUser(c);
      if (!caller) return unauthenticated();
      const id = req.fields.id;
      if (id === undefined) throw MlflowError.invalid("Missing value for required parameter 'id'.");
      // Ids are PostgreSQL integers: anything else names no token (and must not reach the query as an error).
      if (!Number.isInteger(id) || id < 1 || id > 2_147_483_647) throw notFound(id);
      const existing = await tokens.get(id);
      if (!existing || (!caller.isAdmin && existing.username !== caller.username)) throw notFound(id);
      const revoked = await tokens.revoke(id);
      if (!revoked) throw notFound(id);
      // At once on this replica; the others drop it when they hear the revocation (TokenStore.revoke).
      authenticator.invalidateToken(id);
      return { access_token: toJson(revoked) };
    },
  };
}
