import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole data model (docs/architecture.md §2). Constraints carry the invariants so that no code path can
 * break them: one subscription per (user, topic), one scheduled letter per (subscription, local
 * date), one inbound row per Message-ID, case-insensitive unique emails and suppressions.
 */
export class InitialSchema1763769600000 implements MigrationInterface {
  name = 'InitialSchema1763769600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE app_user (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  name text,
  role text NOT NULL DEFAULT 'subscriber' CHECK (role IN ('subscriber','admin')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended','deleted')),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX app_user_email_key ON app_user (lower(email));

CREATE TABLE login_token (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  -- NULL until the mailer mints the token at send time (the raw token never passes through Redis).
  token_hash text UNIQUE,
  purpose text NOT NULL DEFAULT 'login' CHECK (purpose IN ('login','footer_login')),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_token_user_idx ON login_token (user_id);
CREATE INDEX login_token_expires_idx ON login_token (expires_at);

CREATE TABLE app_session (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  user_agent text,
  ip text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_session_user_idx ON app_session (user_id);
CREATE INDEX app_session_expires_idx ON app_session (expires_at);

CREATE TABLE persona (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE,
  era text NOT NULL,
  style_notes text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topic (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9-]{2,24}$'),
  name text NOT NULL,
  description text NOT NULL,
  persona_id uuid NOT NULL REFERENCES persona(id),
  model text,
  temperature numeric(3,2) NOT NULL DEFAULT 0.7 CHECK (temperature BETWEEN 0 AND 2),
  response_length text NOT NULL DEFAULT 'medium' CHECK (response_length IN ('short','medium','long')),
  creativity numeric(3,2) NOT NULL DEFAULT 0.5 CHECK (creativity BETWEEN 0 AND 1),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE prompt_template (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  topic_id uuid NOT NULL REFERENCES topic(id) ON DELETE CASCADE,
  version int NOT NULL CHECK (version > 0),
  system_template text NOT NULL,
  user_template text NOT NULL,
  change_note text,
  active boolean NOT NULL DEFAULT false,
  weight int NOT NULL DEFAULT 100 CHECK (weight BETWEEN 0 AND 10000),
  created_by uuid REFERENCES app_user(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT prompt_template_topic_version_key UNIQUE (topic_id, version)
);
CREATE INDEX prompt_template_active_idx ON prompt_template (topic_id) WHERE active;
-- Versions are immutable: a letter records the version it used, so its text must never change.
CREATE FUNCTION prompt_template_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.system_template IS DISTINCT FROM OLD.system_template
     OR NEW.user_template IS DISTINCT FROM OLD.user_template
     OR NEW.version IS DISTINCT FROM OLD.version
     OR NEW.topic_id IS DISTINCT FROM OLD.topic_id THEN
    RAISE EXCEPTION 'prompt_template versions are immutable; create a new version' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER prompt_template_immutable BEFORE UPDATE ON prompt_template
  FOR EACH ROW EXECUTE FUNCTION prompt_template_immutable();

CREATE TABLE subscription (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  topic_id uuid NOT NULL REFERENCES topic(id),
  enabled boolean NOT NULL DEFAULT true,
  context_note text CHECK (length(context_note) <= 2000),
  send_time_local text NOT NULL DEFAULT '07:30' CHECK (send_time_local ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  timezone text NOT NULL DEFAULT 'UTC',
  next_run_at timestamptz,
  last_scheduled_local_date date,
  paused_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT subscription_user_topic_key UNIQUE (user_id, topic_id)
);
-- The scheduler's claim query: WHERE enabled AND next_run_at <= $1 ORDER BY next_run_at.
CREATE INDEX subscription_due_idx ON subscription (next_run_at) WHERE enabled;
CREATE INDEX subscription_topic_idx ON subscription (topic_id);

CREATE TABLE bottom_quote (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  text text NOT NULL UNIQUE,
  author text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE letter (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subscription_id uuid NOT NULL REFERENCES subscription(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  topic_id uuid NOT NULL REFERENCES topic(id),
  kind text NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled','send_now')),
  status text NOT NULL DEFAULT 'scheduled'
    CHECK (status IN ('scheduled','composing','composed','sending','sent','retrying','failed','skipped','cancelled')),
  scheduled_for timestamptz NOT NULL,
  local_date date NOT NULL,
  subject text,
  body_text text,
  body_html text,
  summary text,
  themes text[] NOT NULL DEFAULT '{}',
  tone text,
  advice_focus text,
  variation_tags text[] NOT NULL DEFAULT '{}',
  model text,
  prompt_template_id uuid REFERENCES prompt_template(id) ON DELETE SET NULL,
  prompt_version int,
  prompt_tokens int,
  completion_tokens int,
  compose_ms int,
  send_ms int,
  composed_at timestamptz,
  message_id text NOT NULL UNIQUE,
  attempts int NOT NULL DEFAULT 0,
  error_type text CHECK (error_type IN ('rate_limit','network','processing','permanent')),
  last_error text,
  next_retry_at timestamptz,
  lease_until timestamptz,
  sent_at timestamptz,
  smtp_response text,
  skip_reason text,
  quote_id uuid REFERENCES bottom_quote(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- At most one scheduled letter per subscription per local date (docs/architecture.md §3.1), enforced here.
CREATE UNIQUE INDEX letter_scheduled_daily_key ON letter (subscription_id, local_date) WHERE kind = 'scheduled';
CREATE INDEX letter_status_retry_idx ON letter (status, next_retry_at);
CREATE INDEX letter_user_idx ON letter (user_id, created_at DESC);
CREATE INDEX letter_subscription_idx ON letter (subscription_id, created_at DESC);
-- The sweeper's scan of rows whose lease ran out.
CREATE INDEX letter_lease_idx ON letter (lease_until) WHERE status IN ('scheduled','composing','sending');

CREATE TABLE letter_prompt (
  letter_id uuid PRIMARY KEY REFERENCES letter(id) ON DELETE CASCADE,
  messages jsonb NOT NULL,
  response text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inbound_message (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  message_id text NOT NULL,
  raw bytea NOT NULL,
  raw_size int NOT NULL,
  raw_truncated boolean NOT NULL DEFAULT false,
  source text NOT NULL CHECK (source IN ('smtp','imap','webhook','simulator')),
  envelope_from text,
  from_address text,
  subject text,
  matched_user_id uuid REFERENCES app_user(id) ON DELETE SET NULL,
  matched_letter_id uuid REFERENCES letter(id) ON DELETE SET NULL,
  matched_topic_id uuid REFERENCES topic(id) ON DELETE SET NULL,
  kind text CHECK (kind IN ('reply','auto_reply','bounce','complaint','unmatched')),
  intent text CHECK (intent IN ('done','note','unsubscribe','pause')),
  reply_text text,
  note text,
  confidence numeric(4,3),
  analysis jsonb,
  needs_review boolean NOT NULL DEFAULT false,
  reviewed_at timestamptz,
  processed_at timestamptz,
  error text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inbound_message_message_id_key ON inbound_message (message_id);
CREATE INDEX inbound_message_review_idx ON inbound_message (received_at) WHERE needs_review;
CREATE INDEX inbound_message_user_idx ON inbound_message (matched_user_id, received_at DESC);

CREATE TABLE progress (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subscription_id uuid NOT NULL REFERENCES subscription(id) ON DELETE CASCADE,
  letter_id uuid REFERENCES letter(id) ON DELETE CASCADE,
  inbound_message_id uuid UNIQUE REFERENCES inbound_message(id) ON DELETE SET NULL,
  completed boolean NOT NULL DEFAULT false,
  note text,
  streak_at_time int NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX progress_subscription_idx ON progress (subscription_id, created_at DESC);

CREATE TABLE suppression (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  address text NOT NULL,
  reason text NOT NULL CHECK (reason IN ('hard_bounce','complaint','manual')),
  detail text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX suppression_address_key ON suppression (lower(address));

CREATE TABLE event_log (
  id bigserial PRIMARY KEY,
  type text NOT NULL,
  actor text NOT NULL DEFAULT 'system',
  user_id uuid,
  letter_id uuid,
  subscription_id uuid,
  metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_log_created_idx ON event_log (created_at DESC);
CREATE INDEX event_log_type_idx ON event_log (type, created_at DESC);
CREATE INDEX event_log_user_idx ON event_log (user_id, created_at DESC);

CREATE TABLE email_footer (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  text_template text NOT NULL,
  html_template text NOT NULL,
  active boolean NOT NULL DEFAULT false,
  updated_by uuid REFERENCES app_user(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX email_footer_one_active ON email_footer (active) WHERE active;

CREATE TABLE quote_history (
  user_id uuid NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
  quote_id uuid NOT NULL REFERENCES bottom_quote(id) ON DELETE CASCADE,
  used_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, quote_id)
);

CREATE TABLE app_config (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  description text,
  updated_by uuid REFERENCES app_user(id) ON DELETE SET NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE kpi_daily (
  day date NOT NULL,
  topic_id uuid NOT NULL REFERENCES topic(id) ON DELETE CASCADE,
  prompt_version int NOT NULL DEFAULT 0,
  sent int NOT NULL DEFAULT 0,
  failed int NOT NULL DEFAULT 0,
  replies int NOT NULL DEFAULT 0,
  done int NOT NULL DEFAULT 0,
  lateness_p50_ms int,
  lateness_p99_ms int,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (day, topic_id, prompt_version)
);
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
DROP TABLE IF EXISTS kpi_daily, app_config, quote_history, email_footer, event_log, suppression, progress,
  inbound_message, letter_prompt, letter, bottom_quote, subscription, prompt_template, topic, persona,
  app_session, login_token, app_user;
DROP FUNCTION IF EXISTS prompt_template_immutable();
`);
  }
}
