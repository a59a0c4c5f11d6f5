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

  it('maps every job to a frozen queue name without ":"', () => {
    for (const spec of Object.values(JOBS)) expect(ALL_QUEUES).toContain(spec.queue);
    for (const q of ALL_QUEUES) expect(q).not.toContain(':');
    expect(Object.isFrozen(QueueName)).toBe(true);
    expect(QueueName.LettersCompose).toBe('letters.compose');
  });
});
