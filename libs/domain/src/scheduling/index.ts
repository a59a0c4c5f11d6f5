export * from './schedule-due.service';
