import { DynamicModule, Module } from '@nestjs/common';
import { ComposeLetterProcessor } from './compose-letter.processor';
import { ComposeLetterRepository } from './compose-letter.repository';
import { ComposeLetterService } from './compose-letter.service';
import { ComposerMetrics } from './composer.metrics';
import { LlmLetterWriter } from './llm/llm-letter-writer';
import { LlmBatchRepository } from './batch/llm-batch.repository';
import { LlmBatchService } from './batch/llm-batch.service';
import { LlmCircuit, LlmClient } from '@mz/llm';

@Module({})
export class ComposerModule {
  static register(platform: DynamicModule): DynamicModule {
    return {
      module: ComposerModule,
      imports: [platform],
      providers: [ComposeLetterRepository, ComposeLetterService, ComposeLetterProcessor, ComposerMetrics, LlmCircuit, LlmClient, LlmLetterWriter, LlmBatchRepository, LlmBatchService],
    };
  }
}
