import { Module } from '@nestjs/common';
import { AdminCommands } from '../admin/admin-commands.service';
import { LetterCommands } from './letter-commands.service';

/** Domain services for apps; relies on the global PlatformModule (DataSource, queues, clock). */
@Module({ providers: [LetterCommands, AdminCommands], exports: [LetterCommands, AdminCommands] })
export class DomainModule {}
