/**
 * Refusals of the letter commands. `kind` tells an HTTP caller how to answer (not_found → 404,
 * conflict → 409) without the domain knowing about HTTP.
 */
export abstract class LetterCommandError extends Error {
  abstract readonly kind: 'not_found' | 'conflict';
}

export class SubscriptionNotFoundError extends LetterCommandError {
  readonly kind = 'not_found' as const;
  constructor(what: string) {
    super(`subscription not found: ${what}`);
    this.name = 'SubscriptionNotFoundError';
  }
}

/** The subscription exists but cannot receive letters now (disabled, topic inactive, user not active). */
export class SubscriptionDisabledError extends LetterCommandError {
  readonly kind = 'conflict' as const;
  constructor(readonly subscriptionId: string, readonly reason: 'subscription_disabled' | 'topic_inactive' | 'user_inactive') {
    super(`subscription ${subscriptionId} cannot receive letters: ${reason}`);
    this.name = 'SubscriptionDisabledError';
  }
}

export class LetterNotFoundError extends LetterCommandError {
  readonly kind = 'not_found' as const;
  constructor(readonly letterId: string) {
    super(`letter not found: ${letterId}`);
    this.name = 'LetterNotFoundError';
  }
}

/** Retry-now only applies to failed or retrying letters whose subscription can still receive mail. */
export class LetterNotRetryableError extends LetterCommandError {
  readonly kind = 'conflict' as const;
  constructor(readonly letterId: string, readonly reason: string) {
    super(`letter ${letterId} cannot be retried: ${reason}`);
    this.name = 'LetterNotRetryableError';
  }
}

/** Only a letter that reached the reader can be marked done. */
export class LetterNotDeliveredError extends LetterCommandError {
  readonly kind = 'conflict' as const;
  constructor(readonly letterId: string, readonly status: string) {
    super(`letter ${letterId} was not sent (${status}); only a sent letter can be marked done`);
    this.name = 'LetterNotDeliveredError';
  }
}
