/**
 * The README's "Try it in five minutes", with the README's commands: `npm start` (the real start
 * script, its mail catcher and five services), a browser on the landing page, the sign-in link read
 * from the mail catcher, a topic turned on, "Send one now", `npm run reply -- <address> "<text>"`
 * through inbound SMTP, and the reply on the letters page and the streak on the settings page.
 * Around it, what a newcomer meets at the terminal: a quiet start, a second start refused at once
 * naming the busy port, and Ctrl-C freeing every port.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { eventually, portBelowEphemeral } from '../support/services';
import { createTestEnv, type TestEnv } from '../support/test-env';
import { launchBrowser, openPage, screenshot, type TrackedPage } from './browser-harness';

// Generous: each start builds and boots five services, and CI machines are shared.
jest.setTimeout(300_000);

const root = join(__dirname, '..', '..');
const EMAIL = 'walkthrough@example.org';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** `count` consecutive free ports (PORT_BASE moves the five HTTP ports together). */
async function freeRun(count: number): Promise<number> {
  const free = (port: number) => new Promise<boolean>((resolve) => {
    const s = createServer().once('error', () => resolve(false));
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = portBelowEphemeral(count);
    const all = await Promise.all(Array.from({ length: count }, (_, i) => free(base + i)));
    if (all.every(Boolean)) return base;
  }
  throw new Error('no run of free ports found');
}

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect({ host: '127.0.0.1', port }).once('connect', () => { socket.destroy(); resolve(true); }).once('error', () => resolve(false));
});

