import { createHmac } from 'node:crypto';
import { looksSigned, mailAddressSecret, signedAddress, verifySignedAddress } from './mail-address';

const SECRET = 's'.repeat(40);
const ID = '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const DOMAIN = 'reply.example.org';

describe('signed mail addresses', () => {
  it('round-trips every kind with a short, lower-case local part', () => {
    for (const kind of ['reply', 'bounce_letter', 'bounce_transactional', 'unsubscribe'] as const) {
      const address = signedAddress(kind, ID, DOMAIN, SECRET);
      const local = address.split('@')[0];
      expect(local.length).toBeLessThanOrEqual(64);
      expect(local).toBe(local.toLowerCase());
      expect(verifySignedAddress(address, DOMAIN, SECRET)).toEqual({ kind, id: ID });
      // Mail systems may change case; a trailing root dot is the same domain.
      expect(verifySignedAddress(address.toUpperCase(), DOMAIN, SECRET)).toEqual({ kind, id: ID });
      expect(verifySignedAddress(`${address}.`, DOMAIN, SECRET)).toEqual({ kind, id: ID });
    }
    expect(signedAddress('reply', ID, DOMAIN, SECRET)).toMatch(/^r\+3f2b1c4d5e6f4a7b8c9d0e1f2a3b4c5d\.[0-9a-f]{20}@reply\.example\.org$/);
    expect(signedAddress('bounce_letter', ID, DOMAIN, SECRET)).toMatch(/^b\+l/);
    expect(signedAddress('bounce_transactional', ID, DOMAIN, SECRET)).toMatch(/^b\+t/);
    expect(signedAddress('unsubscribe', ID, DOMAIN, SECRET)).toMatch(/^u\+/);
  });

  it('refuses forgeries: another id, another kind, another secret, another domain, a changed signature', () => {
    const reply = signedAddress('reply', ID, DOMAIN, SECRET);
    const [local] = reply.split('@');
    const sig = local.split('.')[1];
    const other = '3f2b1c4d5e6f4a7b8c9d0e1f2a3b4c5e';
    expect(verifySignedAddress(`r+${other}.${sig}@${DOMAIN}`, DOMAIN, SECRET)).toBeNull();
    // The same id and signature under another kind's prefix: kinds have separate keys.
    expect(verifySignedAddress(reply.replace(/^r\+/, 'u+'), DOMAIN, SECRET)).toBeNull();
    expect(verifySignedAddress(reply.replace(/^r\+/, 'b+l'), DOMAIN, SECRET)).toBeNull();
    expect(verifySignedAddress(reply, DOMAIN, 't'.repeat(40))).toBeNull();
    expect(verifySignedAddress(reply.replace(DOMAIN, 'evil.example'), DOMAIN, SECRET)).toBeNull();
    expect(verifySignedAddress(reply.replace(DOMAIN, `${DOMAIN}.evil.example`), DOMAIN, SECRET)).toBeNull();
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('0') ? '1' : '0'}`;
    expect(verifySignedAddress(`r+${local.slice(2, 34)}.${flipped}@${DOMAIN}`, DOMAIN, SECRET)).toBeNull();
    for (const junk of ['reply@reply.example.org', 'r+@reply.example.org', 'r+x.y@reply.example.org', '', '@', 'r+3f2b.00@reply.example.org']) {
      expect(verifySignedAddress(junk, DOMAIN, SECRET)).toBeNull();
    }
    expect(() => signedAddress('reply', 'not-a-uuid', DOMAIN, SECRET)).toThrow();
  });

  it('signs with the key of the secret it is given, however many secrets take turns (derived keys are kept per secret)', () => {
    const expected = (kind: string, secret: string) => {
      const key = createHmac('sha256', secret).update(`mentor-zero mail address v1 ${kind}`).digest();
      return createHmac('sha256', key).update(ID.replace(/-/g, '')).digest('hex').slice(0, 20);
    };
    const secrets = Array.from({ length: 7 }, (_, i) => `${i}`.repeat(40));
    // Interleaved, and more secrets than the cache keeps: every signature still matches its own secret.
    for (const secret of [...secrets, ...[...secrets].reverse(), SECRET]) {
      for (const kind of ['reply', 'unsubscribe'] as const) {
        const address = signedAddress(kind, ID, DOMAIN, secret);
        expect(address.split('@')[0].split('.')[1]).toBe(expected(kind, secret));
        expect(verifySignedAddress(address, DOMAIN, secret)).toEqual({ kind, id: ID });
        if (secret !== SECRET) expect(verifySignedAddress(address, DOMAIN, SECRET)).toBeNull();
      }
    }
  });

  it('tells signed-looking local parts from the plain ones', () => {
    expect(looksSigned('r+abc@x.org')).toBe(true);
    expect(looksSigned('B+Labc@x.org')).toBe(true);
    expect(looksSigned('u+x@x.org')).toBe(true);
    expect(looksSigned('reply@x.org')).toBe(false);
    expect(looksSigned('postmaster@x.org')).toBe(false);
  });

  it('derives its secret from SESSION_SECRET under its own label unless MAIL_ADDRESS_SECRET is set', () => {
    const session = 'x'.repeat(40);
    const derived = mailAddressSecret({ SESSION_SECRET: session });
    expect(derived).not.toBe(session);
    expect(derived).toMatch(/^[0-9a-f]{64}$/);
    expect(mailAddressSecret({ SESSION_SECRET: session })).toBe(derived);
    expect(mailAddressSecret({ SESSION_SECRET: session, MAIL_ADDRESS_SECRET: 'm'.repeat(32) })).toBe('m'.repeat(32));
  });
});
