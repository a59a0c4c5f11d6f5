/**
 * The container image, checked offline (no Docker engine here): docker/Dockerfile parsed with
 * dockerfile-ast for its structure, and the two scripts the image runs — the entrypoint and the
 * HEALTHCHECK — executed for real against stand-in service binaries and a local HTTP server.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DockerfileParser, From, Instruction } from 'dockerfile-ast';
import { REPO_ROOT } from './support/kube-manifests';
import { tempDir } from './support/monitoring-queries';

const DOCKER_DIR = join(REPO_ROOT, 'docker');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DEFAULT_PORTS, healthUrl } = require('../../docker/healthcheck.cjs') as {
  DEFAULT_PORTS: Record<string, number>;
  healthUrl(env: Record<string, string | undefined>): string | undefined;
};

interface Stage {
  from: From;
  name: string | null;
  base: string;
  instructions: Instruction[];
}

function parseDockerfile(): { stages: Stage[]; text: string } {
  const text = readFileSync(join(DOCKER_DIR, 'Dockerfile'), 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const globalArgs = Object.fromEntries(
    dockerfile.getInitialARGs().map((a) => {
      const [k, v] = (a.getArgumentsContent() ?? '').split('=');
      return [k, v ?? ''];
    }),
  );
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) {
      const base = (instruction.getImage() ?? '').replace(/\$\{(\w+)\}|\$(\w+)/g, (_m, a, b) => globalArgs[a ?? b] ?? '');
      stages.push({ from: instruction, name: instruction.getBuildStage(), base, instructions: [] });
    } else if (stages.length) stages[stages.length - 1].instructions.push(instruction);
  }
  return { stages, text };
}

const keyword = (i: Instruction) => i.getKeyword().toUpperCase();
const args = (i: Instruction) => (i.getArgumentsContent() ?? '').replace(/\\\n/g, ' ');
const flags = (i: Instruction): Record<string, string | null> =>
  Object.fromEntries(((i as unknown as { getFlags?: () => { getName(): string; getValue(): string | null }[] }).getFlags?.() ?? []).map((f) => [f.getName(), f.getValue()]));
/** Exec-form (JSON array) arguments, or undefined for shell form. */
function execForm(content: string): string[] | undefined {
  try {
    const parsed = JSON.parse(content);
    return Array.isArray(parsed) && parsed.every((s) => typeof s === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

describe('docker/Dockerfile', () => {
  const { stages } = parseDockerfile();
  const final = stages[stages.length - 1];
  const byName = (name: string) => stages.find((s) => s.name === name);
  const finalOf = (k: string) => final.instructions.filter((i) => keyword(i) === k);

  it('is multi-stage on node:20-bookworm-slim with named stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.name).toBeTruthy();
    expect(final.base).toBe('node:20-bookworm-slim');
  });

  it('builds with `npm ci` then `npm run build`, copying everything the build script reads', () => {
    const buildStage = stages.find((s) => s.instructions.some((i) => keyword(i) === 'RUN' && /npm run build/.test(args(i))))!;
    expect(buildStage).toBeDefined();
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toBe('node scripts/build.mjs');
    // the build stage (or the stage it builds on) installed the full tree with npm ci
    const lineage: Stage[] = [];
    for (let s: Stage | undefined = buildStage; s; s = byName(s.base)) lineage.push(s);
    const runs = lineage.flatMap((s) => s.instructions.filter((i) => keyword(i) === 'RUN').map(args));
    expect(runs.some((r) => /npm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    const copied = lineage.flatMap((s) => s.instructions.filter((i) => keyword(i) === 'COPY' && !flags(i).from).flatMap((i) => args(i).split(/\s+/).slice(0, -1)));
    // docs: apps/api/build.mjs copies the two pages the api renders (/guide, /architecture) into dist/.
    for (const needed of ['package.json', 'package-lock.json', '.swcrc', 'scripts', 'libs', 'apps', 'docs/guide.md', 'docs/architecture.md']) expect(copied).toContain(needed);
    for (const src of copied) expect([src, existsSync(join(REPO_ROOT, src))]).toEqual([src, true]);
  });

  it('ships production dependencies only in the final stage', () => {
    const finalRuns = finalOf('RUN').map(args);
    expect(finalRuns.filter((r) => /npm (ci|install|i)\b/.test(r))).toEqual([]);
    const copiesFrom = finalOf('COPY').filter((i) => flags(i).from);
    const nodeModules = copiesFrom.filter((i) => /node_modules/.test(args(i)));
    expect(nodeModules).toHaveLength(1);
    const source = byName(flags(nodeModules[0]).from!)!;
    const installs = source.instructions.filter((i) => keyword(i) === 'RUN' && /npm (ci|install|i)\b/.test(args(i))).map(args);
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install).toMatch(/--omit=dev/);
    // the only other thing taken from a build stage is the compiled output
    for (const copy of copiesFrom.filter((i) => i !== nodeModules[0])) expect(args(copy)).toMatch(/^\/app\/dist\s/);
  });

  it('runs as the non-root node user, with tini as PID 1 and an exec-form entrypoint', () => {
    const users = finalOf('USER').map(args);
    expect(users.length).toBeGreaterThan(0);
    const user = users[users.length - 1];
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toBe('node'); // uid 1000 in the official image; k8s runs with runAsUser 1000
    const userLine = finalOf('USER').at(-1)!.getRange().start.line;
    const entrypoints = finalOf('ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    expect(entrypoints[0].getRange().start.line).toBeGreaterThan(userLine);
    const entry = execForm(args(entrypoints[0]));
    expect(entry).toBeDefined();
    expect(entry!.slice(0, 2)).toEqual(['/usr/bin/tini', '--']);
    expect(finalOf('RUN').some((i) => /apt-get install[^&]*\btini\b/.test(args(i)))).toBe(true);
    // the script it runs is copied into the image, executable
    const script = entry![2];
    const copy = finalOf('COPY').find((i) => args(i).split(/\s+/).at(-1) === script.replace(/^\/app\//, './'));
    expect(copy).toBeDefined();
    expect(flags(copy!).chmod).toMatch(/^0?7[57][57]$/);
  });

  it('has a HEALTHCHECK that uses node (no curl in the slim image)', () => {
    const checks = finalOf('HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const content = args(checks[0]);
    const cmd = execForm(content.replace(/^CMD\s+/, ''));
    expect(content.startsWith('CMD')).toBe(true);
    expect(cmd?.[0]).toBe('node');
    const copied = finalOf('COPY').some((i) => cmd![1] === `/app/${args(i).split(/\s+/).at(-1)!.replace(/^\.\//, '')}`);
    expect(copied).toBe(true);
    expect(flags(checks[0])).toMatchObject({ interval: expect.any(String), timeout: expect.any(String) });
  });

  it('keeps node_modules, build output, git and env files out of the build context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const pattern of ['**/node_modules', 'dist', '.git', '**/.env']) expect(ignored).toContain(pattern);
    // nothing the build copies is ignored
    for (const needed of ['apps', 'libs', 'scripts', 'package.json', 'package-lock.json', '.swcrc', 'docker/entrypoint.sh', 'docker/healthcheck.cjs']) expect(ignored).not.toContain(needed);
    // docs/ is left out except the two pages the build copies, re-included after the exclusion.
    for (const doc of ['docs/guide.md', 'docs/architecture.md']) {
      expect(ignored).toContain(`!${doc}`);
      expect(ignored.indexOf(`!${doc}`)).toBeGreaterThan(ignored.indexOf('docs/*'));
    }
  });
});

describe('docker/entrypoint.sh', () => {
  let root: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    // A stand-in /app: the real script, and service/cli binaries that report what ran.
    root = tempDir('mz-entrypoint-');
    mkdirSync(join(root, 'docker'));
    cpSync(join(DOCKER_DIR, 'entrypoint.sh'), join(root, 'docker', 'entrypoint.sh'));
    for (const app of Object.keys(DEFAULT_PORTS)) {
      mkdirSync(join(root, 'dist', 'apps', app, 'src'), { recursive: true });
      writeFileSync(join(root, 'dist', 'apps', app, 'src', 'main.js'), `
        const fs = require('node:fs');
        fs.writeFileSync(process.env.REPORT, JSON.stringify({ app: ${JSON.stringify(app)}, pid: process.pid, cwd: process.cwd() }));
        process.on('SIGTERM', () => { fs.appendFileSync(process.env.REPORT + '.signals', 'SIGTERM'); process.exit(0); });
        setInterval(() => {}, 1000);
      `);
    }
    mkdirSync(join(root, 'dist', 'apps', 'ops', 'src'), { recursive: true });
    writeFileSync(join(root, 'dist', 'apps', 'ops', 'src', 'main.js'), `
      require('node:fs').writeFileSync(process.env.REPORT, JSON.stringify({ argv: process.argv.slice(2), pid: process.pid }));
      process.exit(process.argv[2] === 'frobnicate' ? 2 : 0);
    `);
    mkdirSync(join(root, 'dist', 'libs', 'db', 'src'), { recursive: true });
    writeFileSync(join(root, 'dist', 'libs', 'db', 'src', 'cli.js'), `
      require('node:fs').appendFileSync(process.env.REPORT, process.argv[2] + '\\n');
      if (process.env.FAIL_STEP === process.argv[2]) process.exit(3);
    `);
  });

  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  });

  function run(env: Record<string, string>, argv: string[] = []) {
    const report = join(root, `report-${Math.random().toString(36).slice(2)}`);
    const result = spawnSync('sh', [join(root, 'docker', 'entrypoint.sh'), ...argv], { env: { PATH: process.env.PATH!, REPORT: report, ...env }, encoding: 'utf8', timeout: 20_000 });
    return { ...result, report };
  }

  it('execs the chosen service so SIGTERM reaches node directly, and exits with its code', async () => {
    const report = join(root, 'report-exec');
    const child = spawn('sh', [join(root, 'docker', 'entrypoint.sh')], { env: { PATH: process.env.PATH!, REPORT: report, APP: 'mailer' }, stdio: 'ignore' });
    children.push(child);
    const started = Date.now();
    while (!existsSync(report) && Date.now() - started < 15_000) await new Promise((r) => setTimeout(r, 50));
    const info = JSON.parse(readFileSync(report, 'utf8'));
    expect(info.app).toBe('mailer');
    // `exec`: node replaced the shell, so it is the very process that was started
    expect(info.pid).toBe(child.pid);
    expect(info.cwd).toBe(root);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(readFileSync(`${report}.signals`, 'utf8')).toBe('SIGTERM');
  });

  it('accepts the service as the first argument too', () => {
    const child = spawn('sh', [join(root, 'docker', 'entrypoint.sh'), 'inbound'], { env: { PATH: process.env.PATH!, REPORT: join(root, 'report-arg') }, stdio: 'ignore' });
    children.push(child);
    return new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (existsSync(join(root, 'report-arg'))) {
          clearInterval(poll);
          try {
            expect(JSON.parse(readFileSync(join(root, 'report-arg'), 'utf8')).app).toBe('inbound');
            child.kill('SIGTERM');
            resolve();
          } catch (err) {
            reject(err);
          }
        } else if (Date.now() - started > 15_000) {
          clearInterval(poll);
          reject(new Error('inbound did not start'));
        }
      }, 50);
    });
  });

  it('runs the operator CLI for `mz <command>` (or APP=mz), passing its arguments and exit code through', () => {
    const first = run({}, ['mz', 'redrive', '--since', '2026-12-01', '--dry-run']);
    expect(first.status).toBe(0);
    expect(JSON.parse(readFileSync(first.report, 'utf8')).argv).toEqual(['redrive', '--since', '2026-12-01', '--dry-run']);
    const byEnv = run({ APP: 'mz' }, ['schedule-now']);
    expect(JSON.parse(readFileSync(byEnv.report, 'utf8')).argv).toEqual(['schedule-now']);
    expect(run({}, ['mz', 'frobnicate']).status).toBe(2);
  });

  it('APP=migrate runs migrations, then seed, and stops at a failed migration', () => {
    const ok = run({ APP: 'migrate' });
    expect(ok.status).toBe(0);
    expect(readFileSync(ok.report, 'utf8')).toBe('migrate\nseed\n');
    const failed = run({ APP: 'migrate', FAIL_STEP: 'migrate' });
    expect(failed.status).toBe(3);
    expect(readFileSync(failed.report, 'utf8')).toBe('migrate\n');
    const only = run({ APP: 'migrate-only' });
    expect(only.status).toBe(0);
    expect(readFileSync(only.report, 'utf8')).toBe('migrate\n');
  });

  it('refuses an unknown or missing APP with a message naming the choices', () => {
    for (const env of [{ APP: 'worker' }, {}] as Record<string, string>[]) {
      const r = run(env);
      expect(r.status).toBe(64);
      expect(r.stderr).toMatch(/api, scheduler, composer, mailer, inbound, migrate/);
    }
  });
});

