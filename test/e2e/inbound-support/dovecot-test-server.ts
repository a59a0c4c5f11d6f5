/**
 * A private Dovecot IMAP server for tests: its own config in a temp dir (loopback on a free
 * port, passwd-file auth with one test user, maildir in the temp dir, no SSL), run as a normal
 * foreground process (`dovecot -F`) and stopped by the test. It never touches a system Dovecot.
 * Needs Debian's `dovecot-imapd` (.ci/run installs it).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { freePort } from '../../support/services';

export const DOVECOT_BIN = '/usr/sbin/dovecot';
const NOBODY = 65534;

export class DovecotTestServer {
  readonly user = 'replies';
  readonly pass = 'imap-test-password';
  private proc: ChildProcess | null = null;

  private constructor(readonly dir: string, readonly port: number) {}

  static available(): boolean {
    return existsSync(DOVECOT_BIN);
  }

  static async start(): Promise<DovecotTestServer> {
    if (!DovecotTestServer.available()) throw new Error(`${DOVECOT_BIN} not found: apt-get install dovecot-imapd`);
    const dir = await mkdtemp(join(tmpdir(), 'mz-dovecot-'));
    const server = new DovecotTestServer(dir, await freePort());
    await server.writeConfig();
    await server.launch();
    return server;
  }

  /** imap://user:pass@127.0.0.1:port/INBOX (add `?processed=Folder` to have messages moved). */
  get url(): string {
    return `imap://${this.user}:${encodeURIComponent(this.pass)}@127.0.0.1:${this.port}/INBOX`;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** A logged-in client for the test's own checks (append, flags, folders). Log out when done. */
  async client(): Promise<ImapFlow> {
    const c = new ImapFlow({ host: '127.0.0.1', port: this.port, secure: false, auth: { user: this.user, pass: this.pass }, logger: false, disableAutoIdle: true });
    c.on('error', () => undefined);
    await c.connect();
    return c;
  }

  async append(raw: Buffer, flags: string[] = [], mailbox = 'INBOX'): Promise<void> {
    const c = await this.client();
    try {
      await c.append(mailbox, raw, flags);
    } finally {
      await c.logout();
    }
  }

  /** Every message in a mailbox with its flags (a missing folder has none). */
  async messages(mailbox = 'INBOX'): Promise<{ messageId: string; flags: string[] }[]> {
    const c = await this.client();
    const out: { messageId: string; flags: string[] }[] = [];
    try {
      const lock = await c.getMailboxLock(mailbox).catch(() => null);
      if (!lock) return out;
      try {
        const exists = c.mailbox && typeof c.mailbox === 'object' ? c.mailbox.exists : 0;
        if (!exists) return out;
        for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true })) {
          out.push({ messageId: m.envelope?.messageId ?? `uid:${m.uid}`, flags: [...(m.flags ?? new Set<string>())] });
        }
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
    return out;
  }

  /**
   * Stops the whole instance: the master and every process it forked (imap sessions outlive a
   * master that exits alone, and would keep serving open connections). They share the process
   * group the master was started in, so the group is signalled — never any other Dovecot.
   */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || !proc.pid) return;
    const group = -proc.pid;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(group, sig);
      } catch {
        // group already gone
      }
    };
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    signal('SIGKILL'); // stragglers (imap, log, stats) that did not exit with the master
  }

  /** Stop and start again on the same port with the same mail (a server restart). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async log(): Promise<string> {
    return readFile(join(this.dir, 'dovecot.log'), 'utf8').catch(() => '');
  }

  private async writeConfig(): Promise<void> {
    const root = process.getuid?.() === 0;
    const me = userInfo();
    // As root, mail processes must not run as root: they run as nobody and own the mail dir.
    const mailUid = root ? NOBODY : me.uid;
    const mailGid = root ? NOBODY : me.gid;
    const home = join(this.dir, 'home');
    await mkdir(join(home, this.user), { recursive: true });
    await chmod(this.dir, 0o755);
    if (root) {
      await chown(home, mailUid, mailGid);
      await chown(join(home, this.user), mailUid, mailGid);
    }
    await writeFile(join(this.dir, 'passwd'), `${this.user}:{PLAIN}${this.pass}::::::\n`, { mode: 0o644 });
    const unprivileged = root
      ? ''
      : `default_internal_user = ${me.username}\ndefault_login_user = ${me.username}\ndefault_internal_group = ${me.username}\nservice anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}\n`;
    const config = `# generated by DovecotTestServer
base_dir = ${join(this.dir, 'run')}
state_dir = ${join(this.dir, 'state')}
instance_name = mz-test-${this.port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = ${join(this.dir, 'dovecot.log')}
mail_location = maildir:~/Maildir
first_valid_uid = ${Math.min(mailUid, 500)}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${join(this.dir, 'passwd')}
}
userdb {
  driver = static
  args = uid=${mailUid} gid=${mailGid} home=${home}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.port}
  }
  inet_listener imaps {
    port = 0
  }
}
${unprivileged}`;
    await writeFile(join(this.dir, 'dovecot.conf'), config);
  }

  private async launch(): Promise<void> {
    // detached: its own process group, so stop() can end the master and all its children at once.
    const proc = spawn(DOVECOT_BIN, ['-F', '-c', join(this.dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    this.proc = proc;
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`dovecot exited (${proc.exitCode}): ${out}\n${await this.log()}`);
      if (await greets(this.port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`dovecot did not listen on ${this.port}: ${out}\n${await this.log()}`);
  }
}

/** True once the port answers with an IMAP greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('data', (b) => done(b.toString().startsWith('* OK')));
    s.once('error', () => done(false));
  });
}
