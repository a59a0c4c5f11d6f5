import { type RunningService, startService } from '@mz/platform';
import { ComposerModule } from '../composer.module';

/** The composer as its main.ts defines it, for specs that start it in-process. */
export const composerDef = { service: 'composer' as const, defaultPort: 3003, rootModule: ComposerModule.register };

/**
 * A composer talking to an OpenAI-compatible test endpoint (`llmUrl`, the fake LLM server's url):
 * no SDK retries, short timeouts and backoffs, then `extra`. `vars` are the test env's.
 */
export function startLlmComposer(vars: Record<string, string>, llmUrl: string, extra: Record<string, string> = {}): Promise<RunningService> {
  return startService(composerDef, {
    ...vars, PORT: '0', LLM_BASE_URL: llmUrl, LLM_API_KEY: 'test-key', LLM_MODEL: 'test-model',
    LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '500', RETRY_DELAY_SCALE: '0.01', ...extra,
  });
}
