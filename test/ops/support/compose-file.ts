/**
 * Reads docker/compose*.yaml the way `docker compose` does for what the specs check: YAML merge
 * keys, `${VAR}` / `${VAR:-default}` / `${VAR-default}` / `${VAR:?message}` interpolation from a
 * given environment (empty = a fresh checkout without docker/.env), and later files merged over
 * earlier ones (maps merged key by key, everything else replaced).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './kube-manifests';

export const DOCKER_DIR = join(REPO_ROOT, 'docker');

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  profiles?: string[];
  restart?: string;
  environment?: Record<string, string | number | boolean | null>;
  depends_on?: Record<string, { condition?: string; required?: boolean }>;
  healthcheck?: { test?: string[] | string; disable?: boolean; interval?: string; timeout?: string; retries?: number; start_period?: string };
  ports?: string[];
  command?: string[] | string;
  entrypoint?: string[] | string;
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
  [field: string]: unknown;
}

export interface ComposeModel {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Compose's interpolation for one string; throws for `${VAR:?msg}` when VAR is unset/empty. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name: string | undefined, colon: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      if (bare) return env[bare] ?? '';
      const current = env[name!];
      const missing = colon ? current === undefined || current === '' : current === undefined;
      if (op === '-') return missing ? interpolate(arg ?? '', env) : current!;
      if (op === '?') {
        if (missing) throw new Error(`required variable ${name} is missing: ${arg}`);
        return current!;
      }
      return current ?? '';
    });
}

function interpolateDeep(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  }
  return value;
}

function mergeDeep(base: unknown, over: unknown): unknown {
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = k in out ? mergeDeep(out[k], v) : v;
    return out;
  }
  return over;
}

/** Normalises the short forms compose accepts (list environment, list depends_on). */
function normaliseService(service: ComposeService): ComposeService {
  const s = { ...service };
  if (Array.isArray(s.environment)) {
    s.environment = Object.fromEntries((s.environment as string[]).map((kv) => {
      const i = kv.indexOf('=');
      return i < 0 ? [kv, null] : [kv.slice(0, i), kv.slice(i + 1)];
    }));
  }
  if (Array.isArray(s.depends_on)) {
    s.depends_on = Object.fromEntries((s.depends_on as string[]).map((d) => [d, { condition: 'service_started' }]));
  }
  return s;
}

export function readComposeRaw(file: string): Record<string, unknown> {
  return parse(readFileSync(join(DOCKER_DIR, file), 'utf8'), { merge: true }) as Record<string, unknown>;
}

/** The merged, interpolated model of compose files in `docker/`, like `docker compose config`. */
export function loadCompose(files: string[], env: Record<string, string | undefined> = {}): ComposeModel {
  let merged: unknown = {};
  for (const file of files) {
    const raw = readComposeRaw(file);
    // x-* extension fields are only anchors' homes; compose ignores them too.
    for (const key of Object.keys(raw)) if (key.startsWith('x-')) delete raw[key];
    const services = (raw.services ?? {}) as Record<string, ComposeService>;
    raw.services = Object.fromEntries(Object.entries(services).map(([k, v]) => [k, normaliseService(v ?? {})]));
    merged = mergeDeep(merged, interpolateDeep(raw, env));
  }
  return merged as ComposeModel;
}

/** Services that run with the given profiles active (no profile = always). */
export function activeServices(model: ComposeModel, profiles: string[] = []): Record<string, ComposeService> {
  return Object.fromEntries(Object.entries(model.services).filter(([, s]) => !s.profiles?.length || s.profiles.some((p) => profiles.includes(p))));
}

const DURATION_UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "1m30s", "500ms" → milliseconds (compose duration syntax). */
export function composeDurationMs(value: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|us|s|m|h)/g;
  let m: RegExpExecArray | null;
  let consumed = '';
  while ((m = re.exec(value))) {
    consumed += m[0];
    total += Number(m[1]) * DURATION_UNIT_MS[m[2]];
  }
  if (consumed !== value) throw new Error(`unparseable duration ${value}`);
  return total;
}

export function envOf(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).filter(([, v]) => v !== null).map(([k, v]) => [k, String(v)]));
}
