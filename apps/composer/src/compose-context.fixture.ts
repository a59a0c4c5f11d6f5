import type { ComposeContext } from './compose-context';

/** A complete ComposeContext for unit specs; override what a test is about. */
export function sampleContext(overrides: Partial<ComposeContext> = {}): ComposeContext {
  return {
    letter: {
      id: '0b7f6c2e-3d1a-4c55-9a77-1f2e3d4c5b6a', subscriptionId: 's1', userId: 'u1', topicId: 't1', kind: 'scheduled',
      scheduledFor: new Date('2025-03-10T07:30:00Z'), localDate: '2025-03-10',
    },
    reader: { name: 'Ada', contextNote: null, language: 'en' },
    topic: {
      id: 't1', code: 'resilience', name: 'Resilience', description: 'Meeting setbacks calmly.', model: null,
      temperature: 0.7, responseLength: 'medium', creativity: 0.5,
    },
    persona: { name: 'Seneca', era: 'Rome, 1st century', styleNotes: 'Warm, direct letters.', instructions: '' },
    prompts: [{ id: 'p1', version: 1, systemTemplate: 'You are {{persona_name}}.', userTemplate: 'Streak {{streak}}.', weight: 100 }],
    streak: 0,
    letterNumber: 1,
    recentNotes: [],
    recentLetters: [],
    ...overrides,
  };
}
