/**
 * The scripts a fresh clone runs before anything else (issue 19): the install check `npm start`
 * and `npm test` make, the test-tool provisioning `npm test` and .ci/run share, and `npm test`
 * passing its arguments to Jest. Each runs as a real process; tools and installers are made
 * present or absent through PATH, never through a test switch in the scripts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const script = (name: string) => join(root, 'scripts', name);

describe('fresh clone scripts', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mz-fresh-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('ensure-install: npm ci only when node_modules does not match the lockfile', () => {
    const needed = (project: string): string | null => {
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', `import { installNeeded } from ${JSON.stringify(script('ensure-install.mjs'))}; console.log(JSON.stringify(installNeeded(${JSON.stringify(project)})));`], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(res.stderr);
      return JSON.parse(res.stdout);
    };
    const lock = (version: string) => JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'x' }, 'node_modules/a': { version }, 'node_modules/fsevents': { version: '2.3.3', optional: true } } });
    const setAge = (path: string, secondsAgo: number) => {
      const t = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(path, t, t);
    };

    it('says so when node_modules is missing', () => {
      writeFileSync(join(dir, 'package-lock.json'), lock('1.0.0'));
      expect(needed(dir)).toBe('node_modules is missing');
    });

    it('accepts an install npm recorded at the locked versions, stamps it, and then trusts the stamp', () => {
      writeFileSync(join(dir, 'package-lock.json'), lock('1.0.0'));
      mkdirSync(join(dir, 'node_modules'));
      // npm's own record: the optional package for another platform is absent, as on a real install.
      writeFileSync(join(dir, 'node_modules/.package-lock.json'), JSON.stringify({ packages: { 'node_modules/a': { version: '1.0.0' } } }));
      expect(needed(dir)).toBeNull();
      expect(existsSync(join(dir, 'node_modules/.mz-install-stamp'))).toBe(true);
      // With the stamp newer than the lockfile, npm's record is not even read.
      writeFileSync(join(dir, 'node_modules/.package-lock.json'), 'not json');
      expect(needed(dir)).toBeNull();
    });

    it('a checkout that only touched the lockfile is confirmed by hash; a changed lockfile needs an install', () => {
      writeFileSync(join(dir, 'package-lock.json'), lock('1.0.0'));
      mkdirSync(join(dir, 'node_modules'));
      writeFileSync(join(dir, 'node_modules/.package-lock.json'), JSON.stringify({ packages: { 'node_modules/a': { version: '1.0.0' } } }));
      expect(needed(dir)).toBeNull();
      setAge(join(dir, 'node_modules/.mz-install-stamp'), 60);
      expect(needed(dir)).toBeNull(); // same content, newer mtime
      writeFileSync(join(dir, 'package-lock.json'), lock('1.0.1'));
      setAge(join(dir, 'node_modules/.mz-install-stamp'), 60);
      expect(needed(dir)).toBe('package-lock.json changed since the last install');
    });

    it('an unstamped install older than the lockfile needs an install', () => {
      writeFileSync(join(dir, 'package-lock.json'), lock('2.0.0'));
      mkdirSync(join(dir, 'node_modules'));
      writeFileSync(join(dir, 'node_modules/.package-lock.json'), JSON.stringify({ packages: { 'node_modules/a': { version: '1.0.0' } } }));
      expect(needed(dir)).toBe('node_modules is older than package-lock.json');
      rmSync(join(dir, 'node_modules/.package-lock.json'));
      expect(needed(dir)).toBe('node_modules was not installed from package-lock.json');
    });

    it('this checkout is installed: the check takes milliseconds', () => {
      needed(root); // may write the stamp
      const t0 = process.hrtime.bigint();
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', `import { installNeeded } from ${JSON.stringify(script('ensure-install.mjs'))}; const t = performance.now(); const r = installNeeded(${JSON.stringify(root)}); console.log(JSON.stringify({ r, ms: performance.now() - t }));`], { encoding: 'utf8' });
      const out = JSON.parse(res.stdout);
      expect(out.r).toBeNull();
      expect(out.ms).toBeLessThan(20);
      expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(5_000);
    });
  });

  describe('provision-test-tools', () => {
    const provision = (path: string, extra: Record<string, string> = {}) =>
      spawnSync(process.execPath, [script('provision-test-tools.mjs')], { encoding: 'utf8', env: { PATH: path, HOME: dir, ...extra }, timeout: 60_000 });

    it('on this machine every tool is present: exit 0, nothing printed', () => {
      const res = spawnSync(process.execPath, [script('provision-test-tools.mjs')], { encoding: 'utf8', timeout: 60_000 });
      expect(res.stderr).toBe('');
      expect(res.status).toBe(0);
    });

    it('without an installer, stops with one line per missing tool and the command that gets it', () => {
      const empty = join(dir, 'bin');
      mkdirSync(empty);
      const res = provision(empty, { CHROMIUM_PATH: join(dir, 'no-chromium'), PGBOUNCER_BIN: join(dir, 'no-pgbouncer') });
      expect(res.status).toBe(1);
      const lines = res.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/no test was run/);
      expect(lines).toContain('  chromium (browser tests): sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core');
      expect(lines).toContain('  promtool (PrometheusRule tests): sudo apt-get install -y --no-install-recommends prometheus');
      expect(lines).toContain('  kubectl (with kustomize v5) (Kubernetes manifest tests): install kubectl 1.27 or newer: https://kubernetes.io/docs/tasks/tools/#kubectl');
      expect(lines).toContain('  PgBouncer 1.24 (Redis Cluster + PgBouncer tests): scripts/install-pgbouncer.sh (builds the checked Debian 1.24.1 source into /opt/pgbouncer-1.24)');
      expect(res.stdout).not.toMatch(/installing|building/);
    });

    it('installs what it can with apt-get (through sudo -n when not root), re-checks, and names what is still missing', () => {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const calls = join(dir, 'calls');
      // A stand-in apt-get that records its arguments and "installs" prometheus by putting promtool on PATH.
      writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "apt-get $*" >> ${calls}\ncase "$*" in *prometheus*) printf '#!/bin/sh\\n' > ${bin}/promtool; /bin/chmod +x ${bin}/promtool;; esac\nexit 0\n`);
      writeFileSync(join(bin, 'sudo'), `#!/bin/sh\n[ "$1" = "-n" ] && shift\n"$@"\n`);
      chmodSync(join(bin, 'apt-get'), 0o755);
      chmodSync(join(bin, 'sudo'), 0o755);
      const res = provision(bin, { CHROMIUM_PATH: join(dir, 'no-chromium') });
      const recorded = readFileSync(calls, 'utf8').trim().split('\n');
      expect(recorded[0]).toBe('apt-get update -qq');
      expect(recorded[1]).toBe('apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core prometheus');
      expect(res.stdout).toContain('test tools: installing chromium fonts-dejavu-core prometheus (apt-get)');
      // promtool arrived; chromium did not (our stand-in never creates it) and kubectl has no package.
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('  chromium (browser tests)');
      expect(res.stderr).not.toContain('promtool');
      expect(res.stderr).toContain('kubectl (with kustomize v5)');
    });

    it('a kubectl without kustomize v5 does not count', () => {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho '{"clientVersion":{"gitVersion":"v1.20.0"},"kustomizeVersion":"v2.0.3"}'\n`);
      chmodSync(join(bin, 'kubectl'), 0o755);
      expect(provision(bin).stderr).toContain('kubectl (with kustomize v5)');
      writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\necho '{"clientVersion":{"gitVersion":"v1.31.0"},"kustomizeVersion":"v5.4.2"}'\n`);
      expect(provision(bin).stderr).not.toContain('kubectl');
    });
  });

  describe('npm test', () => {
    it('passes its arguments to Jest', () => {
      const res = spawnSync(process.execPath, [script('test.mjs'), '--listTests', 'libs/schedule'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(res.status).toBe(0);
      const listed = res.stdout.trim().split('\n').filter((l) => l.endsWith('.ts'));
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((l) => l.includes('/libs/schedule/'))).toBe(true);
    });

    it('stops before Jest when a tool is missing', () => {
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      const res = spawnSync(process.execPath, [script('test.mjs'), '--listTests', 'libs/schedule'], {
        cwd: root, encoding: 'utf8', timeout: 60_000, env: { PATH: bin, HOME: dir, CHROMIUM_PATH: join(dir, 'no-chromium') },
      });
      expect(res.status).toBe(1);
      expect(res.stderr).toContain('chromium (browser tests)');
      expect(res.stdout).not.toContain('libs/schedule');
    });
  });
});
