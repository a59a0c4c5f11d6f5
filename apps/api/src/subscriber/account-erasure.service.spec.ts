import { scrubMetadata } from './account-erasure.service';

describe('scrubMetadata', () => {
  it('keeps ids, enums, numbers and dates, erases prose and anything naming the person', () => {
    const meta = {
      reason: 'subscription_disabled',
      letter: '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      local_date: '2026-03-29',
      attempts: 3,
      ok: true,
      note: 'I walked for an hour and felt better',
      who: 'alice@example.org',
      first: 'Alice',
      tags: ['done', 'note'],
      nested: { text: 'free text here', kind: 'reply' },
    };
    expect(scrubMetadata(meta, ['alice@example.org', 'alice'])).toEqual({
      reason: 'subscription_disabled',
      letter: '3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
      local_date: '2026-03-29',
      attempts: 3,
      ok: true,
      note: '[erased]',
      who: '[erased]',
      first: '[erased]',
      tags: ['done', 'note'],
      nested: { text: '[erased]', kind: 'reply' },
    });
  });
});
