/**
 * docker/compose.yaml (and the ollama override), read like `docker compose config` would with a
 * fresh checkout: every long-running service health-checked and restarted, the five services
 * waiting for the one-shot migration, and each service's environment accepted by the services'
 * own config schema in production mode.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { llmConfigured, parseConfig } from '@mz/contracts';
import { missingExplicitKeys } from './support/config-requirements';
import { activeServices, ComposeService, composeDurationMs, DOCKER_DIR, envOf, interpolate, loadCompose } from './support/compose-file';

/** What an operator puts in docker/.env (the stack has no default secrets). */
const SECRETS = { WEBHOOK_SECRET: randomBytes(32).toString('hex'), SESSION_SECRET: randomBytes(32).toString('hex') };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DEFAULT_PORTS } = require('../../docker/healthcheck.cjs') as { DEFAULT_PORTS: Record<string, number> };
const APPS = ['api', 'scheduler', 'composer', 'mailer', 'inbound'] as const;
const ONE_SHOTS = new Set(['migrate', 'ollama-pull']);

function checkDependencies(services: Record<string, ComposeService>): string[] {
  const problems: string[] = [];
  for (const [name, s] of Object.entries(services)) {
    for (const [dep, cfg] of Object.entries(s.depends_on ?? {})) {
      if (!services[dep] && cfg.required !== false) problems.push(`${name} depends on ${dep}, which is not running`);
      if (cfg.condition === 'service_healthy' && services[dep] && !services[dep].healthcheck?.test) problems.push(`${name} waits for ${dep} to be healthy, but it has no healthcheck`);
      if (cfg.condition === 'service_completed_successfully' && services[dep] && !ONE_SHOTS.has(dep)) problems.push(`${name} waits for long-running ${dep} to complete`);
    }
  }
  return problems;
}

describe('docker/compose.yaml', () => {
  const model = loadCompose(['compose.yaml'], SECRETS);
  const services = activeServices(model);

  it('is the whole product: datastores, mail catcher, migration and the five services', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'composer', 'inbound', 'mailer', 'mailpit', 'migrate', 'postgres', 'redis', 'scheduler']);
    expect(services.postgres.image).toMatch(/^postgres:16(\b|$)/);
    expect(services.redis.image).toMatch(/^redis:7(\b|$)/);
    expect(services.mailpit.image).toMatch(/^axllent\/mailpit/);
    expect(checkDependencies(services)).toEqual([]);
  });

  it('runs Redis the way BullMQ needs it: noeviction, AOF on', () => {
    const cmd = ([] as string[]).concat(services.redis.command ?? []).join(' ');
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
    expect(cmd).toMatch(/--appendonly yes/);
  });

  it('health-checks and restarts every long-running service; one-shots run once', () => {
    for (const [name, s] of Object.entries(services)) {
      if (ONE_SHOTS.has(name)) {
        expect([name, s.restart]).toEqual([name, 'no']);
        continue;
      }
      expect([name, s.restart]).toEqual([name, 'unless-stopped']);
      expect([name, Boolean(s.healthcheck?.test) && !s.healthcheck?.disable]).toEqual([name, true]);
    }
    expect(services.migrate.healthcheck?.disable).toBe(true);
  });

  it('builds the one image from the repo root', () => {
    for (const name of [...APPS, 'migrate']) {
      const s = services[name];
      expect(s.build?.context).toBe('..');
      expect(existsSync(join(DOCKER_DIR, s.build!.context, s.build!.dockerfile!))).toBe(true);
      expect(s.image).toBe(services.api.image);
    }
  });

  it('starts the services after a successful migration, each on its own port', () => {
    expect(envOf(services.migrate).APP).toBe('migrate');
    expect(services.migrate.depends_on?.postgres?.condition).toBe('service_healthy');
    for (const app of APPS) {
      const s = services[app];
      const env = envOf(s);
      expect(env.APP).toBe(app);
      expect(env.PORT).toBe(String(DEFAULT_PORTS[app]));
      expect(s.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(s.healthcheck?.test).toEqual(['CMD', 'node', '/app/docker/healthcheck.cjs']);
      expect(s.read_only).toBe(true);
      expect(s.cap_drop).toEqual(['ALL']);
    }
    expect(services.api.ports).toContain('3000:3000');
    expect(services.inbound.ports).toEqual(expect.arrayContaining(['3001:3001', '2525:2525']));
    expect(services.mailpit.ports).toContain('8025:8025');
  });

  it("gives every service a production configuration the config schema accepts", () => {
    for (const name of [...APPS, 'migrate']) {
      const env = envOf(services[name]);
      expect([name, env.NODE_ENV]).toEqual([name, 'production']);
      expect(() => parseConfig(env)).not.toThrow();
      expect([name, missingExplicitKeys(env)]).toEqual([name, []]);
      const config = parseConfig(env);
      // addresses point at the compose services, not at the container itself
      expect(Object.keys(services)).toEqual(expect.arrayContaining([new URL(config.DATABASE_URL).hostname, new URL(config.REDIS_URL).hostname, new URL(config.SMTP_URL).hostname]));
      expect(llmConfigured(config)).toBe(false); // offline composer unless an LLM is configured
    }
  });

  it('gives running jobs time to finish on stop', () => {
    for (const app of APPS) {
      const config = parseConfig(envOf(services[app]));
      const grace = composeDurationMs(services[app].stop_grace_period ?? '10s');
      expect([app, grace >= config.SHUTDOWN_TIMEOUT_MS + 5000]).toEqual([app, true]);
    }
    const composer = parseConfig(envOf(services.composer));
    expect(composer.SHUTDOWN_TIMEOUT_MS).toBeGreaterThanOrEqual(composer.LLM_TIMEOUT_MS);
  });

  it('has no default secrets: without docker/.env it stops, naming the variable and the fix', () => {
    expect(() => loadCompose(['compose.yaml'])).toThrow(/WEBHOOK_SECRET and SESSION_SECRET in docker\/\.env \(openssl rand -hex 32/);
    expect(() => loadCompose(['compose.yaml'], { WEBHOOK_SECRET: SECRETS.WEBHOOK_SECRET })).toThrow(/SESSION_SECRET/);
  });

  it('takes overrides from the environment, and the schema still guards them', () => {
    const weak = activeServices(loadCompose(['compose.yaml'], { ...SECRETS, SESSION_SECRET: 'too-short' }));
    expect(envOf(weak.api).SESSION_SECRET).toBe('too-short');
    expect(() => parseConfig(envOf(weak.api))).toThrow(/SESSION_SECRET/);
    const remoteLlm = activeServices(loadCompose(['compose.yaml'], { ...SECRETS, LLM_BASE_URL: 'https://llm.example.com/v1', LLM_API_KEY: 'from-the-shell' }));
    expect(llmConfigured(parseConfig(envOf(remoteLlm.composer)))).toBe(true);
    expect(parseConfig(envOf(remoteLlm.composer)).LLM_API_KEY).toBe('from-the-shell');
  });
});

