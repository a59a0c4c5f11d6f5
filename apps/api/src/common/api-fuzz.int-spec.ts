/**
 * Fuzzing every operation of the api's own OpenAPI document (the one served at
 * /api/docs/openapi.json), as an admin, a subscriber and a signed-out visitor, with generated bad
 * path ids, query values and bodies (documented fields filled with hostile values: NUL and other
 * controls, lone surrogates, huge strings, wrong types), plus invalid JSON, 2,000-deep JSON and
 * wrong content types. Invariants: no 5xx; every error under /api in the documented shape
 * `{statusCode, error, message, issues?}`; admin operations never succeed for anyone else.
 * Seeded (FUZZ_SEED replays), bounded in count (FUZZ_RUNS) and in time.
 */
import fc from 'fast-check';
import { createTestEnv } from '../../../../test/support/test-env';
import { FUZZ_SEED, fuzz, fuzzParams, hostileJson, hostileText } from '../../../../test/support/fuzz';
import { type ServiceProcess, startServiceProcess } from '../../../../test/support/services';
import { type ApiHarness, startApi } from '../testing/api-harness';

jest.setTimeout(180_000);

type Role = 'admin' | 'subscriber' | 'anonymous';
interface Operation { method: string; path: string; pathParams: string[]; query: string[]; bodyFields: string[]; hasBody: boolean }

/**
 * Per role: RUNS_PER_OPERATION cases for every operation while the role's budget lasts, then one
 * case each for the operations left (every operation is always exercised). One slow answer under
 * load must not end a property before its first case: hence the per-operation cap.
 */
const ROLE_BUDGET_MS = 3_000;
const RUNS_PER_OPERATION = 3;
const OPERATION_CAP_MS = 3_000;

function operations(doc: { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      const schema = (op.requestBody as { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> } | undefined)?.content;
      const bodySchema = schema ? Object.values(schema)[0]?.schema : undefined;
      ops.push({
        method: method.toUpperCase(), path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(bodySchema?.properties ?? {}),
        hasBody: !!op.requestBody || ['POST', 'PUT', 'PATCH'].includes(method.toUpperCase()),
      });
    }
  }
  return ops;
}

const badId = (): fc.Arbitrary<string> =>
  fc.oneof(fc.uuid(), hostileText(), fc.constantFrom('0', '-1', 'null', 'undefined', '9'.repeat(40), 'resilience', '00000000-0000-0000-0000-000000000000', '%', '..'));

const queryValue = (): fc.Arbitrary<string | string[]> =>
  fc.oneof(hostileText(), fc.constantFrom('-1', '0', '1e9', 'NaN', '99999999999999999999', 'true', '2026-13-45', '25:99'), fc.array(hostileText(), { minLength: 2, maxLength: 3 }));

interface Case { ids: string[]; query: [string, string | string[]][]; body: unknown }

function caseFor(op: Operation): fc.Arbitrary<Case> {
  const body: fc.Arbitrary<unknown> = op.bodyFields.length
    ? fc.oneof(
        fc.record(Object.fromEntries(op.bodyFields.map((f) => [f, hostileJson()])), { requiredKeys: [] }),
        hostileJson(),
      )
    : hostileJson();
  return fc.record({
    ids: fc.array(badId(), { minLength: op.pathParams.length, maxLength: op.pathParams.length }),
    query: fc.array(fc.tuple(fc.constantFrom(...(op.query.length ? op.query : ['page'])), queryValue()), { maxLength: 4 }),
    body,
  });
}

/** Percent-encoded; a lone surrogate (not encodable) is sent as the invalid UTF-8 bytes it would be. */
function pathSegment(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.split(/[\ud800-\udfff]/).map((p) => encodeURIComponent(p)).join('%ED%A0%80');
  }
}

function urlOf(op: Operation, c: Case): string {
  let i = 0;
  const path = op.path.replace(/\{[^}]+\}/g, () => pathSegment(c.ids[i++] ?? ''));
  const qs = new URLSearchParams();
  for (const [k, v] of c.query) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

