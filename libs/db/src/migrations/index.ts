import { InitialSchema1763769600000 } from './1763769600000-initial-schema';
import { HotPathIndexes1763856000000 } from './1763856000000-hot-path-indexes';
import { LetterFallbackReason1796354843000 } from './1796354843000-letter-fallback-reason';
import { LetterLlmCost1796355226000 } from './1796355226000-letter-llm-cost';
import { PersonaVoiceSettings1796356698000 } from './1796356698000-persona-voice-settings';
import { InboundEnvelope1796357400000 } from './1796357400000-inbound-envelope';
import { SessionScope1796357852000 } from './1796357852000-session-scope';
import { SessionScopeFailClosed1796400000000 } from './1796400000000-session-scope-fail-closed';
import { TlsRptReport1796400364128 } from './1796400364128-tlsrpt-report';
import { ProviderEvents1796400400000 } from './1796400400000-provider-events';
import { LoginTokenSignupChoice1796431700000 } from './1796431700000-login-token-signup-choice';
import { SubscriptionLanguage1796431800000 } from './1796431800000-subscription-language';
import { LlmBatchItem1796431900000 } from './1796431900000-llm-batch-item';

/** Listed explicitly (no globs) so the compiled bundle and the tests run the same set, in order. */
export const MIGRATIONS = [
  InitialSchema1763769600000,
  HotPathIndexes1763856000000,
  LetterFallbackReason1796354843000,
  LetterLlmCost1796355226000,
  PersonaVoiceSettings1796356698000,
  InboundEnvelope1796357400000,
  SessionScope1796357852000,
  // Listed in timestamp order, which is the order TypeORM runs them in.
  SessionScopeFailClosed1796400000000,
  TlsRptReport1796400364128,
  ProviderEvents1796400400000,
  LoginTokenSignupChoice1796431700000,
  SubscriptionLanguage1796431800000,
  LlmBatchItem1796431900000,
];
