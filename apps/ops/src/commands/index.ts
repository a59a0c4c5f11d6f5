import type { OpsCommand } from '../command';
import { adminCommand } from './admin.command';
import { dnsRecordsCommand } from './dns-records.command';
import { redriveCommand } from './redrive.command';
import { scheduleNowCommand } from './schedule-now.command';
import { sendLetterCommand } from './send-letter.command';
import { suppressionsCommand } from './suppressions.command';

/** Every `npm run mz -- <command>`, by name. */
export const COMMANDS: readonly OpsCommand[] = [scheduleNowCommand, sendLetterCommand, redriveCommand, suppressionsCommand, adminCommand, dnsRecordsCommand];
