import { maskEmail } from './mask-email';

describe('maskEmail', () => {
  it('keeps the first and last character of the local part and the domain', () => {
    expect(maskEmail('alice@example.org')).toBe('a•••e@example.org');
    expect(maskEmail('al@example.org')).toBe('a•••@example.org');
    expect(maskEmail('a@example.org')).toBe('a•••@example.org');
    expect(maskEmail('broken')).toBe('•••');
  });
});
