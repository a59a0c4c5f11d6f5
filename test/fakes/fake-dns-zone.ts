/**
 * A DNS zone in memory for mailauth's `resolver` option (SPF, DKIM, DMARC, ARC lookups): tests
 * never reach the internet. Records come from zone-file lines (what `npm run mz -- dns-records`
 * prints) or are added directly. A name can be made to fail (SERVFAIL) to prove a DNS failure
 * yields temperror, never a pass. No Jest imports.
 */
type Rrtype = 'TXT' | 'MX' | 'A' | 'AAAA' | string;

function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code, hostname: name });
}

export class FakeDnsZone {
  private readonly records = new Map<string, unknown[]>();
  private readonly failing = new Set<string>();
  /** Every query, `<name> <type>`, in order. */
  readonly queries: string[] = [];

  private key(name: string, type: Rrtype): string {
    return `${name.toLowerCase().replace(/\.$/, '')} ${type.toUpperCase()}`;
  }

  /** A TXT record: its strings as a resolver returns them (one array per record). */
  txt(name: string, ...strings: string[]): this {
    const k = this.key(name, 'TXT');
    this.records.set(k, [...(this.records.get(k) ?? []), strings]);
    return this;
  }

  mx(name: string, exchange: string, priority = 10): this {
    const k = this.key(name, 'MX');
    this.records.set(k, [...(this.records.get(k) ?? []), { exchange: exchange.replace(/\.$/, ''), priority }]);
    return this;
  }

  a(name: string, address: string): this {
    const k = this.key(name, address.includes(':') ? 'AAAA' : 'A');
    this.records.set(k, [...(this.records.get(k) ?? []), address]);
    return this;
  }

  /** Every lookup of `name` (any type) fails with SERVFAIL. */
  fail(name: string): this {
    this.failing.add(name.toLowerCase().replace(/\.$/, ''));
    return this;
  }

  /** Zone-file lines `name. ttl IN TYPE rdata`; comments (`;`) and blank lines skipped. */
  load(lines: string[]): this {
    for (const line of lines) {
      const l = line.trim();
      if (!l || l.startsWith(';')) continue;
      const m = /^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?(TXT|MX|A|AAAA)\s+(.+)$/.exec(l);
      if (!m) throw new Error(`not a zone line: ${l}`);
      const [, name, type, rdata] = m;
      if (type === 'TXT') this.txt(name, ...[...rdata.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1].replace(/\\(.)/g, '$1')));
      else if (type === 'MX') {
        const [prio, host] = rdata.split(/\s+/);
        this.mx(name, host, Number(prio));
      } else this.a(name, rdata.trim());
    }
    return this;
  }

  /** mailauth's DNSResolver: (name, rrtype) → records, ENOTFOUND/ENODATA when absent. */
  readonly resolver = async (name: string, rrtype: string): Promise<never> => {
    this.queries.push(`${name} ${rrtype}`);
    const host = name.toLowerCase().replace(/\.$/, '');
    if ([...this.failing].some((f) => host === f || host.endsWith(`.${f}`))) throw dnsError('ESERVFAIL', name);
    const found = this.records.get(this.key(name, rrtype));
    if (found?.length) return found as never;
    const anyType = [...this.records.keys()].some((k) => k.startsWith(`${host} `));
    throw dnsError(anyType ? 'ENODATA' : 'ENOTFOUND', name);
  };
}
