export * from './rows';
export * from './letter.repository';
export * from './suppression.repository';
export * from './progress.repository';
export * from './inbound-message.repository';
export * from './inbound-message-key';
export * from './app-config.repository';
export * from './footer.repository';
