import { letterIdFromMessageIds, topicCodeFromMessage } from './match';
import type { ParsedMessage } from './parsed-message';

const DOMAIN = 'reply.mentor.localhost';
const A = '4f9c2b1e-8d3a-4c5b-9e7f-1a2b3c4d5e6f';
const B = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

function msg(subject: string, headers: Record<string, string> = {}): ParsedMessage {
  return { messageId: null, inReplyTo: null, references: [], from: null, to: [], subject, date: null, headers, text: '', html: null, attachments: [], parts: [] };
}

describe('letterIdFromMessageIds', () => {
  it('finds our letter id in In-Reply-To', () => {
    expect(letterIdFromMessageIds([`<mz.${A}@${DOMAIN}>`], DOMAIN)).toBe(A);
  });

  it('prefers the first value that holds one of ours, and the newest id within References', () => {
    expect(letterIdFromMessageIds([null, `<x@gmail.com> <mz.${B}@${DOMAIN}> <mz.${A}@${DOMAIN}>`], DOMAIN)).toBe(A);
    expect(letterIdFromMessageIds([`<mz.${B}@${DOMAIN}>`, `<mz.${A}@${DOMAIN}>`], DOMAIN)).toBe(B);
    expect(letterIdFromMessageIds(['<CAKx8mPq7@mail.gmail.com>', undefined, `<mz.${A}@${DOMAIN}>`], DOMAIN)).toBe(A);
  });

  it('ignores ids on another domain, malformed uuids and lookalikes', () => {
    expect(letterIdFromMessageIds([`<mz.${A}@evil.example>`], DOMAIN)).toBeNull();
    expect(letterIdFromMessageIds([`<mz.${A}@${DOMAIN}.evil.example>`], DOMAIN)).toBeNull();
    expect(letterIdFromMessageIds([`<mz.not-a-uuid@${DOMAIN}>`], DOMAIN)).toBeNull();
    expect(letterIdFromMessageIds([`<xmz.${A}@${DOMAIN}>`], DOMAIN)).toBeNull();
    expect(letterIdFromMessageIds([null, undefined, ''], DOMAIN)).toBeNull();
  });

  it('is case-insensitive and tolerates missing brackets', () => {
    expect(letterIdFromMessageIds([`<MZ.${A.toUpperCase()}@Reply.Mentor.LOCALHOST>`], DOMAIN)).toBe(A);
    expect(letterIdFromMessageIds([`mz.${A}@${DOMAIN}`], DOMAIN)).toBe(A);
  });
});

describe('topicCodeFromMessage', () => {
  it('uses X-MZ-Topic when it is a valid code', () => {
    expect(topicCodeFromMessage(msg('Re: hello [mz:other]', { 'x-mz-topic': ' Resilience ' }))).toBe('resilience');
  });

  it('falls back to the last [mz:<code>] tag in the subject', () => {
    expect(topicCodeFromMessage(msg('Fwd: Re: [mz:stoicism] Seneca [mz:resilience]'))).toBe('resilience');
    expect(topicCodeFromMessage(msg('Re: letter', { 'x-mz-topic': 'not a code!' }))).toBeNull();
    expect(topicCodeFromMessage(msg('Re: letter [mz:deep-work]', { 'x-mz-topic': 'x' }))).toBe('deep-work');
  });

  it('ignores malformed tags', () => {
    expect(topicCodeFromMessage(msg('Re: [mz:] [mz:a] [mz:way-too-long-a-topic-code-for-us] [mz:has space]'))).toBeNull();
    expect(topicCodeFromMessage(msg('Re: no tag here'))).toBeNull();
  });
});
