import { z } from 'zod';
import { jsonSchemaResponseFormat, parseStructured } from './structured-output';

const Answer = z.strictObject({ code: z.string().min(2).max(8).regex(/^[a-z]+$/), score: z.number().min(0).max(1), tags: z.array(z.string()).min(1).max(3) });

describe('jsonSchemaResponseFormat', () => {
  it('sends a strict schema without the keywords some servers refuse, keeping numeric bounds and array counts', () => {
    const f = jsonSchemaResponseFormat('answer', Answer);
    expect(f).toMatchObject({ type: 'json_schema', json_schema: { name: 'answer', strict: true } });
    const text = JSON.stringify(f.json_schema.schema);
    for (const k of ['"$schema"', '"minLength"', '"maxLength"', '"pattern"', '"format"']) expect(text).not.toContain(k);
    expect(f.json_schema.schema).toMatchObject({
      type: 'object', additionalProperties: false, required: ['code', 'score', 'tags'],
      properties: { score: { minimum: 0, maximum: 1 }, tags: { minItems: 1, maxItems: 3 } },
    });
  });
});

describe('parseStructured', () => {
  it('accepts the object bare, fenced or after a sentence, and validates it with the same schema', () => {
    const ok = { code: 'abc', score: 0.5, tags: ['x'] };
    for (const content of [JSON.stringify(ok), '```json\n' + JSON.stringify(ok) + '\n```', `Here you go: ${JSON.stringify(ok)}`]) {
      expect(parseStructured(content, Answer)).toEqual({ ok: true, value: ok });
    }
  });

  it('names what is wrong: empty, not JSON, or outside the schema (what the stripped keywords enforce)', () => {
    expect(parseStructured('', Answer)).toEqual({ ok: false, issues: 'empty response' });
    expect(parseStructured('{"code":', Answer)).toMatchObject({ ok: false, issues: expect.stringMatching(/^not valid JSON/) });
    const bad = parseStructured(JSON.stringify({ code: 'ABC', score: 2, tags: [] }), Answer);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.issues).toMatch(/code: .*score: .*tags: /);
  });
});
