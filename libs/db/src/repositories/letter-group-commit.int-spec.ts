/**
 * Group commit of the hot letter statements (docs/architecture.md §3.6) against Postgres: many
 * concurrent compose claims, composed marks and sent marks go out as fewer statements, each caller still gets its
 * own letter's result, a letter claimed twice at once is claimed once, and a row another
 * transaction holds is waited for by its own caller alone — never by the rest of the group.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createTestEnv, type TestEnv } from '../../../../test/support/test-env';
import { makeSubscription, makeUser } from '../../../../test/support/fixtures';
import { createDataSource } from '../data-source';
import { seedDatabase } from '../seed/seed';
import { GROUPED_LETTER_STATEMENTS, LetterRepository } from './letter.repository';
import { SuppressionRepository } from './suppression.repository';

const LEASE_MS = 30_000;

/** A node of EXPLAIN (FORMAT JSON). */
type PlanNode = Record<string, unknown> & { Plans?: PlanNode[] };

describe('LetterRepository group commit', () => {
  let env: TestEnv;
  let ds: DataSource;
  let other: DataSource;
  let letters: LetterRepository;
  let statements: string[];

  beforeAll(async () => {
    env = await createTestEnv();
    ds = createDataSource({ url: env.databaseUrl, poolMax: 10 });
    other = createDataSource({ url: env.databaseUrl, poolMax: 2 });
    await Promise.all([ds.initialize(), other.initialize()]);
    await seedDatabase(ds);
    letters = new LetterRepository(ds, new SuppressionRepository(ds));
    // Every named statement this repository sends, in order.
    const pool = (ds.driver as unknown as { master: { query: (...a: unknown[]) => unknown } }).master;
    const query = pool.query.bind(pool);
    pool.query = (...args: unknown[]) => {
      const c = args[0] as { name?: string };
      if (c && typeof c === 'object' && c.name) statements.push(c.name);
      return query(...args);
    };
  });

  beforeEach(() => {
    statements = [];
  });

  afterAll(async () => {
    await ds?.destroy();
    await other?.destroy();
    await env?.dispose();
  });

  /** A letter in `status` for a new subscriber (a distinct subscription each), or for `opts.userId` on `opts.topic`. */
  async function letter(status: 'scheduled' | 'composed' | 'sending' | 'sent', opts: { userId?: string; topic?: string } = {}): Promise<{ id: string; subscriptionId: string; userId: string }> {
    const user = opts.userId ? { id: opts.userId } : await makeUser(ds);
    const subscriptionId = await makeSubscription(ds, user.id, { topic: opts.topic });
    const id = randomUUID();
    await ds.query(
      `INSERT INTO letter (id, subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id, body_text)
       SELECT $1, s.id, s.user_id, s.topic_id, 'scheduled', $3, now(), current_date, $4, CASE WHEN $3 <> 'scheduled' THEN 'Dear friend' END
         FROM subscription s WHERE s.id = $2`,
      [id, subscriptionId, status, `<mz.${id}@test>`],
    );
    return { id, subscriptionId, userId: user.id };
  }

  /** `calls` concurrent calls went out as fewer grouped statements (`name`_many), never as `name` alone. */
  function expectGrouped(name: string, calls: number): void {
    const grouped = statements.filter((s) => s === `${name}_many`).length;
    expect(grouped).toBeGreaterThanOrEqual(2);
    expect(grouped).toBeLessThan(calls);
    expect(statements).not.toContain(name);
  }

  /** `pending` has not settled after 200 ms: its caller is waiting for a row lock. */
  async function expectWaiting(pending: Promise<unknown>): Promise<void> {
    let settled = false;
    void pending.then(() => (settled = true), () => (settled = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(settled).toBe(false);
  }

  /** The plan root of `explain` (an EXPLAIN … FORMAT JSON EXECUTE) after `prepare`, in a session forced to generic plans. */
  async function genericPlan(prepare: string, explain: string): Promise<PlanNode> {
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET plan_cache_mode = force_generic_plan');
      await runner.query(prepare);
      const [row] = await runner.query(explain);
      return row['QUERY PLAN'][0].Plan;
    } finally {
      await runner.query('DEALLOCATE ALL');
      await runner.release();
    }
  }
  const planNodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(planNodes)];

  /** `n` other subscribers who have had every active quote: history a careless plan would read. */
  async function usersWithEveryQuote(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const u = await makeUser(ds);
      await ds.query(`INSERT INTO quote_history (user_id, quote_id, used_at) SELECT $1, id, now() FROM bottom_quote WHERE active`, [u.id]);
    }
  }

  const statusOf = async (id: string) => (await ds.query(`SELECT status FROM letter WHERE id = $1`, [id]))[0].status as string;
  const events = async (id: string, type: string) => (await ds.query(`SELECT count(*)::int AS n FROM event_log WHERE letter_id = $1 AND type = $2`, [id, type]))[0].n as number;

  /** Holds `id`'s row lock in another connection until the returned release is called. */
  async function holdRow(id: string): Promise<(sql?: string) => Promise<void>> {
    const runner = other.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`SELECT id FROM letter WHERE id = $1 FOR UPDATE`, [id]);
    return async (sql?: string) => {
      if (sql) await runner.query(sql, [id]);
      await runner.commitTransaction();
      await runner.release();
    };
  }

  it('claims concurrent letters in fewer statements, each caller getting its own letter and context', async () => {
    const made = await Promise.all(Array.from({ length: 20 }, () => letter('scheduled')));
    const claims = await Promise.all(made.map((l) => letters.claimForCompose(l.id, LEASE_MS)));
    claims.forEach((c, i) => {
      expect(c).toMatchObject({ id: made[i].id, subscription_id: made[i].subscriptionId, user_id: made[i].userId, has_context: true, code: 'focus', letter_number: 1 });
    });
    for (const l of made) expect(await statusOf(l.id)).toBe('composing');
    expectGrouped('mz_composer_claim', made.length);
  });

  it('claims a letter asked for twice at once only once', async () => {
    const l = await letter('scheduled');
    const results = await Promise.all([letters.claimForCompose(l.id, LEASE_MS), letters.claimForCompose(l.id, LEASE_MS), letters.claimForCompose(l.id, LEASE_MS)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
  });

  it('returns null for a letter in a group that is not claimable', async () => {
    const [a, sent, b] = await Promise.all([letter('scheduled'), letter('sent'), letter('scheduled')]);
    const results = await Promise.all([a, sent, b].map((l) => letters.claimForCompose(l.id, LEASE_MS)));
    expect(results.map((r) => r?.id ?? null)).toEqual([a.id, null, b.id]);
    expect(await statusOf(sent.id)).toBe('sent');
  });

  it('leaves a row another transaction holds to its own caller, who waits for it alone', async () => {
    const held = await letter('scheduled');
    const free = await Promise.all(Array.from({ length: 5 }, () => letter('scheduled')));
    const release = await holdRow(held.id);
    const heldClaim = letters.claimForCompose(held.id, LEASE_MS);
    const freeClaims = await Promise.all(free.map((l) => letters.claimForCompose(l.id, LEASE_MS)));
    // The rest of the group was not held up by the locked row.
    expect(freeClaims.map((c) => c?.id)).toEqual(free.map((l) => l.id));
    await expectWaiting(heldClaim);
    // Cancelled meanwhile: the waiting claim re-checks the row and claims nothing.
    await release(`UPDATE letter SET status = 'cancelled' WHERE id = $1`);
    await expect(heldClaim).resolves.toBeNull();
    expect(statements).toContain('mz_composer_claim');
    expect(await statusOf(held.id)).toBe('cancelled');
  });

  it('claims a held letter once the other transaction lets it go unchanged', async () => {
    const held = await letter('scheduled');
    const release = await holdRow(held.id);
    const claim = letters.claimForCompose(held.id, LEASE_MS);
    await new Promise((r) => setTimeout(r, 100));
    await release();
    await expect(claim).resolves.toMatchObject({ id: held.id });
  });

  const composed = (i: number) => ({
    subject: `Letter ${i}`, bodyText: `Dear friend ${i}`, bodyHtml: `<p>Dear friend ${i}</p>`, summary: `s${i}`, themes: ['calm', `t${i}`], tone: 'warm',
    adviceFocus: 'rest', variationTags: [`v${i}`], model: 'm', promptTemplateId: null, promptVersion: 2, promptTokens: 10 + i, cachedTokens: i,
    completionTokens: 20 + i, costUsd: i ? i / 10_000 : null, composeMs: i, fallbackReason: i % 2 ? 'circuit_open' : null, fallbackError: null, language: 'de',
  });

  it('marks concurrent letters composed in fewer statements: each its own content, event and prompt log', async () => {
    const made = await Promise.all(Array.from({ length: 12 }, () => letter('scheduled')));
    await Promise.all(made.map((l) => letters.claimForCompose(l.id, LEASE_MS)));
    statements = [];
    const results = await Promise.all(made.map((l, i) =>
      letters.markComposed(l.id, composed(i), { n: i }, i % 3 ? null : { messages: [{ role: 'user', content: `write ${i}` }], response: `answer ${i}` })));
    expect(results).toEqual(made.map(() => true));
    for (const [i, l] of made.entries()) {
      const [row] = await ds.query(
        `SELECT status, subject, body_text, themes, variation_tags, prompt_version, prompt_tokens, cached_tokens, cost_usd::float8 AS cost, compose_ms, fallback_reason, language, lease_until
           FROM letter WHERE id = $1`, [l.id]);
      expect(row).toEqual({
        status: 'composed', subject: `Letter ${i}`, body_text: `Dear friend ${i}`, themes: ['calm', `t${i}`], variation_tags: [`v${i}`], prompt_version: 2,
        prompt_tokens: 10 + i, cached_tokens: i, cost: i ? i / 10_000 : null, compose_ms: i, fallback_reason: i % 2 ? 'circuit_open' : null, language: 'de', lease_until: null,
      });
      const [e] = await ds.query(`SELECT actor, user_id, subscription_id, metadata FROM event_log WHERE letter_id = $1 AND type = 'LETTER_COMPOSED'`, [l.id]);
      expect(e).toEqual({ actor: 'system', user_id: l.userId, subscription_id: l.subscriptionId, metadata: { n: i } });
      const logged = await ds.query(`SELECT messages, response FROM letter_prompt WHERE letter_id = $1`, [l.id]);
      expect(logged).toEqual(i % 3 ? [] : [{ messages: [{ role: 'user', content: `write ${i}` }], response: `answer ${i}` }]);
    }
    expectGrouped('mz_composer_mark_composed', made.length);
    // Not composing any more: nothing written.
    expect(await letters.markComposed(made[0].id, { ...composed(0), subject: 'again' }, {}, null)).toBe(false);
    expect((await ds.query(`SELECT subject FROM letter WHERE id = $1`, [made[0].id]))[0].subject).toBe('Letter 0');
  });

  it('marks a held letter composed once the other transaction lets it go, unless it moved on', async () => {
    const [kept, moved] = await Promise.all([letter('scheduled'), letter('scheduled')]);
    await Promise.all([kept, moved].map((l) => letters.claimForCompose(l.id, LEASE_MS)));
    const [releaseKept, releaseMoved] = [await holdRow(kept.id), await holdRow(moved.id)];
    const marks = [kept, moved].map((l) => letters.markComposed(l.id, composed(1), {}, null));
    await new Promise((r) => setTimeout(r, 100));
    await releaseKept();
    await releaseMoved(`UPDATE letter SET status = 'retrying' WHERE id = $1`);
    await expect(Promise.all(marks)).resolves.toEqual([true, false]);
    expect(await statusOf(kept.id)).toBe('composed');
    expect(await statusOf(moved.id)).toBe('retrying');
    expect(await events(moved.id, 'LETTER_COMPOSED')).toBe(0);
  });

  it('marks concurrent sends in fewer statements, one LETTER_SENT each', async () => {
    const made = await Promise.all(Array.from({ length: 15 }, () => letter('sending')));
    const sentAt = new Date();
    await Promise.all(made.map((l, i) => letters.markSent({ letterId: l.id, userId: l.userId, subscriptionId: l.subscriptionId }, sentAt, `250 ok ${i}`, i, { attempts: 1 })));
    for (const [i, l] of made.entries()) {
      const [row] = await ds.query(`SELECT status, smtp_response, send_ms, sent_at FROM letter WHERE id = $1`, [l.id]);
      expect(row).toMatchObject({ status: 'sent', smtp_response: `250 ok ${i}`, send_ms: i });
      expect(new Date(row.sent_at).getTime()).toBe(sentAt.getTime());
      expect(await events(l.id, 'LETTER_SENT')).toBe(1);
    }
    const [e] = await ds.query(`SELECT user_id, subscription_id, metadata FROM event_log WHERE letter_id = $1 AND type = 'LETTER_SENT'`, [made[3].id]);
    expect(e).toEqual({ user_id: made[3].userId, subscription_id: made[3].subscriptionId, metadata: { attempts: 1 } });
    expectGrouped('mz_mailer_mark_sent', made.length);
  });

  it('waits a moment for company: letters whose jobs arrive a turn of the event loop apart share one statement', async () => {
    // Jobs reach a worker one Redis reply at a time; without the linger the first would go out alone.
    const nextTurn = () => new Promise((r) => setImmediate(r));
    const [a, b, c, d] = await Promise.all([letter('sending'), letter('sending'), letter('scheduled'), letter('scheduled')]);
    statements = [];
    const mark = (l: typeof a) => letters.markSent({ letterId: l.id, userId: l.userId, subscriptionId: l.subscriptionId }, new Date(), '250 ok', 1, { attempts: 1 });
    const first = mark(a);
    await nextTurn();
    await Promise.all([first, mark(b)]);
    const firstClaim = letters.claimForCompose(c.id, LEASE_MS);
    await nextTurn();
    const claimed = await Promise.all([firstClaim, letters.claimForCompose(d.id, LEASE_MS)]);
    expect(claimed.map((r) => r?.id)).toEqual([c.id, d.id]);
    expect(statements).toEqual(['mz_mailer_mark_sent_many', 'mz_composer_claim_many']);
    expect(await events(b.id, 'LETTER_SENT')).toBe(1);
  });

  it('marks a held row sent after the other transaction lets go, without holding up the group', async () => {
    const held = await letter('sending');
    const free = await Promise.all(Array.from({ length: 4 }, () => letter('sending')));
    const release = await holdRow(held.id);
    const mark = (l: { id: string; userId: string; subscriptionId: string }) =>
      letters.markSent({ letterId: l.id, userId: l.userId, subscriptionId: l.subscriptionId }, new Date(), '250 ok', 1, {});
    const heldMark = mark(held);
    await Promise.all(free.map(mark));
    for (const l of free) expect(await statusOf(l.id)).toBe('sent');
    expect(await statusOf(held.id)).toBe('sending');
    // The sweeper moved it to retrying meanwhile: it was still sent, and says so once.
    await release(`UPDATE letter SET status = 'retrying' WHERE id = $1`);
    await heldMark;
    expect(await statusOf(held.id)).toBe('sent');
    expect(await events(held.id, 'LETTER_SENT')).toBe(1);
  });

  /** The mailer's claim as SendLetterService makes it, with a distinct token hash per call. */
  const sendClaim = (id: string, dueBy = new Date(Date.now() + 1_000)) =>
    letters.claimForSend({ letterId: id, dueBy, leaseUntil: new Date(Date.now() + LEASE_MS), loginTokenHash: `hash-${id}`, loginTokenExpiresAt: new Date(Date.now() + 86_400_000) });

  it('claims concurrent sends in fewer statements: each letter its own claim, closing quote and footer token', async () => {
    const made = await Promise.all(Array.from({ length: 12 }, () => letter('composed')));
    const claims = await Promise.all(made.map((l) => sendClaim(l.id)));
    claims.forEach((c, i) => {
      expect(c).toMatchObject({ id: made[i].id, user_id: made[i].userId, subscription_id: made[i].subscriptionId, refusal: null, claimed_attempts: 1, body_text: 'Dear friend', quote_contended: false });
      expect(c!.quote_text).toEqual(expect.any(String));
    });
    for (const l of made) {
      const [row] = await ds.query(
        `SELECT l.status, l.attempts, l.lease_until IS NOT NULL AS leased, q.text,
                (SELECT count(*)::int FROM quote_history h WHERE h.user_id = l.user_id AND h.quote_id = l.quote_id) AS recorded,
                (SELECT count(*)::int FROM login_token t WHERE t.user_id = l.user_id AND t.token_hash = 'hash-' || l.id AND t.purpose = 'footer_login') AS tokens
           FROM letter l JOIN bottom_quote q ON q.id = l.quote_id WHERE l.id = $1`, [l.id]);
      expect(row).toEqual({ status: 'sending', attempts: 1, leased: true, text: claims[made.indexOf(l)]!.quote_text, recorded: 1, tokens: 1 });
    }
    expectGrouped('mz_mailer_claim', made.length);
    // Claimed: asked again, nothing is claimable.
    await expect(sendClaim(made[0].id)).resolves.toBeNull();
  });

  it('refuses, skips and claims letter by letter within one group, and claims a letter asked for twice once', async () => {
    const [notDue, sent, fine, paused] = await Promise.all([letter('composed'), letter('sent'), letter('composed'), letter('composed')]);
    await ds.query(`UPDATE letter SET scheduled_for = now() + interval '1 hour' WHERE id = $1`, [notDue.id]);
    await ds.query(`UPDATE subscription SET paused_until = now() + interval '1 day' WHERE id = $1`, [paused.subscriptionId]);
    const results = await Promise.all([sendClaim(notDue.id), sendClaim(sent.id), sendClaim(fine.id), sendClaim(fine.id), sendClaim(paused.id)]);
    expect(results.map((r) => r && { id: r.id, refusal: r.refusal, claimed: r.claimed_attempts })).toEqual([
      { id: notDue.id, refusal: 'not_due', claimed: null }, null, { id: fine.id, refusal: null, claimed: 1 }, null, { id: paused.id, refusal: 'subscription_paused', claimed: null },
    ]);
    // A refusal changes nothing: no claim, no quote, no token.
    for (const l of [notDue, paused]) {
      const [row] = await ds.query(`SELECT status, attempts, quote_id, (SELECT count(*)::int FROM login_token WHERE user_id = $2) AS tokens FROM letter WHERE id = $1`, [l.id, l.userId]);
      expect(row).toEqual({ status: 'composed', attempts: 0, quote_id: null, tokens: 0 });
    }
    expect(await statusOf(sent.id)).toBe('sent');
    expect((await ds.query(`SELECT attempts FROM letter WHERE id = $1`, [fine.id]))[0].attempts).toBe(1);
  });

  it("claims two letters of one user in one burst with different closing quotes: the second alone, after the group", async () => {
    const first = await letter('composed', { topic: 'focus' });
    const second = await letter('composed', { userId: first.userId, topic: 'resilience' });
    const third = await letter('composed');
    const claims = await Promise.all([sendClaim(third.id), sendClaim(first.id), sendClaim(second.id)]);
    expect(claims.map((c) => c && { id: c.id, refusal: c.refusal, claimed: c.claimed_attempts, contended: c.quote_contended })).toEqual([
      { id: third.id, refusal: null, claimed: 1, contended: false }, { id: first.id, refusal: null, claimed: 1, contended: false }, { id: second.id, refusal: null, claimed: 1, contended: false },
    ]);
    const quotes = await ds.query(`SELECT quote_id FROM letter WHERE id = ANY($1) ORDER BY id`, [[first.id, second.id]]);
    expect(new Set(quotes.map((q: { quote_id: string }) => q.quote_id)).size).toBe(2);
    expect((await ds.query(`SELECT count(*)::int AS n FROM quote_history WHERE user_id = $1`, [first.userId]))[0].n).toBe(2);
    // The group took the first of the user's letters; the second went alone.
    expect(statements.filter((n) => n === 'mz_mailer_claim')).toHaveLength(1);
  });

  it("leaves a letter another transaction holds to its own send claim, which waits alone and re-checks the row", async () => {
    const held = await letter('composed');
    const free = await Promise.all(Array.from({ length: 4 }, () => letter('composed')));
    const release = await holdRow(held.id);
    const heldClaim = sendClaim(held.id);
    const freeClaims = await Promise.all(free.map((l) => sendClaim(l.id)));
    expect(freeClaims.map((c) => c?.claimed_attempts)).toEqual([1, 1, 1, 1]);
    await expectWaiting(heldClaim);
    // Sent by someone else meanwhile (the one ambiguous window's re-drive): nothing is claimed, no token stored.
    await release(`UPDATE letter SET status = 'sent' WHERE id = $1`);
    await expect(heldClaim).resolves.toBeNull();
    expect(statements).toContain('mz_mailer_claim');
    expect((await ds.query(`SELECT count(*)::int AS n FROM login_token WHERE user_id = $1`, [held.userId]))[0].n).toBe(0);
  });

  it('reaches the letters through the primary key, also in a generic plan over a table of letters in flight', async () => {
    // Statistics from a quiet moment (every letter sent), then a burst in flight, as when a minute's
    // letters fall due: to the planner the status and lease indexes look like a few rows.
    const { subscriptionId } = await letter('sent');
    await ds.query(
      `INSERT INTO letter (subscription_id, user_id, topic_id, kind, status, scheduled_for, local_date, message_id)
       SELECT s.id, s.user_id, s.topic_id, 'send_now', 'sent', now(), current_date, '<mz.bulk.' || g || '@test>'
         FROM subscription s, generate_series(1, 3000) g WHERE s.id = $1`,
      [subscriptionId],
    );
    await ds.query('ANALYZE letter');
    await ds.query(`UPDATE letter SET status = (ARRAY['scheduled', 'sending'])[1 + (random() < 0.5)::int], lease_until = now() WHERE message_id LIKE '<mz.bulk.%'`);
    const plans: string[] = [];
    const runner = ds.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SET plan_cache_mode = force_generic_plan');
      const ids = `'{${randomUUID()},${randomUUID()}}'`;
      const { claimForCompose, markComposed, claimForSend, markSent } = GROUPED_LETTER_STATEMENTS;
      await runner.query(`PREPARE claim_many AS ${claimForCompose.text}`);
      await runner.query(`PREPARE send_claim_many AS ${claimForSend.text}`);
      await runner.query(`PREPARE composed_many AS ${markComposed.text}`);
      await runner.query(`PREPARE sent_many AS ${markSent.text}`);
      for (const sql of [
        `EXPLAIN (FORMAT JSON) EXECUTE claim_many(${ids}, 30000)`,
        `EXPLAIN (FORMAT JSON) EXECUTE composed_many('[]', ${ids})`,
        `EXPLAIN (FORMAT JSON) EXECUTE send_claim_many(${ids}, '{now,now}', '{now,now}', '{a,b}', '{now,now}')`,
        `EXPLAIN (FORMAT JSON) EXECUTE sent_many(${ids}, '{now,now}', '{a,b}', '{1,2}', ${ids}, ${ids}, '{"{}","{}"}')`,
      ]) plans.push(JSON.stringify(await runner.query(sql)));
    } finally {
      await runner.query('DEALLOCATE ALL');
      await runner.release();
    }
    for (const plan of plans) {
      const letterScans = [...plan.matchAll(/"Relation Name":"letter"[^}]*?"Alias":"[^"]+"/g)].map((m) => m[0]);
      expect(letterScans.length).toBeGreaterThan(0);
      expect(plan).not.toMatch(/letter_status_retry_idx|letter_lease_idx|letter_sent_at_idx/);
      expect(plan).not.toMatch(/"Node Type":"Seq Scan","Parallel Aware":false,"Async Capable":false,"Relation Name":"letter"/);
    }
  });

  it("the mailer's claim reads each letter's user's quote history with one range scan, however many quotes and other users' history there are", async () => {
    const target = await letter('composed');
    const others = await Promise.all([letter('composed'), letter('composed')]);
    // 40 other users who used every quote, and the target's user who used one.
    const quotes: { id: string }[] = await ds.query(`SELECT id FROM bottom_quote WHERE active`);
    expect(quotes.length).toBeGreaterThan(10);
    await usersWithEveryQuote(40);
    await ds.query(`INSERT INTO quote_history (user_id, quote_id, used_at) VALUES ($1, $2, now())`, [target.userId, quotes[0]!.id]);
    await ds.query('ANALYZE quote_history');
    const ids = [target, ...others].map((l) => l.id);
    const plan = await genericPlan(
      `PREPARE send_claim_many AS ${GROUPED_LETTER_STATEMENTS.claimForSend.text}`,
      `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE send_claim_many('{${ids.join(',')}}', '{now,now,now}', '{infinity,infinity,infinity}', '{x1,x2,x3}', '{infinity,infinity,infinity}')`,
    );
    const reads = planNodes(plan).filter((n) => n['Relation Name'] === 'quote_history' && n['Node Type'] !== 'ModifyTable');
    expect(reads).toHaveLength(1);
    // One scan per letter, by its user's key alone (an index or bitmap scan of the primary key).
    expect(reads[0]).toMatchObject({ 'Node Type': expect.stringMatching(/^(Index|Index Only|Bitmap Heap) Scan$/), 'Actual Loops': ids.length });
    expect(String(reads[0]!['Index Cond'] ?? reads[0]!['Recheck Cond'])).toMatch(/^\(user_id = ok\.user_id\)$/);
    const claimed = await ds.query(`SELECT id, quote_id FROM letter WHERE id = ANY($1) AND status = 'sending'`, [ids]);
    expect(claimed).toHaveLength(3);
    // The target's claim chose a quote its user never had (the one they had is the least fit).
    const targetQuote = claimed.find((c: { id: string }) => c.id === target.id).quote_id;
    expect(targetQuote).not.toBeNull();
    expect(targetQuote).not.toBe(quotes[0]!.id);
  });

  it('keeps one generic plan per grouped statement, whatever the size of each group', async () => {
    // One connection, so every execution lands on one session's prepared statements.
    const single = createDataSource({ url: env.databaseUrl, poolMax: 1 });
    await single.initialize();
    try {
      const repo = new LetterRepository(single, new SuppressionRepository(single));
      const sizes = [1, 3, 2, 5, 1, 4, 2, 6, 1, 3];
      // Every letter first, then ANALYZE: a plan's estimated cost follows the table's size, and in
      // this small table each group's writes are a large share of it (in a real one they are not).
      const groups: Awaited<ReturnType<typeof letter>>[][] = [];
      for (const size of [...sizes, ...sizes, 2]) groups.push(await Promise.all(Array.from({ length: size }, () => letter('scheduled'))));
      await single.query('ANALYZE letter');
      const runGroup = async (made: (typeof groups)[number]) => {
        await Promise.all(made.map((l) => repo.claimForCompose(l.id, LEASE_MS)));
        await Promise.all(made.map((l, i) => repo.markComposed(l.id, composed(i), {}, null)));
        await Promise.all(made.map((l) => repo.claimForSend({ letterId: l.id, dueBy: new Date(Date.now() + 1_000), leaseUntil: new Date(Date.now() + LEASE_MS), loginTokenHash: `plan-${l.id}`, loginTokenExpiresAt: new Date(Date.now() + 60_000) })));
        await Promise.all(made.map((l) => repo.markSent({ letterId: l.id, userId: l.userId, subscriptionId: l.subscriptionId }, new Date(), '250 ok', 1, {})));
      };
      const counts = async () => new Map<string, { generic_plans: number; custom_plans: number }>(
        (await single.query(`SELECT name, generic_plans::int, custom_plans::int FROM pg_prepared_statements WHERE name LIKE 'mz\\_%\\_many' ORDER BY name`))
          .map((p: { name: string; generic_plans: number; custom_plans: number }) => [p.name, p]),
      );
      for (const made of groups.slice(0, -1)) await runGroup(made);
      const settled = await counts();
      expect([...settled.keys()]).toEqual(['mz_composer_claim_many', 'mz_composer_mark_composed_many', 'mz_mailer_claim_many', 'mz_mailer_mark_sent_many']);
      for (const p of settled.values()) {
        // Postgres tries five custom plans, then compares them with the generic one: never a plan per call.
        expect(p.custom_plans).toBeLessThan(sizes.length * 2);
        expect(p.generic_plans).toBeGreaterThan(0);
      }
      // Settled: the next group of each statement runs the generic plan.
      await runGroup(groups.at(-1)!);
      for (const [name, p] of await counts()) expect({ name, ...p }).toEqual({ name, generic_plans: settled.get(name)!.generic_plans + 1, custom_plans: settled.get(name)!.custom_plans });
    } finally {
      await single.destroy();
    }
  });
});
