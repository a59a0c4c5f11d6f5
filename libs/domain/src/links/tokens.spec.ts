import { hashToken, LOGIN_LINK_TTL_MS, minutesLeft, newToken, signUnsubscribeToken, verifyUnsubscribeToken } from './tokens';
import { letterIdFromMessageId, letterMessageId } from './message-id';

const SECRET = 'x'.repeat(40);
const SUB = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

describe('unsubscribe tokens', () => {
  it('round-trips and rejects tampering, other secrets and garbage', () => {
    const token = signUnsubscribeToken(SUB, SECRET);
    expect(verifyUnsubscribeToken(token, SECRET)).toBe(SUB);
    expect(verifyUnsubscribeToken(token, 'y'.repeat(40))).toBeNull();
    const other = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5e';
    expect(verifyUnsubscribeToken(`${other}.${token.split('.')[1]}`, SECRET)).toBeNull();
    expect(verifyUnsubscribeToken(`${token.slice(0, -1)}A`, SECRET)).toBeNull();
    expect(verifyUnsubscribeToken('nonsense', SECRET)).toBeNull();
  });
});

describe('login tokens', () => {
  it('are 32 random bytes and stored only as a sha256', () => {
    const t = newToken();
    expect(Buffer.from(t, 'base64url')).toHaveLength(32);
    expect(newToken()).not.toBe(t);
    expect(hashToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(t)).not.toContain(t);
  });
});

describe('letter Message-ID', () => {
  it('is derived from the letter id and parsed back only on our domain', () => {
    const mid = letterMessageId(SUB, 'reply.example.org');
    expect(mid).toBe(`<mz.${SUB}@reply.example.org>`);
    expect(letterIdFromMessageId(mid, 'reply.example.org')).toBe(SUB);
    expect(letterIdFromMessageId(mid, 'evil.example')).toBeNull();
    expect(letterIdFromMessageId('<random@x>', 'reply.example.org')).toBeNull();
  });
});

describe('minutesLeft (the validity the sign-in mail states)', () => {
  const now = new Date('2026-03-01T10:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('states the full TTL for a link mailed moments after it was requested', () => {
    // Floor said "14 minutes" here while the API promised 15.
    expect(minutesLeft(at(LOGIN_LINK_TTL_MS - 1_500), now)).toBe(LOGIN_LINK_TTL_MS / 60_000);
    expect(minutesLeft(at(LOGIN_LINK_TTL_MS), now)).toBe(15);
  });

  it('stays honest for a link mailed late, and never says 0', () => {
    expect(minutesLeft(at(9 * 60_000 + 10_000), now)).toBe(9);
    expect(minutesLeft(at(20_000), now)).toBe(1);
    expect(minutesLeft(at(-60_000), now)).toBe(1);
  });
});
