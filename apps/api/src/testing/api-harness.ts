/**
 * Integration-test harness for the api: its own database (seeded) and queue prefix, the service
 * started in-process on an ephemeral port, and helpers to talk to it over real HTTP. Sessions
 * are obtained the way a user gets one: a login token row with a known token's hash, then the
 * confirm form's POST, reading Set-Cookie.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource, seedDatabase } from '@mz/db';
import { hashToken, newToken } from '@mz/domain';
import { type RunningService, startService } from '@mz/platform';
import { API_SERVICE } from '../api.definition';

export const TEST_BASE_URL = 'http://localhost:3000';
export const TEST_SESSION_SECRET = 'api-integration-test-session-secret-0123456789';

export interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  cookie?: string;
  headers?: Record<string, string>;
  /** Same-origin browser requests carry Origin; pass null to send none. Default: our origin on writes. */
  origin?: string | null;
}

/** What test/support/test-env's createTestEnv() returns (passed in: production code never imports test/). */
export interface TestEnvLike { databaseUrl: string; vars: Record<string, string>; dispose(): Promise<void> }

export interface ApiHarness {
  env: TestEnvLike;
  ds: DataSource;
  svc: RunningService;
  url: string;
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  createUser(opts?: { email?: string; role?: 'subscriber' | 'admin'; status?: string; name?: string }): Promise<{ id: string; email: string }>;
  /** A fresh login token for the user (purpose login unless given), stored hashed; returns the raw token. */
  loginToken(userId: string, opts?: { purpose?: 'login' | 'footer_login'; expiresInMs?: number }): Promise<string>;
  /** Signs in through POST /login/:token (a site sign-in link unless told) and returns the Cookie header value. */
  signIn(user: { id: string }, purpose?: 'login' | 'footer_login'): Promise<string>;
  close(): Promise<void>;
}

/** `await startApi(await createTestEnv())`; `close()` also disposes the env. */
export async function startApi(env: TestEnvLike, extraEnv: Record<string, string> = {}): Promise<ApiHarness> {
  const ds = createDataSource({ url: env.databaseUrl, poolMax: 4 });
  await ds.initialize();
  await seedDatabase(ds);
  const svc = await startService(API_SERVICE, {
    ...env.vars, PORT: '0', APP_BASE_URL: TEST_BASE_URL, SESSION_SECRET: TEST_SESSION_SECRET, REPLY_DOMAIN: 'reply.mentor.test', ...extraEnv,
  });
  const url = svc.url;

  const h: ApiHarness = {
    env, ds, svc, url,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const write = !['GET', 'HEAD'].includes(method);
      const origin = opts.origin === undefined ? (write ? new URL(svc.config.APP_BASE_URL).origin : null) : opts.origin;
      if (origin) headers.origin = origin;
      if (opts.cookie) headers.cookie = opts.cookie;
      let body: string | undefined;
      if (opts.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.json);
      } else if (opts.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(opts.form).toString();
      }
      return fetch(`${url}${path}`, { method, headers, body, redirect: 'manual' });
    },
    async createUser(o = {}) {
      const email = o.email ?? `user-${randomUUID().slice(0, 8)}@example.test`;
      const [u] = await ds.query(
        `INSERT INTO app_user (email, role, status, name) VALUES ($1, $2, $3, $4) RETURNING id, email`,
        [email, o.role ?? 'subscriber', o.status ?? 'active', o.name ?? null],
      );
      return u;
    },
    async loginToken(userId, o = {}) {
      const token = newToken();
      await ds.query(`INSERT INTO login_token (user_id, token_hash, purpose, expires_at, sent_at) VALUES ($1, $2, $3, $4, now())`, [
        userId, hashToken(token), o.purpose ?? 'login', new Date(Date.now() + (o.expiresInMs ?? 15 * 60_000)),
      ]);
      return token;
    },
    async signIn(user, purpose = 'login') {
      const token = await h.loginToken(user.id, { purpose });
      const res = await h.request('POST', `/login/${token}`);
      if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
      return sessionCookie(res)!;
    },
    async close() {
      await svc.close();
      await ds.destroy();
      await env.dispose();
    },
  };
  return h;
}

/** `mz_session=<value>` (or `__Host-mz_session=…` on https) from a response's Set-Cookie, or null. */
export function sessionCookie(res: Response): string | null {
  const set = res.headers.getSetCookie().find((c) => /^(__Host-)?mz_session=/.test(c));
  return set ? set.split(';')[0] : null;
}
