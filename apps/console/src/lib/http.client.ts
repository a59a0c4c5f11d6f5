/**
 * JSON over fetch to our own API. Same-origin only: the session cookie rides along and the
 * browser's Origin header satisfies the server's cross-origin check on state-changing requests.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Listeners told when any request answers 401 (session expired or revoked). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export async function request<T>(method: Method, path: string, body?: unknown, init: { signal?: AbortSignal; quiet401?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal: init.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Could not reach the server. Check your connection and try again.', null);
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !init.quiet401) unauthorizedListeners.forEach((fn) => fn());
    throw new ApiError(res.status, errorMessage(res.status, data), data);
  }
  return data as T;
}

/** A human sentence from a Nest/zod error body, never a stack or raw object. */
export function errorMessage(status: number, body: unknown): string {
  const fromBody = pickMessage(body);
  if (fromBody) return fromBody;
  if (status === 400) return 'Some of the values were not accepted.';
  if (status === 401) return 'Please sign in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 409) return 'That conflicts with the current state. Reload and try again.';
  if (status === 429) return 'Too many requests. Please wait a minute and try again.';
  return 'Something went wrong on our side. Please try again.';
}

function pickMessage(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { message?: unknown; issues?: unknown; errors?: unknown };
  const parts: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) parts.push(v.trim());
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') {
      const o = v as { message?: unknown; path?: unknown };
      if (typeof o.message === 'string') {
        const path = Array.isArray(o.path) && o.path.length ? `${o.path.join('.')}: ` : '';
        parts.push(`${path}${o.message}`);
      }
    }
  };
  collect(b.message);
  if (!parts.length) collect(b.issues);
  if (!parts.length) collect(b.errors);
  const msg = [...new Set(parts)].join(' · ');
  return msg ? msg.slice(0, 300) : null;
}

export const api = {
  get: <T>(path: string, init?: { signal?: AbortSignal; quiet401?: boolean }) => request<T>('GET', path, undefined, init),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>('PUT', path, body),
  patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** Builds a query string, dropping empty values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
