#!/usr/bin/env node
/**
 * The system tools some test suites need, in one place: `npm test` runs this before Jest, and
 * .ci/run before `npm ci`. What is missing is installed from Debian/Ubuntu packages when it can be
 * (as root, or with passwordless sudo, on a machine with apt-get); otherwise it stops before any
 * test runs, with one line per missing tool and the command that gets it. Never a silent skip: a
 * suite that needs a tool always runs, so the tool must be here. Exit 0 = everything present.
 *
 * Node built-ins only (it runs before `npm ci`). Adding a tool is one entry in TOOLS.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** An executable on PATH (what execFileSync('name') would run), or undefined. */
function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** kubectl ≥ 1.27 embeds kustomize v5, which the k8s overlays need (Debian's kubernetes-client is older). */
function kubectlWithKustomize5() {
  if (!onPath('kubectl')) return false;
  try {
    const out = execFileSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return /^v?([5-9]|\d{2,})\./.test(JSON.parse(out).kustomizeVersion ?? '');
  } catch {
    return false;
  }
}

/**
 * tool: what a person would call it; present(): the same check the suites make; apt: the packages
 * that provide it (none: no package carries a usable version); get: the command for a person.
 */
export const TOOLS = [
  { tool: 'chromium', suites: 'browser tests', present: () => existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'), apt: ['chromium', 'fonts-dejavu-core'] },
  { tool: 'dovecot', suites: 'IMAP tests', present: () => existsSync('/usr/sbin/dovecot'), apt: ['dovecot-imapd'] },
  { tool: 'promtool', suites: 'PrometheusRule tests', present: () => Boolean(onPath('promtool')), apt: ['prometheus'] },
  {
    tool: 'kubectl (with kustomize v5)', suites: 'Kubernetes manifest tests', present: kubectlWithKustomize5, apt: [],
    get: 'install kubectl 1.27 or newer: https://kubernetes.io/docs/tasks/tools/#kubectl',
  },
  {
    // Debian bookworm's 1.18 cannot run named prepared statements in transaction mode: build 1.24.1.
    tool: 'PgBouncer 1.24', suites: 'Redis Cluster + PgBouncer tests', present: () => existsSync(process.env.PGBOUNCER_BIN ?? '/opt/pgbouncer-1.24/bin/pgbouncer'), apt: [],
    build: ['sh', 'scripts/install-pgbouncer.sh'], get: 'scripts/install-pgbouncer.sh (builds the checked Debian 1.24.1 source into /opt/pgbouncer-1.24)',
  },
];

const aptCommand = (packages) => `sudo apt-get install -y --no-install-recommends ${packages.join(' ')}`;

/** How packages can be installed here: a command prefix, or undefined (not Debian/Ubuntu, no root, no passwordless sudo). */
function installer() {
  if (!onPath('apt-get')) return undefined;
  if (process.getuid?.() === 0) return [];
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return undefined;
}

function run(prefix, args) {
  const [cmd, ...rest] = [...prefix, ...args];
  const res = spawnSync(cmd, rest, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return res.status === 0;
}

/** Returns the process exit code: 0 when every tool is present (after installing what it could). */
export function provision({ log = (m) => console.log(m), error = (m) => console.error(m) } = {}) {
  let missing = TOOLS.filter((t) => !t.present());
  const installable = missing.filter((t) => t.apt.length);
  const prefix = installable.length ? installer() : undefined;
  if (prefix && installable.length) {
    const packages = installable.flatMap((t) => t.apt);
    log(`test tools: installing ${packages.join(' ')} (apt-get)…`);
    if (run(prefix, ['apt-get', 'update', '-qq'])) run(prefix, ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages]);
    missing = TOOLS.filter((t) => !t.present());
  }
  // Tools no package carries in a usable version, built by their own script (which uses apt-get itself).
  const buildable = missing.filter((t) => t.build);
  if (buildable.length && installer()) {
    for (const t of buildable) {
      log(`test tools: building ${t.tool} (${t.build.join(' ')})…`);
      run([], t.build);
    }
    missing = TOOLS.filter((t) => !t.present());
  }
  if (!missing.length) return 0;
  error(`Some tests need tools this machine does not have (no test was run):`);
  for (const t of missing) error(`  ${t.tool} (${t.suites}): ${t.get ?? aptCommand(t.apt)}`);
  return 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(provision());