describe('docker/healthcheck.cjs', () => {
  let server: Server;
  let port: number;
  let status = 200;
  let delayMs = 0;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      const timer = setTimeout(() => {
        res.statusCode = status;
        res.end('{}');
      }, delayMs);
      res.on('close', () => clearTimeout(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const check = (env: Record<string, string>) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [join(DOCKER_DIR, 'healthcheck.cjs')], { env: { PATH: process.env.PATH!, ...env }, stdio: 'ignore' });
      child.on('exit', (code) => resolve(code));
    });

  it('passes when /health/live answers 2xx and fails otherwise', async () => {
    status = 200;
    expect(await check({ APP: 'api', PORT: String(port) })).toBe(0);
    expect(paths.at(-1)).toBe('/health/live');
    status = 503;
    expect(await check({ APP: 'api', PORT: String(port) })).toBe(1);
  });

  it('fails when nothing listens or the service hangs past the timeout', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await check({ APP: 'api', PORT: String(closedPort) })).toBe(1);
    status = 200;
    delayMs = 6000;
    expect(await check({ APP: 'api', PORT: String(port) })).toBe(1);
    delayMs = 0;
  }, 20_000);

  it("uses the service's default port without PORT, and has none for migrate", () => {
    expect(DEFAULT_PORTS).toEqual({ api: 3000, inbound: 3001, scheduler: 3002, composer: 3003, mailer: 3004 });
    expect(healthUrl({ APP: 'composer' })).toBe('http://127.0.0.1:3003/health/live');
    expect(healthUrl({ APP: 'composer', PORT: '8080' })).toBe('http://127.0.0.1:8080/health/live');
    expect(healthUrl({ APP: 'migrate' })).toBeUndefined();
  });
});
