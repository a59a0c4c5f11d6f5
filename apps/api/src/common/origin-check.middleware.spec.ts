import type { NextFunction, Request, Response } from 'express';
import pino from 'pino';
import { originCheck } from './origin-check.middleware';

const check = originCheck('https://mentor.example', pino({ level: 'silent' }));

function run(method: string, path: string, headers: Record<string, string>): number | 'next' {
  let status: number | 'next' = 'next';
  const res = { status: (s: number) => ({ json: () => (status = s) }) } as unknown as Response;
  check({ method, path, headers } as Request, res, (() => undefined) as NextFunction);
  return status;
}

describe('originCheck', () => {
  it('lets reads and same-origin writes through', () => {
    expect(run('GET', '/api/me', { origin: 'https://evil.example' })).toBe('next');
    expect(run('POST', '/api/auth/logout', { origin: 'https://mentor.example' })).toBe('next');
    expect(run('POST', '/api/auth/logout', { referer: 'https://mentor.example/settings' })).toBe('next');
    expect(run('DELETE', '/api/me', {})).toBe('next');
  });

  it('refuses foreign, opaque and look-alike origins on every state-changing method', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(run(method, '/api/me', { origin: 'https://evil.example' })).toBe(403);
      expect(run(method, '/api/me', { origin: 'null' })).toBe(403);
      expect(run(method, '/api/me', { origin: 'http://mentor.example' })).toBe(403);
      expect(run(method, '/api/me', { origin: 'https://mentor.example.evil.example' })).toBe(403);
      expect(run(method, '/api/me', { referer: 'https://evil.example/x' })).toBe(403);
    }
  });

  it('exempts the token-authorised one-click unsubscribe path only', () => {
    expect(run('POST', '/u/abc.def', { origin: 'https://mail.provider.example' })).toBe('next');
    expect(run('POST', '/api/u/abc', { origin: 'https://mail.provider.example' })).toBe(403);
  });
});