describe(`api fuzz over the OpenAPI document (FUZZ_SEED=${FUZZ_SEED})`, () => {
  let h: ApiHarness;
  let composer: ServiceProcess;
  let ops: Operation[];
  const cookies: Partial<Record<Role, () => Promise<string | undefined>>> = {};

  beforeAll(async () => {
    h = await startApi(await createTestEnv());
    // Some answers are the composer's (a topic's landing sample, a voice preview): with none
    // running, a real topic code among the generated ids would wait out the api's deadline and
    // answer 504 — the environment's fault, not the input's. The real one runs offline (no LLM).
    composer = await startServiceProcess('composer', { ...h.env.vars, LLM_BASE_URL: '' }, { readyTimeoutMs: 60_000 });
    const res = await h.request('GET', '/api/docs/openapi.json');
    expect(res.status).toBe(200);
    ops = operations(await res.json());
    // A fresh session per operation: a fuzzed sign-out or account erasure must not blind the rest.
    cookies.admin = async () => h.signIn(await h.createUser({ role: 'admin' }));
    cookies.subscriber = async () => h.signIn(await h.createUser({ role: 'subscriber' }));
    cookies.anonymous = async () => undefined;
  });
  afterAll(async () => {
    await composer?.stop();
    await h?.close();
  });

  it('the document lists the operations we fuzz (admin and subscriber ones)', () => {
    expect(ops.length).toBeGreaterThan(30);
    expect(ops.some((o) => o.path.startsWith('/api/admin/'))).toBe(true);
    expect(ops.some((o) => o.method === 'PATCH' && o.path === '/api/me')).toBe(true);
  });

  it('a real topic code among the generated ids gets its sample from the composer (not a 504 after the deadline)', async () => {
    const started = Date.now();
    const res = await h.request('GET', '/api/topics/resilience/sample');
    expect(res.status).toBe(200);
    expect((await res.json()).subject).toEqual(expect.any(String));
    expect(Date.now() - started).toBeLessThan(OPERATION_CAP_MS);
  });

  /** The invariants of one answer; returns a description of what is wrong, or null. */
  async function check(role: Role, op: Operation, url: string, res: Response): Promise<string | null> {
    const text = await res.text();
    const where = `${role} ${op.method} ${url.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
    if (res.status >= 500) return `5xx: ${where}`;
    // Refused: 401/403 from the guard, or a 4xx the body parser gives before it (never a success).
    if (op.path.startsWith('/api/admin') && role !== 'admin' && res.status < 400) return `admin operation not refused: ${where}`;
    // 414/431: Node's HTTP parser refuses an oversized URL or header block before the app sees it.
    if (res.status >= 400 && op.path.startsWith('/api/') && res.status !== 414 && res.status !== 431) {
      let body: { statusCode?: unknown; message?: unknown; error?: unknown };
      try {
        body = JSON.parse(text);
      } catch {
        return `error not JSON: ${where}`;
      }
      if (body.statusCode !== res.status || typeof body.message !== 'string' || typeof body.error !== 'string') return `error not in the documented shape: ${where}`;
    }
    return null;
  }

  for (const role of ['admin', 'subscriber', 'anonymous'] as Role[]) {
    it(`as ${role}: generated ids, query values and bodies never give a 5xx, errors keep their shape`, async () => {
      const deadline = Date.now() + ROLE_BUDGET_MS;
      for (const op of ops) {
        const runs = Date.now() < deadline ? RUNS_PER_OPERATION : 1;
        const cookie = await cookies[role]!();
        await fuzz(`${role} ${op.method} ${op.path}`, caseFor(op), async (c) => {
          const url = urlOf(op, c);
          const res = await h.request(op.method, url, { cookie, ...(op.hasBody ? { json: c.body } : {}) });
          const problem = await check(role, op, url, res);
          if (problem) throw new Error(problem);
        }, fuzzParams(runs, OPERATION_CAP_MS));
      }
    });
  }

  it('as admin: invalid JSON, 2,000-deep JSON, a wrong content type and an empty body are 4xx in the documented shape', async () => {
    const cookie = await cookies.admin!();
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    const deepObject = `${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`;
    const problems: string[] = [];
    for (const op of ops.filter((o) => o.hasBody)) {
      for (const [contentType, body] of [
        ['application/json', '{"name": '], ['application/json', deep], ['application/json', deepObject], ['text/plain', 'name=x'],
        ['application/json', ''], ['application/json', '"\\u0000"'], ['application/xml', '<a/>'],
        // Over the JSON body limit (found by the fuzz: a body-parser 413 lacked `error`).
        ['application/json', JSON.stringify({ name: 'x'.repeat(300_000) })],
      ]) {
        const url = op.path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
        const raw = await fetch(`${h.url}${url}`, { method: op.method, headers: { cookie: cookie ?? '', 'content-type': contentType, origin: new URL(h.svc.config.APP_BASE_URL).origin }, body });
        const problem = await check('admin', op, url, raw);
        if (problem) problems.push(`${contentType} ${JSON.stringify(body.slice(0, 20))}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });

  describe('NUL and control characters are a 400 naming the field, never a 500', () => {
    it('PATCH /api/me {"name":"\\u0000"} → 400 naming name; a control character too; a plain name is saved', async () => {
      const cookie = await cookies.subscriber!();
      for (const name of ['\u0000', 'Ada\u0000', 'Ada\u0007Lovelace', 'Ada\u001b[31m']) {
        const res = await h.request('PATCH', '/api/me', { cookie, json: { name } });
        expect(res.status).toBe(400);
        const body = await res.json();
        expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
        expect(body.issues).toEqual([expect.objectContaining({ path: 'name' })]);
      }
      const ok = await h.request('PATCH', '/api/me', { cookie, json: { name: 'Ada Lovelace' } });
      expect(ok.status).toBe(200);
    });

    it('GET /api/admin/users?q=%00 → 400 naming q', async () => {
      const cookie = await cookies.admin!();
      for (const q of ['%00', 'ada%00', 'a%07b']) {
        const res = await h.request('GET', `/api/admin/users?q=${q}`, { cookie });
        expect(res.status).toBe(400);
        expect((await res.json()).issues).toEqual([expect.objectContaining({ path: 'q' })]);
      }
      expect((await h.request('GET', '/api/admin/users?q=ada', { cookie })).status).toBe(200);
    });

    it('a NUL nested anywhere in a body (a key, an array item, a free-form config value) is a 400 with its path', async () => {
      const cookie = await cookies.admin!();
      const res = await h.request('PUT', '/api/admin/config/unsubscribe_confidence', { cookie, json: { value: { note: ['ok', 'bad\u0000'] } } });
      expect(res.status).toBe(400);
      expect((await res.json()).issues).toEqual([{ path: 'value.note.1', message: 'must not contain NUL (U+0000)' }]);
      // Deeper than any body of ours: refused before anything walks it (a NUL at the bottom included).
      let deep: unknown = 'bad\u0000';
      for (let i = 0; i < 2000; i++) deep = { a: deep };
      const tooDeep = await h.request('PUT', '/api/admin/config/unsubscribe_confidence', { cookie, json: { value: deep } });
      expect(tooDeep.status).toBe(400);
      expect((await tooDeep.json()).message).toMatch(/nested deeper than 64 levels/);
    });
  });
});
