/**
 * Who is calling: set once per request by the authentication middleware (http/authn.ts) and read by the
 * handlers that need it (e.g. users/current). Undefined when authentication is off or the route is public.
 */
import type { Context } from 'hono';
import type { AuthUser } from '../auth/store.js';

const KEY = 'mlflowUser';

export function setCurrentUser(c: Context, user: AuthUser | undefined): void {
  c.set(KEY as never, user as never);
}

export function currentUser(c: Context): AuthUser | undefined {
  return c.get(KEY as never) as AuthUser | undefined;
}
