/**
 * The landing page's sign-up choice over real HTTP (real Postgres and Redis): validated at the
 * sign-in request (a bad choice is a 400 and changes nothing), stored on that request's token,
 * applied once — to that token's account, from the stored row, never from the confirm request —
 * and gentle with an existing subscriber's settings (docs/architecture.md §5).
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '@mz/domain';
import { createTestEnv } from '../../../../test/support/test-env';
import { type ApiHarness, sessionCookie, startApi } from '../testing/api-harness';

jest.setTimeout(60_000);

describe('auth: sign-up choice carried by a sign-in link', () => {
  let h: ApiHarness;
  let ipSeq = 0;
  const ip = () => ({ 'x-forwarded-for': `203.0.113.${++ipSeq}` });
  const choice = { topics: ['resilience', 'curiosity'], sendTime: '06:45', timezone: 'America/New_York' };

  beforeAll(async () => {
    h = await startApi(await createTestEnv(), { TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => {
    await h?.close();
  });

  const request = (email: string, signup?: unknown) => h.request('POST', '/api/auth/login-link', { json: signup === undefined ? { email } : { email, signup }, headers: ip() });
  const tokensOf = (email: string) =>
    h.ds.query(`SELECT t.* FROM login_token t JOIN app_user u ON u.id = t.user_id WHERE u.email = $1 ORDER BY t.created_at`, [email]);
  /** What the mailer does when it sends the link: mint the token and store its hash. */
  const mint = async (tokenId: string): Promise<string> => {
    const token = randomBytes(32).toString('base64url');
    await h.ds.query(`UPDATE login_token SET token_hash = $2, sent_at = now() WHERE id = $1`, [tokenId, hashToken(token)]);
    return token;
  };
  const subscriptionsOf = (email: string) =>
    h.ds.query(
      `SELECT t.code, s.enabled, s.send_time_local, s.timezone, s.context_note, s.paused_until, s.next_run_at, s.updated_at
         FROM subscription s JOIN topic t ON t.id = s.topic_id JOIN app_user u ON u.id = s.user_id WHERE u.email = $1 ORDER BY t.code`,
      [email],
    );

  it('stores the choice on the token, shows it on the confirm page, applies it once on confirm', async () => {
    const email = 'chooser@example.test';
    const plain = await request('plain@example.test');
    const res = await request(email, choice);
    expect(res.status).toBe(202);
    // The answer says nothing more than a plain sign-in request's.
    expect(await res.text()).toBe(await plain.text());
    const [row] = await tokensOf(email);
    expect(row.signup_choice).toEqual(choice);
    // Nothing is subscribed by asking: only the address's owner, confirming, can agree.
    expect(await subscriptionsOf(email)).toEqual([]);

    const token = await mint(row.id);
    const page = await (await h.request('GET', `/login/${token}`)).text();
    expect(page).toContain('<strong>Resilience, Curiosity</strong>');
    expect(page).toContain('06:45 (America/New_York)');

    const confirm = await h.request('POST', `/login/${token}`);
    expect(confirm.status).toBe(303);
    expect(confirm.headers.get('location')).toBe('/settings');
    const subs = await subscriptionsOf(email);
    expect(subs.map((s: { code: string }) => s.code)).toEqual(['curiosity', 'resilience']);
    for (const s of subs) {
      expect(s).toMatchObject({ enabled: true, send_time_local: '06:45', timezone: 'America/New_York', context_note: null, paused_until: null });
      expect(s.next_run_at).not.toBeNull();
      expect(new Date(s.next_run_at).getTime()).toBeGreaterThan(Date.now());
      expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(s.next_run_at)).toBe('06:45');
    }
    const events = await h.ds.query(`SELECT e.metadata FROM event_log e JOIN app_user u ON u.id = e.user_id WHERE u.email = $1 AND e.type = 'LOGIN'`, [email]);
    expect(events).toEqual([{ metadata: { via: 'login', scope: 'full', signup: { subscribed: ['resilience', 'curiosity'], resumed: [], kept: [], unavailable: [] } } }]);

    // The settings the session sees are the ones applied.
    const list = await (await h.request('GET', '/api/subscriptions', { cookie: sessionCookie(confirm)! })).json();
    const on = (list.subscriptions as { topic: { code: string }; enabled: boolean; timezone: string }[]).filter((s) => s.enabled);
    expect(on.map((s) => [s.topic.code, s.timezone]).sort()).toEqual([['curiosity', 'America/New_York'], ['resilience', 'America/New_York']]);

    // Replayed: refused, and nothing changes (not even updated_at).
    const again = await h.request('POST', `/login/${token}`);
    expect(again.status).toBe(410);
    expect(await subscriptionsOf(email)).toEqual(subs);
  });

  it('refuses a bad choice with 400 and stores, creates and counts nothing', async () => {
    const bad: [string, unknown, RegExp][] = [
      ['unknown topic', { ...choice, topics: ['resilience', 'astrology'] }, /Unknown topic: "astrology"/],
      ['malformed code', { ...choice, topics: ['Resilience!'] }, /topic code/],
      ['no topics', { ...choice, topics: [] }, /at least one topic/],
      ['a topic twice', { ...choice, topics: ['focus', 'focus'] }, /each topic once/],
      ['bad zone', { ...choice, timezone: 'Mars/Olympus_Mons' }, /IANA timezone/],
      ['offset for a zone', { ...choice, timezone: '+02:00' }, /IANA timezone/],
      ['bad time', { ...choice, sendTime: '25:00' }, /HH:MM/],
      ['extra field', { ...choice, enabled: false }, /enabled|Unrecognized/i],
      ['not an object', 'resilience', /object/i],
    ];
    await h.ds.query(`UPDATE topic SET active = false WHERE code = 'writing'`);
    bad.push(['inactive topic', { ...choice, topics: ['writing'] }, /Unknown topic: "writing"/]);
    try {
      for (const [what, signup, message] of bad) {
        const email = `bad-${what.replace(/\W+/g, '-')}@example.test`;
        const res = await request(email, signup);
        expect([what, res.status]).toEqual([what, 400]);
        expect([what, (await res.json()).message]).toEqual([what, expect.stringMatching(message)]);
        expect([what, await h.ds.query(`SELECT 1 FROM app_user WHERE email = $1`, [email])]).toEqual([what, []]);
      }
    } finally {
      await h.ds.query(`UPDATE topic SET active = true WHERE code = 'writing'`);
    }
  });

  it('forged, expired and replayed confirmations change nothing; a choice in the confirm request is ignored', async () => {
    // A confirm POST that carries its own "choice" applies nothing: the choice is only ever read from the token row.
    const plainUser = await h.createUser({ email: 'plain-confirm@example.test' });
    const plainToken = await h.loginToken(plainUser.id);
    const forged = await h.request('POST', `/login/${plainToken}`, { json: { signup: choice, topics: ['focus'] } });
    expect(forged.status).toBe(303);
    expect(await subscriptionsOf(plainUser.email)).toEqual([]);

    // An expired token's choice is never applied.
    await request('late@example.test', choice);
    const [late] = await tokensOf('late@example.test');
    const lateToken = await mint(late.id);
    await h.ds.query(`UPDATE login_token SET expires_at = now() - interval '1 second' WHERE id = $1`, [late.id]);
    expect((await h.request('POST', `/login/${lateToken}`)).status).toBe(410);
    expect(await subscriptionsOf('late@example.test')).toEqual([]);

    // A guessed or altered token finds nothing.
    await request('victim@example.test', choice);
    const [victim] = await tokensOf('victim@example.test');
    const victimToken = await mint(victim.id);
    for (const wrong of [`${victimToken.slice(0, -1)}${victimToken.endsWith('A') ? 'B' : 'A'}`, 'x'.repeat(43)]) {
      expect((await h.request('POST', `/login/${wrong}`)).status).toBe(410);
    }
    expect(await subscriptionsOf('victim@example.test')).toEqual([]);

    // Someone else's request for the victim's address never touches the requester: the choice is bound to the token's account.
    const attacker = await h.createUser({ email: 'attacker@example.test' });
    const attackerCookie = await h.signIn(attacker);
    expect((await h.request('POST', `/login/${victimToken}`, { cookie: attackerCookie })).status).toBe(303);
    expect(await subscriptionsOf('attacker@example.test')).toEqual([]);
    expect((await subscriptionsOf('victim@example.test')).map((s: { code: string }) => s.code)).toEqual(['curiosity', 'resilience']);

    // A stored choice that does not parse any more (hand-edited, or a topic code grown invalid) is ignored whole, not half-applied.
    const oddUser = await h.createUser({ email: 'odd@example.test' });
    const oddToken = await h.loginToken(oddUser.id);
    await h.ds.query(`UPDATE login_token SET signup_choice = $2 WHERE token_hash = $1`, [hashToken(oddToken), JSON.stringify({ ...choice, timezone: 'Nowhere/Atlantis' })]);
    expect((await h.request('POST', `/login/${oddToken}`)).status).toBe(303);
    expect(await subscriptionsOf(oddUser.email)).toEqual([]);

    // A footer link (a letter's, forwardable) never carries a choice, even if a row says so.
    const footerUser = await h.createUser({ email: 'footer@example.test' });
    const footerToken = await h.loginToken(footerUser.id, { purpose: 'footer_login' });
    await h.ds.query(`UPDATE login_token SET signup_choice = $2 WHERE token_hash = $1`, [hashToken(footerToken), JSON.stringify(choice)]);
    expect((await h.request('POST', `/login/${footerToken}`)).status).toBe(303);
    expect(await subscriptionsOf(footerUser.email)).toEqual([]);
  });

  it('an existing subscriber: new topics join, a switched-off one comes back at the chosen time, one already on keeps its settings, the rest is untouched', async () => {
    const u = await h.createUser({ email: 'regular@example.test' });
    const topicId = async (code: string) => (await h.ds.query(`SELECT id FROM topic WHERE code = $1`, [code]))[0].id;
    const pausedUntil = new Date(Date.now() + 3 * 86_400_000);
    const seed = async (code: string, enabled: boolean, time: string, zone: string, note: string | null, paused: Date | null = null) =>
      h.ds.query(
        `INSERT INTO subscription (user_id, topic_id, enabled, send_time_local, timezone, context_note, paused_until, next_run_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $3 THEN now() + interval '5 hours' END)`,
        [u.id, await topicId(code), enabled, time, zone, note, paused],
      );
    await seed('resilience', true, '06:00', 'Asia/Tokyo', 'night shifts', pausedUntil);
    await seed('curiosity', false, '21:00', 'Asia/Tokyo', 'kept note');
    await seed('focus', true, '12:00', 'Asia/Tokyo', null);
    const before = await subscriptionsOf(u.email);

    const res = await request(u.email, { topics: ['resilience', 'curiosity', 'discipline'], sendTime: '08:15', timezone: 'Europe/Berlin' });
    expect(res.status).toBe(202);
    const [row] = await tokensOf(u.email);
    expect((await h.request('POST', `/login/${await mint(row.id)}`)).status).toBe(303);

    const after = Object.fromEntries((await subscriptionsOf(u.email)).map((s: { code: string }) => [s.code, s]));
    const was = Object.fromEntries(before.map((s: { code: string }) => [s.code, s]));
    expect(after.resilience).toEqual(was.resilience); // already on: its time, zone, note and pause stay
    expect(after.focus).toEqual(was.focus); // not chosen: untouched
    expect(after.curiosity).toMatchObject({ enabled: true, send_time_local: '08:15', timezone: 'Europe/Berlin', context_note: 'kept note' });
    expect(after.curiosity.next_run_at).not.toBeNull();
    expect(after.discipline).toMatchObject({ enabled: true, send_time_local: '08:15', timezone: 'Europe/Berlin', context_note: null });
    const [event] = await h.ds.query(`SELECT metadata FROM event_log WHERE user_id = $1 AND type = 'LOGIN'`, [u.id]);
    expect(event.metadata.signup).toEqual({ subscribed: ['discipline'], resumed: ['curiosity'], kept: ['resilience'], unavailable: [] });
  });

  it('a topic switched off between request and confirm is not joined; of two links, only the confirmed one\'s choice applies', async () => {
    const email = 'two-links@example.test';
    expect((await request(email, { ...choice, topics: ['writing', 'focus'] })).status).toBe(202);
    expect((await request(email, { ...choice, topics: ['persistence'] })).status).toBe(202);
    const [first, second] = await tokensOf(email);
    const firstToken = await mint(first.id);
    await mint(second.id);
    await h.ds.query(`UPDATE topic SET active = false WHERE code = 'writing'`);
    try {
      const page = await (await h.request('GET', `/login/${firstToken}`)).text();
      expect(page).toContain('<strong>Focus</strong>');
      expect((await h.request('POST', `/login/${firstToken}`)).status).toBe(303);
    } finally {
      await h.ds.query(`UPDATE topic SET active = true WHERE code = 'writing'`);
    }
    expect((await subscriptionsOf(email)).map((s: { code: string }) => s.code)).toEqual(['focus']);
    const [event] = await h.ds.query(`SELECT e.metadata FROM event_log e JOIN app_user u ON u.id = e.user_id WHERE u.email = $1 AND e.type = 'LOGIN'`, [email]);
    expect(event.metadata.signup).toEqual({ subscribed: ['focus'], resumed: [], kept: [], unavailable: ['writing'] });
  });

  describe('GET /api/topics/:topic/sample (public)', () => {
    it('refuses a malformed code with 400 and an unknown or inactive topic with 404', async () => {
      expect((await h.request('GET', '/api/topics/Not%20A%20Code/sample', { headers: ip() })).status).toBe(400);
      expect((await h.request('GET', '/api/topics/astrology/sample', { headers: ip() })).status).toBe(404);
      await h.ds.query(`UPDATE topic SET active = false WHERE code = 'writing'`);
      try {
        expect((await h.request('GET', '/api/topics/writing/sample', { headers: ip() })).status).toBe(404);
      } finally {
        await h.ds.query(`UPDATE topic SET active = true WHERE code = 'writing'`);
      }
    });

    it('limits one IP to 60 requests in 15 minutes (429 with Retry-After)', async () => {
      const from = ip();
      for (let i = 0; i < 60; i++) expect((await h.request('GET', '/api/topics/astrology/sample', { headers: from })).status).toBe(404);
      const over = await h.request('GET', '/api/topics/astrology/sample', { headers: from });
      expect(over.status).toBe(429);
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});
