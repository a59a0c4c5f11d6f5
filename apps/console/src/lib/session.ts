import { api, ApiError } from './http.client';

export interface Me {
  id: string;
  email: string;
  name: string | null;
  role: 'subscriber' | 'admin';
  /** settings: signed in from a letter's footer link; the console needs a sign-in link. */
  sessionScope: 'full' | 'settings';
  /** Mail to this address is suppressed: no letter reaches it until an admin lifts it. */
  suppression?: { reason: 'hard_bounce' | 'complaint' | 'manual'; since: string } | null;
  status?: string;
}

let current: Me | null = null;
let loaded = false;

/** The signed-in user, fetched once per page load (null when signed out). */
export async function loadMe(force = false): Promise<Me | null> {
  if (loaded && !force) return current;
  try {
    // Not /api/me: its 401 for a signed-out visitor would be an error in the browser console.
    current = (await api.get<{ user: Me | null }>('/api/auth/session', { quiet401: true })).user;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) current = null;
    else throw err;
  }
  loaded = true;
  return current;
}

export function me(): Me | null {
  return current;
}

export function forgetMe(): void {
  current = null;
  loaded = true;
}

export async function logout(): Promise<void> {
  try {
    await api.post('/api/auth/logout');
  } finally {
    forgetMe();
  }
}