describe('README: try it in five minutes', () => {
  let env: TestEnv;
  let vars: Record<string, string>;
  let start: ChildProcess;
  let output = '';
  let browser: Browser;
  let tab: TrackedPage;
  let ports: number[];
  let base: string;
  let catcher: string;

  beforeAll(async () => {
    env = await createTestEnv();
    const first = await freeRun(8);
    // PORT_BASE.. +4: services; +5: inbound SMTP; +6/+7: the mail catcher's SMTP and web ports.
    ports = Array.from({ length: 8 }, (_, i) => first + i);
    base = `http://localhost:${first}`;
    catcher = `http://127.0.0.1:${first + 7}`;
    vars = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: env.databaseUrl,
      REDIS_URL: env.vars.REDIS_URL,
      QUEUE_PREFIX: env.vars.QUEUE_PREFIX,
      PORT_BASE: String(first),
      INBOUND_SMTP_PORT: String(first + 5),
      MAILDEV_SMTP_PORT: String(first + 6),
      MAILDEV_WEB_PORT: String(first + 7),
      RETRY_DELAY_SCALE: '0.01',
    };
    browser = await launchBrowser();
    tab = await openPage(browser);
  });

  afterAll(async () => {
    await browser?.close();
    if (start && start.exitCode === null && start.signalCode === null) {
      try {
        process.kill(-start.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await env?.dispose();
  });

  it('npm start comes up quietly: building, database, one ready line per service, the summary', async () => {
    // detached: its own process group, so the test can press "Ctrl-C" (SIGINT to the group) at the end.
    start = spawn(npm, ['start'], { cwd: root, env: vars, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    start.stdout!.on('data', (c) => (output += c.toString()));
    start.stderr!.on('data', (c) => (output += c.toString()));
    await eventually(async () => output.includes('Mentor Zero is running') || start.exitCode !== null, 'npm start to say running', 240_000, 200);
    expect(start.exitCode).toBeNull();
    for (const svc of ['api', 'inbound', 'scheduler', 'composer', 'mailer']) expect(output).toMatch(new RegExp(`${svc} ready on :\\d+`));
    expect(output).not.toMatch(/RoutesResolver|RouterExplorer|InstanceLoader|Mapped \{/);
    expect(output).toContain(`Web console        ${base}`);
    expect(output).toContain(`Mail catcher       http://localhost:${ports[7]}`);
    for (const port of ports) expect(await listening(port)).toBe(true);
  });

  it('a second npm start refuses in seconds, naming each busy port, with no stack trace and no "running"', () => {
    const t0 = Date.now();
    const second = spawnSync(npm, ['start'], { cwd: root, env: vars, encoding: 'utf8', timeout: 30_000 });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(second.status).toBe(1);
    const all = `${second.stdout}${second.stderr}`;
    expect(all).toContain(`port ${ports[0]} (api HTTP) is in use — is Mentor Zero already running?`);
    expect(all).toContain(`port ${ports[5]} (inbound SMTP) is in use`);
    expect(all).not.toMatch(/\n\s+at /);
    expect(all).not.toContain('running\u001b');
    expect(all).not.toContain('building');
  });

  it('signs in through the mail catcher; the API and the mail agree on how long the link works', async () => {
    // The message the API gives is the one the mail must agree with.
    const accepted = await (await fetch(`${base}/api/auth/login-link`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9' }, body: JSON.stringify({ email: 'other@example.org' }),
    })).json();
    const promised = /for (\d+) minutes/.exec(accepted.message)?.[1];
    expect(promised).toBeDefined();
    const otherMail = await eventually(async () => (await mailsTo('other@example.org'))[0], 'the other sign-in mail');
    expect(otherMail.text).toContain(`expires in ${promised} minutes`);

    const { page } = tab;
    await page.goto(`${base}/`);
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    const mail = await eventually(async () => (await mailsTo(EMAIL)).find((m) => /\/login\//.test(m.text ?? '')), 'the sign-in mail in the mail catcher');
    const link = /(http\S+\/login\/\S+)/.exec(mail.text)![1];
    await eventually(async () => (await page.goto(link))?.status() === 200, 'the confirm page', 10_000, 200);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your settings' }).waitFor();
  });

  it('chooses a topic, presses "Send one now", and the letter arrives in the mail catcher', async () => {
    const { page } = tab;
    const card = page.locator('section[data-topic="resilience"]');
    await card.getByRole('switch', { name: 'Daily letter' }).check();
    await card.getByTestId('save-resilience').click();
    await card.getByTestId('status-resilience').filter({ hasText: /^Saved\./ }).waitFor();
    await card.getByTestId('send-now-resilience').click();
    await eventually(async () => (await mailsTo(EMAIL)).find((m) => m.headers?.['x-mz-letter']), 'the letter in the mail catcher', 60_000, 250);
  });

  it('npm run reply answers the letter through inbound SMTP; the reply shows on the letters page and the streak moves', async () => {
    // Wrong input gets one line, never a stack trace and never a message sent.
    const reply = (...args: string[]) => spawnSync(npm, ['run', '--silent', 'reply', '--', ...args], { cwd: root, env: vars, encoding: 'utf8', timeout: 60_000 });
    const nobody = reply('nobody@example.org', 'Done');
    expect(nobody.status).toBe(1);
    expect(nobody.stderr.trim()).toMatch(/^no letter for nobody@example\.org in the mail catcher yet/);
    for (const bad of [reply('not-an-address', 'Done'), reply(EMAIL), reply(EMAIL, 'Done', '--smtp')]) {
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/usage: npm run reply -- <address>/);
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
    const noInbound = reply(EMAIL, 'Done', '--smtp', `127.0.0.1:${ports[6] + 1000}`);
    expect(noInbound.status).toBe(1);
    expect(noInbound.stderr).toMatch(/^the inbound service refused the reply/);

    const res = reply(EMAIL, 'Done — I tried the exercise this morning.');
    expect(`${res.stderr}`).toBe('');
    expect(res.status).toBe(0);
    expect(res.stdout).toMatch(/^replied to ".+" \(<.+>\) via .+@.+: 250/);

    const { page } = tab;
    await page.getByRole('link', { name: 'My letters' }).click();
    await page.getByRole('heading', { level: 1, name: 'My letters' }).waitFor();
    await eventually(async () => {
      if (await page.getByText('Done — I tried the exercise this morning.').first().isVisible()) return true;
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'My letters' }).waitFor();
      return false;
    }, 'the reply on the letters page', 60_000, 500);
    // Only the reply text is shown: the quoted letter below it was stripped.
    expect(await page.locator('.reply-text').first().innerText()).not.toContain('wrote:');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
    const meta = page.locator('section[data-topic="resilience"]').getByText(/Streak: 1 day/);
    await meta.waitFor();
    await screenshot(page, 'walkthrough-streak');
    expect(tab.problems).toEqual([]);
  });

  it('Ctrl-C stops everything and frees every port', async () => {
    // What the terminal does on Ctrl-C: SIGINT to the whole foreground group (npm, start, children).
    process.kill(-start.pid!, 'SIGINT');
    await new Promise<void>((resolve) => {
      if (start.exitCode !== null || start.signalCode !== null) resolve();
      else start.once('exit', () => resolve());
    });
    // npm itself may end by the signal; the start script below it stops its children and waits.
    await eventually(async () => !(await Promise.all(ports.map(listening))).some(Boolean), 'every port free', 40_000, 200);
    expect(output).toContain('stopping…');
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('starts again on the freed ports; --verbose brings back Nest\'s route map', async () => {
    let verboseOut = '';
    start = spawn(npm, ['start', '--', '--verbose'], { cwd: root, env: vars, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    start.stdout!.on('data', (c) => (verboseOut += c.toString()));
    start.stderr!.on('data', (c) => (verboseOut += c.toString()));
    await eventually(async () => verboseOut.includes('Mentor Zero is running') || start.exitCode !== null, 'npm start --verbose to say running', 240_000, 200);
    expect(verboseOut).toMatch(/\[RoutesResolver\]/);
    expect(verboseOut).toMatch(/\[RouterExplorer\] Mapped \{\/health\/ready, GET\} route/);
    process.kill(-start.pid!, 'SIGINT');
    await eventually(async () => !(await Promise.all(ports.map(listening))).some(Boolean), 'every port free again', 40_000, 200);
  });

  /** The mail catcher's REST API (MailDev), as `npm run reply` reads it. */
  async function mailsTo(address: string): Promise<Array<{ id: string; text: string; headers: Record<string, string> }>> {
    const all = (await (await fetch(`${catcher}/email`)).json()) as Array<{ id: string; text: string; headers: Record<string, string>; to: Array<{ address: string }> }>;
    return all.filter((m) => m.to.some((t) => t.address === address)).reverse();
  }
});
