import { classifySmtpError } from './classify-smtp-error';

/** Shaped like nodemailer's errors: `responseCode` and `response` for SMTP replies, `code` otherwise. */
const reply = (responseCode: number, response: string, code = 'EENVELOPE') =>
  Object.assign(new Error(`Can't send mail - ${response}`), { responseCode, response, code });
const socket = (code: string) => Object.assign(new Error(`socket ${code}`), { code });

describe('classifySmtpError', () => {
  it.each([
    ['421 too many connections', reply(421, '421 4.7.0 Too many connections, try later', 'EPROTOCOL'), 'rate_limit', false],
    ['421 without enhanced code', reply(421, '421 Service not available, closing transmission channel'), 'rate_limit', false],
    ['450 4.7.1 greylisted/throttled', reply(450, '450 4.7.1 Try again later'), 'rate_limit', false],
    ['451 4.7.0 rate', reply(451, '451 4.7.0 Temporary rate limit'), 'rate_limit', false],
    ['451 local error', reply(451, '451 Temporary failure, try again later'), 'network', false],
    ['452 insufficient storage', reply(452, '452 4.2.2 Mailbox full'), 'network', false],
    ['503 bad sequence', reply(503, '503 5.5.1 Bad sequence of commands'), 'network', false],
    ['550 5.1.1 user unknown', reply(550, '550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown'), 'permanent', true],
    ['550 plain mailbox unavailable', reply(550, '550 Mailbox unavailable'), 'permanent', true],
    ['551 user not local', reply(551, '551 User not local'), 'permanent', true],
    ['553 5.1.3 bad syntax', reply(553, '553 5.1.3 Bad recipient address syntax'), 'permanent', true],
    ['550 5.2.1 mailbox disabled', reply(550, '550 5.2.1 Mailbox disabled'), 'permanent', true],
    ['550 5.7.1 policy (our fault, not the address)', reply(550, '550 5.7.1 Message rejected due to policy'), 'permanent', false],
    ['550 spam without enhanced code', reply(550, '550 Message rejected as spam'), 'permanent', false],
    ['552 message too big', reply(552, '552 5.3.4 Message size exceeds fixed limit'), 'permanent', false],
    ['554 transaction failed', reply(554, '554 5.7.1 Transaction failed'), 'permanent', false],
    ['ECONNRESET', socket('ECONNRESET'), 'network', false],
    ['ETIMEDOUT', socket('ETIMEDOUT'), 'network', false],
    ['ECONNECTION', socket('ECONNECTION'), 'network', false],
    ['ESOCKET', socket('ESOCKET'), 'network', false],
    ['ECONNREFUSED', socket('ECONNREFUSED'), 'network', false],
    ['EAUTH (configuration)', socket('EAUTH'), 'processing', false],
    ['EMESSAGE', socket('EMESSAGE'), 'processing', false],
    ['a plain Error', new Error('boom'), 'processing', false],
    ['not an error at all', 'weird', 'processing', false],
  ])('%s → %s', (_name, err, failureClass, hardBounce) => {
    const f = classifySmtpError(err);
    expect(f.failureClass).toBe(failureClass);
    expect(f.hardBounce).toBe(hardBounce);
  });

  it('extracts the codes and keeps addresses out of the summary', () => {
    const f = classifySmtpError(reply(550, '550 5.1.1 <bob@example.com>: Recipient address rejected'));
    expect(f).toMatchObject({ responseCode: 550, enhancedCode: '5.1.1' });
    expect(f.summary).toBe('SMTP 550: 550 5.1.1 <[email]>: Recipient address rejected');
    expect(f.summary).not.toContain('bob@');
  });

  it('caps the summary and flattens multi-line replies', () => {
    const f = classifySmtpError(reply(451, `451-first line\r\n451 ${'x'.repeat(1000)}`));
    expect(f.summary.length).toBeLessThanOrEqual(300);
    expect(f.summary).not.toMatch(/[\r\n]/);
  });

  it('names the error code when there was no SMTP reply', () => {
    expect(classifySmtpError(socket('ETIMEDOUT')).summary).toBe('SMTP ETIMEDOUT: socket ETIMEDOUT');
  });
});
