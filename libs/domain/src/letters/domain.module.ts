import { Module } from '@nestjs/common';
import { LetterCommands } from './letter-commands.service';

/** Domain services for apps; relies on the global PlatformModule (DataSource, queues, clock). */
@Module({ providers: [LetterCommands], exports: [LetterCommands] })
export class DomainModule {}
