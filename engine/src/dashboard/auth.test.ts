import { strict as assert } from 'node:assert';
import { decideAuth, readCookie, secretsEqual, sessionValue, SESSION_COOKIE, type AuthRequest } from './auth.js';

const TOKEN = 'tok-0123456789abcdef';
const req = (over: Partial<AuthRequest> = {}): AuthRequest => ({
  path: '/dashboard/',
  querystring: '',
  secure: false,
  ...over,
});
const cookie = `${SESSION_COOKIE}=${sessionValue(TOKEN)}`;

describe('dashboard auth (pure decision)', () => {
  const cases: { name: string; req: AuthRequest; want: string }[] = [
    { name: 'nothing presented', req: req(), want: 'missing' },
    { name: 'right bearer', req: req({ authorization: `Bearer ${TOKEN}` }), want: 'bearer' },
    { name: 'bearer scheme is case-insensitive', req: req({ authorization: `bearer ${TOKEN}` }), want: 'bearer' },
    { name: 'wrong bearer', req: req({ authorization: 'Bearer nope' }), want: 'bad-bearer' },
    {
      name: 'bearer that is a prefix of the token',
      req: req({ authorization: `Bearer ${TOKEN.slice(0, -1)}` }),
      want: 'bad-bearer',
    },
    { name: 'Basic scheme', req: req({ authorization: `Basic ${TOKEN}` }), want: 'bad-bearer' },
    { name: 'session cookie', req: req({ cookie: `other=1; ${cookie}` }), want: 'cookie' },
    {
      name: 'the raw token as cookie is not a session',
      req: req({ cookie: `${SESSION_COOKIE}=${TOKEN}` }),
      want: 'bad-cookie',
    },
    {
      name: 'session of another token',
      req: req({ cookie: `${SESSION_COOKIE}=${sessionValue('another-token-xxxxxxxx')}` }),
      want: 'bad-cookie',
    },
    { name: 'right ?token=', req: req({ querystring: `token=${TOKEN}` }), want: 'query' },
    { name: 'wrong ?token= even with a good cookie', req: req({ querystring: 'token=x', cookie }), want: 'bad-query' },
    { name: 'empty ?token=', req: req({ querystring: 'token=' }), want: 'bad-query' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideAuth(c.req, TOKEN);
      assert.equal(d.ok ? d.via : d.reason, c.want);
    });
  }

  it('?token= sets an HttpOnly, SameSite=Strict cookie that is not the token, and redirects without it', () => {
    const d = decideAuth(
      req({ path: '/dashboard/', querystring: `page=2&token=${encodeURIComponent(TOKEN)}&q=a` }),
      TOKEN,
    );
    assert.ok(d.ok && d.via === 'query');
    assert.equal(d.location, './?page=2&q=a');
    assert.match(d.setCookie, /^bulkhead_dashboard=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\/$/);
    assert.ok(!d.setCookie.includes(TOKEN));
    assert.ok(!d.location.includes(TOKEN));
  });

  it('redirect keeps the last path segment (relative, works behind a prefixing proxy) and marks the cookie Secure over TLS', () => {
    const d = decideAuth(req({ path: '/dashboard', querystring: `token=${TOKEN}`, secure: true }), TOKEN);
    assert.ok(d.ok && d.via === 'query');
    assert.equal(d.location, 'dashboard');
    assert.match(d.setCookie, /; Secure$/);
  });

  it('the redirect never leaves the dashboard, whatever the path', () => {
    for (const path of [
      '/dashboard/javascript:alert(1)',
      '/dashboard/..',
      '/dashboard/%2F%2Fevil.example',
      '/dashboard/a b',
    ]) {
      const d = decideAuth(req({ path, querystring: `token=${TOKEN}` }), TOKEN);
      assert.ok(d.ok && d.via === 'query');
      assert.equal(d.location, './', path);
    }
  });

  it('compares secrets of different lengths without throwing', () => {
    assert.equal(secretsEqual('a', 'a'), true);
    assert.equal(secretsEqual('a', 'ab'), false);
    assert.equal(secretsEqual('', TOKEN), false);
  });

  it('reads one cookie among many', () => {
    assert.equal(readCookie('a=1; b=2;c=3', 'b'), '2');
    assert.equal(readCookie('a=1', 'b'), undefined);
    assert.equal(readCookie(undefined, 'b'), undefined);
    assert.equal(readCookie('x; b=v=w', 'b'), 'v=w');
  });
});
