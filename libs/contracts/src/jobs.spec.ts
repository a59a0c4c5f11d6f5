import { InvalidJobPayloadError, JOBS, parseJobPayload } from './jobs';
import { ALL_QUEUES, JobName, QueueName } from './queues';

describe('job contracts', () => {
  const id = '6f1c2b9a-3d4e-4f5a-8b6c-7d8e9f0a1b2c';

  it('accepts ids with a version and nothing else', () => {
    expect(parseJobPayload(JobName.ComposeLetter, { v: 1, letterId: id })).toEqual({ v: 1, letterId: id });
  });

  it.each([
    ['missing id', { v: 1 }],
    ['not a uuid', { v: 1, letterId: 'abc' }],
    ['wrong version', { v: 2, letterId: id }],
    ['extra (possibly secret) fields', { v: 1, letterId: id, email: 'a@b.c' }],
    ['not an object', 'letter'],
  ])('rejects %s', (_label, payload) => {
    expect(() => parseJobPayload(JobName.ComposeLetter, payload)).toThrow(InvalidJobPayloadError);
  });

  it('accepts an optional W3C traceparent on every job, and jobs without one (queued before tracing, or with it off)', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseJobPayload(JobName.ComposeLetter, { v: 1, letterId: id, traceparent: tp })).toEqual({ v: 1, letterId: id, traceparent: tp });
    expect(parseJobPayload(JobName.ProcessReply, { v: 1, inboundMessageId: id, traceparent: tp }).traceparent).toBe(tp);
    expect(parseJobPayload(JobName.SweepStuckLetters, { v: 1, traceparent: tp }).traceparent).toBe(tp);
    expect(parseJobPayload(JobName.SendLetter, { v: 1, letterId: id })).toEqual({ v: 1, letterId: id });
  });

  it.each([
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['another version', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['a short span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902-01'],
    ['free text', 'ada@example.org'],
  ])('refuses a traceparent with %s', (_label, traceparent) => {
    expect(() => parseJobPayload(JobName.SendLetter, { v: 1, letterId: id, traceparent })).toThrow(/traceparent/);
  });

  it('maps every job to a frozen queue name without ":"', () => {
    for (const spec of Object.values(JOBS)) expect(ALL_QUEUES).toContain(spec.queue);
    for (const q of ALL_QUEUES) expect(q).not.toContain(':');
    expect(Object.isFrozen(QueueName)).toBe(true);
    expect(QueueName.LettersCompose).toBe('letters.compose');
  });
});
