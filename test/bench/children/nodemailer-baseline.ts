/**
 * The R2 baseline: raw pooled nodemailer sending to the same SMTP sink, with the mailer's pool size
 * and messages per connection and the same number of sends in flight as the mailer's worker
 * concurrency — SMTP and MIME encoding only: no queue, no database, no ledger.
 */
import { createTransport, type Transporter } from 'nodemailer';
import { requireEnv, serve } from './child-ipc';

/** A letter as the mailer's renderLetterMail produced it (same headers, text and HTML), sent N times. */
interface MailTemplate {
  from: string;
  replyTo?: string;
  subject: string;
  headers: Record<string, string>;
  text: string;
  html: string;
}

interface RunArgs {
  n: number;
  concurrency: number;
  mail: MailTemplate;
  replyDomain: string;
}

async function main(): Promise<void> {
  const transport: Transporter = createTransport({
    url: requireEnv('SMTP_URL'),
    pool: true,
    maxConnections: Number(requireEnv('SMTP_POOL_SIZE')),
    maxMessages: Number(requireEnv('SMTP_MAX_MESSAGES')),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  let round = 0;
  serve({
    run: async ({ n, concurrency, mail, replyDomain }: RunArgs) => {
      round++;
      let next = 0;
      const startedAt = Date.now();
      const sendOne = async (i: number) => {
        const id = `baseline-${round}-${i}`;
        await transport.sendMail({
          ...mail,
          to: `reader-${i}@bench.example`,
          messageId: `<mz.${id}@${replyDomain}>`,
          headers: { ...mail.headers, 'X-MZ-Letter': id },
          disableFileAccess: true,
          disableUrlAccess: true,
        });
      };
      const lane = async () => {
        while (next < n) await sendOne(next++);
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      return { startedAt, endedAt: Date.now(), sent: n };
    },
  });
  process.on('SIGTERM', () => {
    transport.close();
    process.exit(0);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
