/** Where the IMAP poller reads: parsed from INBOUND_IMAP_URL. */
export interface ImapTarget {
  host: string;
  port: number;
  /** imaps:// → TLS from the first byte; imap:// → STARTTLS when the server offers it. */
  secure: boolean;
  user: string;
  pass: string;
  /** The mailbox polled for UNSEEN mail (the URL path; INBOX when empty). */
  mailbox: string;
  /** Optional `?processed=<folder>`: stored messages are moved there after being flagged \Seen. */
  processedMailbox: string | null;
}

/**
 * `imap://user:pass@host:port/INBOX?processed=Processed` (user and password percent-encoded;
 * imaps:// for implicit TLS; ports default to 143 / 993).
 */
export function parseImapUrl(value: string): ImapTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('INBOUND_IMAP_URL is not a URL');
  }
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'imap' && scheme !== 'imaps') throw new Error('INBOUND_IMAP_URL must start with imap:// or imaps://');
  if (!url.hostname) throw new Error('INBOUND_IMAP_URL has no host');
  if (!url.username) throw new Error('INBOUND_IMAP_URL has no user');
  const secure = scheme === 'imaps';
  const mailbox = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, '')) || 'INBOX';
  const processed = url.searchParams.get('processed');
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 993 : 143,
    secure,
    user: decodeURIComponent(url.username),
    pass: decodeURIComponent(url.password),
    mailbox,
    processedMailbox: processed && processed.trim() ? processed.trim() : null,
  };
}
