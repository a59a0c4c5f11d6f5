export * from './queues';
export * from './enums';
export * from './jobs';
export * from './config';
export * from './llm';
export * from './text';
export * from './runtime-settings';
export * from './language';
