import { isServerPath, matchRoute } from './router';

const routes = [{ path: '/' }, { path: '/settings' }, { path: '/admin' }, { path: '/admin/letters' }, { path: '/admin/letters/:id' }];

describe('matchRoute', () => {
  it('matches literal paths and trailing slashes', () => {
    expect(matchRoute(routes, '/')?.route.path).toBe('/');
    expect(matchRoute(routes, '/settings/')?.route.path).toBe('/settings');
    expect(matchRoute(routes, '/admin')?.route.path).toBe('/admin');
  });

  it('extracts and decodes params', () => {
    expect(matchRoute(routes, '/admin/letters/abc%20d')).toEqual({ route: { path: '/admin/letters/:id' }, params: { id: 'abc d' } });
  });

  it('returns null for unknown paths and malformed escapes', () => {
    expect(matchRoute(routes, '/nope')).toBeNull();
    expect(matchRoute(routes, '/admin/letters/a/b')).toBeNull();
    expect(matchRoute(routes, '/admin/letters/%E0%A4%A')).toBeNull();
  });
});

describe('isServerPath', () => {
  it('leaves Bull Board, the API, the no-JS pages and assets to full page loads', () => {
    for (const p of ['/admin/queues', '/admin/queues/api/queues', '/api/me', '/login/abc', '/u/x.y', '/assets/main-X.js']) expect(isServerPath(p)).toBe(true);
    for (const p of ['/', '/settings', '/admin', '/admin/letters', '/admin/queuesx', '/users']) expect(isServerPath(p)).toBe(false);
  });
});
