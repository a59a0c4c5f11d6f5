import type { DataSource } from 'typeorm';
import type { AppConfig } from '@mz/contracts';
import { SessionService } from './session.service';

const service = (base: string) => new SessionService({} as DataSource, { APP_BASE_URL: base } as AppConfig);

describe('session cookie options', () => {
  it('are HttpOnly, SameSite=Lax, Path=/ and Secure exactly when the base URL is https', () => {
    expect(service('https://mentor.example').cookieOptions()).toEqual({ httpOnly: true, sameSite: 'lax', secure: true, path: '/' });
    expect(service('http://localhost:3000').cookieOptions()).toEqual({ httpOnly: true, sameSite: 'lax', secure: false, path: '/' });
    const expires = new Date('2030-01-01T00:00:00Z');
    expect(service('https://mentor.example').cookieOptions(expires).expires).toBe(expires);
  });

  it('never looks up malformed cookie values', async () => {
    const s = new SessionService({ query: () => Promise.reject(new Error('must not query')) } as unknown as DataSource, { APP_BASE_URL: 'http://x' } as AppConfig);
    await expect(s.resolve(undefined)).resolves.toBeNull();
    await expect(s.resolve("'; DROP TABLE app_session; --")).resolves.toBeNull();
  });
});
