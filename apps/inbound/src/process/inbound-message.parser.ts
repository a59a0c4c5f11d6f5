import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig } from '@mz/contracts';
import { APP_CONFIG } from '@mz/platform';
import { MessageParser, type ParsedMessage } from '../analysis';

/**
 * The service's one MessageParser (mailparser in a worker thread, with the analysis module's
 * part/depth/time limits and our size cap). Closed after the workers have stopped, so jobs still
 * finishing during shutdown can parse.
 */
@Injectable()
export class InboundMessageParser implements OnApplicationShutdown {
  private readonly parser: MessageParser;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.parser = new MessageParser({ maxBytes: config.INBOUND_SMTP_MAX_BYTES });
  }

  parse(raw: Buffer): Promise<ParsedMessage> {
    return this.parser.parse(raw);
  }

  onApplicationShutdown(): Promise<void> {
    return this.parser.close();
  }
}
