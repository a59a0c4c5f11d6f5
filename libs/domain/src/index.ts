export * from './links/tokens';
export * from './links/message-id';
export * from './links/links';
export * from './links/mail-address';
export * from './mail/dkim-keys';
export * from './mail/mta-sts';
export * from './letters';
export * from './scheduling';
