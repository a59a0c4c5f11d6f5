// The pure reply-understanding core of apps/inbound: parse (in a worker), classify, match,
// extract what the subscriber wrote, and decide the clear intents by rules. No database here.
export { MessageParser, MessageParseError } from './parse-message';
export type { MessageParseErrorCode, MessageParserOptions } from './parse-message';
export type { ParsedMessage } from './parsed-message';
export { classifyMessage } from './classify';
export type { Classification } from './classify';
export { analyseReply, extractReplyText, MAX_MESSAGE_CHARS, MAX_REPLY_CHARS } from './extract-reply';
export type { OurLetter, ReplyExtraction } from './extract-reply';
export { LetterIndex } from './letter-index';
export { DEFAULT_PAUSE_DAYS, ruleIntent, saysDone, UNSUBSCRIBE_MIN_CONFIDENCE, MAX_PAUSE_DAYS, unsubscribeNotRequested, warmRules } from './intent-rules';
export type { NotRequestReason, RuleIntent, RuleContext } from './intent-rules';
export { letterIdFromMessageIds, topicCodeFromMessage } from './match';