describe('docker/compose.yaml with the ollama profile', () => {
  const plain = activeServices(loadCompose(['compose.yaml'], SECRETS), ['ollama']);
  const wired = activeServices(loadCompose(['compose.yaml', 'compose.ollama.yaml'], SECRETS), ['ollama']);

  it('runs Ollama and pulls a small model once', () => {
    expect(Object.keys(plain)).toEqual(expect.arrayContaining(['ollama', 'ollama-pull']));
    expect(plain.ollama.healthcheck?.test).toBeDefined();
    const pull = ([] as string[]).concat(plain['ollama-pull'].entrypoint ?? [], plain['ollama-pull'].command ?? []);
    expect(pull).toEqual(['ollama', 'pull', 'qwen2.5:0.5b']);
    expect(envOf(plain['ollama-pull']).OLLAMA_HOST).toBe('http://ollama:11434');
    expect(checkDependencies(plain)).toEqual([]);
  });

  it('points the composer and the reply classifier at it, after the model is pulled', () => {
    expect(checkDependencies(wired)).toEqual([]);
    for (const app of ['composer', 'inbound']) {
      const config = parseConfig(envOf(wired[app]));
      expect(config.LLM_BASE_URL).toBe('http://ollama:11434/v1');
      expect(config.LLM_MODEL).toBe('qwen2.5:0.5b');
      expect(llmConfigured(config)).toBe(true);
      // the override adds dependencies; it keeps the migration one
      expect(wired[app].depends_on?.migrate?.condition).toBe('service_completed_successfully');
    }
    expect(wired.composer.depends_on?.['ollama-pull']?.condition).toBe('service_completed_successfully');
    // the other services stay offline
    for (const app of ['api', 'scheduler', 'mailer']) expect(llmConfigured(parseConfig(envOf(wired[app])))).toBe(false);
  });

  it('the override alone, without the profile, names services that would not run', () => {
    const withoutProfile = activeServices(loadCompose(['compose.yaml', 'compose.ollama.yaml'], SECRETS));
    expect(checkDependencies(withoutProfile)).toEqual(expect.arrayContaining([expect.stringMatching(/composer depends on ollama-pull/)]));
  });
});

describe('compose interpolation', () => {
  it('follows compose rules for defaults, required values and escapes', () => {
    expect(interpolate('${A:-x}', {})).toBe('x');
    expect(interpolate('${A:-x}', { A: '' })).toBe('x');
    expect(interpolate('${A-x}', { A: '' })).toBe('');
    expect(interpolate('${A:-Mentor <m@x.y>}', {})).toBe('Mentor <m@x.y>');
    expect(interpolate('pre-$A-post $$A', { A: '1' })).toBe('pre-1-post $A');
    expect(() => interpolate('${A:?set A}', {})).toThrow(/set A/);
  });
});
