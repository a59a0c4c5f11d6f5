export * from './letter-command.errors';
export * from './letter-jobs';
export * from './letter-commands.service';
export * from './domain.module';
export * from './letter-metrics';
