/**
 * The reply fixture corpus (test/fixtures/replies) for integration and e2e tests: the manifest,
 * the context its dates are relative to, and raw bytes with placeholders substituted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `untrusted`: claims a subscription by the public tag and From only — kept for review, no effect.
 * `unmatched_report`: a DSN/complaint that does not identify one of our messages and its
 * recipient — recorded as unmatched, nothing suppressed.
 */
export type FixtureEffect =
  | 'progress_done' | 'progress_note' | 'unsubscribe' | 'pause' | 'suppress' | 'suppress_and_disable' | 'none' | 'review' | 'untrusted' | 'unmatched_report';

export interface FixtureEntry {
  file: string;
  description: string;
  source_client: string;
  expected: {
    kind: 'reply' | 'auto_reply' | 'bounce' | 'complaint';
    intent: 'done' | 'note' | 'unsubscribe' | 'pause' | null;
    needs_llm?: boolean;
    extracted_contains: string[];
    extracted_excludes: string[];
    pause_days?: number;
    bounce_hard?: boolean;
    status?: string;
    recipients?: string[];
    attachments?: number;
    /** letter: by threading; reply_address / unsubscribe_address: by the signed address it was sent to; topic: a claim by tag only. */
    matched: 'letter' | 'reply_address' | 'unsubscribe_address' | 'topic' | 'none';
    effect: FixtureEffect;
  };
}

export interface FixtureContext {
  now: string;
  timezone: string;
  letter_uuid: string;
  substitutions: Record<string, string>;
}

export const FIXTURE_DIR = join(__dirname, '..', '..', 'fixtures', 'replies');

export function loadManifest(): FixtureEntry[] {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'manifest.json'), 'utf8'));
}

export function loadContext(): FixtureContext {
  return JSON.parse(readFileSync(join(FIXTURE_DIR, 'context.json'), 'utf8'));
}

export function substitute(s: string, values: Record<string, string>): string {
  let out = s;
  for (const [placeholder, value] of Object.entries(values)) out = out.split(placeholder).join(value);
  return out;
}

/** The fixture's raw bytes with placeholders replaced (ASCII placeholders: latin1 keeps every other byte). */
export function loadFixture(file: string, values: Record<string, string>): Buffer {
  return Buffer.from(substitute(readFileSync(join(FIXTURE_DIR, file)).toString('latin1'), values), 'latin1');
}
