import { AppConfigEntry } from './app-config.entity';
import { AppSession } from './app-session.entity';
import { AppUser } from './app-user.entity';
import { BottomQuote, QuoteHistory } from './bottom-quote.entity';
import { EmailFooter } from './email-footer.entity';
import { EventLog } from './event-log.entity';
import { InboundMessage } from './inbound-message.entity';
import { KpiDaily } from './kpi-daily.entity';
import { Letter } from './letter.entity';
import { LetterPrompt } from './letter-prompt.entity';
import { LlmBatchItem } from './llm-batch-item.entity';
import { LoginToken } from './login-token.entity';
import { Persona } from './persona.entity';
import { Progress } from './progress.entity';
import { PromptTemplate } from './prompt-template.entity';
import { Subscription } from './subscription.entity';
import { Suppression } from './suppression.entity';
import { TlsRptReport } from './tlsrpt-report.entity';
import { Topic } from './topic.entity';

export type { TlsRptPolicyCounts } from './tlsrpt-report.entity';

export {
  AppConfigEntry, AppSession, AppUser, BottomQuote, EmailFooter, EventLog, InboundMessage, KpiDaily, Letter,
  LetterPrompt, LlmBatchItem, LoginToken, Persona, Progress, PromptTemplate, QuoteHistory, Subscription, Suppression, TlsRptReport, Topic,
};

export const ENTITIES = [
  AppConfigEntry, AppSession, AppUser, BottomQuote, EmailFooter, EventLog, InboundMessage, KpiDaily, Letter,
  LetterPrompt, LlmBatchItem, LoginToken, Persona, Progress, PromptTemplate, QuoteHistory, Subscription, Suppression, TlsRptReport, Topic,
];
