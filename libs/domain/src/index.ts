export * from './links/tokens';
export * from './links/message-id';
export * from './links/links';
export * from './letters';
