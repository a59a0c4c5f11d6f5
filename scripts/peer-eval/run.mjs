#!/usr/bin/env node
/**
 * `node scripts/peer-eval/run.mjs [--mirrors <dir>] [--talon <git-dir>] [--zapier …] [--willdurand …]
 * [--crisp …] [--suite <name>] [--failures] [--json <file>] [--ours <extract-reply.ts>]`
 *
 * Measures `analyseReply` (no letter: the peers do not have ours) against the public test suites of
 * four reply parsers — mailgun/talon, zapier/email-reply-parser, willdurand/EmailReplyParser,
 * crisp-oss/email-reply-parser — with their fixtures and their own tests' expectations.
 * Their code and fixtures are not in this repository: each is read from a bare git mirror
 * (default `<mirrors>/<owner>+<name>/repo`, mirrors = /work/.mirror; `git clone --bare
 * https://github.com/<owner>/<name> <dir>` makes one), unpacked into a temporary directory.
 * cases.py (Python 3, standard library) turns the peers' tests into cases; expectations that only
 * the crisp library's output gives are computed here from crisp's own sources (bundled with
 * esbuild). See apps/inbound/src/analysis/README.md for what "right" and "words lost" mean.
 *
 * talon's tests call its quotation module (`talon.quotations.extract_from_*`), which removes
 * quoted history only: signatures are its separate `talon.signature` module, and forwards are
 * kept. Its cases are compared with our quotation stage's result, the message as stored
 * (`fullText`: history removed, signature and forwarded message kept). The other three suites
 * test full reply parsing (the visible reply) and are compared with the subscriber's own words
 * (`text`). An older extractor without `fullText` (`--ours`) is measured on `text` throughout.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

const { values } = parseArgs({
  options: {
    mirrors: { type: 'string', default: '/work/.mirror' },
    talon: { type: 'string' },
    zapier: { type: 'string' },
    willdurand: { type: 'string' },
    crisp: { type: 'string' },
    suite: { type: 'string' },
    failures: { type: 'boolean', default: false },
    json: { type: 'string' },
    // Another extract-reply.ts to measure (e.g. an older version from `git show`), same imports.
    ours: { type: 'string' },
  },
});
/** Suites whose tests test quotation removal only (see above). */
const QUOTATION_SUITES = new Set(['talon']);
const REPOS = { talon: 'mailgun+talon', zapier: 'zapier+email-reply-parser', willdurand: 'willdurand+EmailReplyParser', crisp: 'crisp-oss+email-reply-parser' };
const SUITES = Object.keys(REPOS);

const work = mkdtempSync(join(tmpdir(), 'mz-peer-eval-'));
try {
  const commits = {};
  for (const suite of SUITES) {
    const gitDir = values[suite] ?? join(values.mirrors, REPOS[suite], 'repo');
    const dir = join(work, suite);
    mkdirSync(dir);
    commits[suite] = execFileSync('git', ['--git-dir', gitDir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const tar = execFileSync('git', ['--git-dir', gitDir, 'archive', 'HEAD'], { maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
  }
  const cases = JSON.parse(execFileSync('python3', [join(here, 'cases.py'), work], { encoding: 'utf8', maxBuffer: 1 << 28 }));

  const esbuild = require('esbuild');
  const bundle = async (entry, name) => {
    const outfile = join(work, `${name}.mjs`);
    esbuild.buildSync({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'node', packages: 'external', outfile, logLevel: 'error',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
    return import(pathToFileURL(outfile).href);
  };

  // Expectations only crisp's library gives (no test names the text): its getVisibleText.
  const crisp = (await bundle(join(work, 'crisp/lib/emailreplyparser.ts'), 'crisp')).default;
  for (const c of cases) if (c.expected === null && !c.checks) c.expected = new crisp().read(c.input).getVisibleText();

  // Ours, compiled from the working tree; sanitize-html resolves from this repository.
  const oursFile = join(root, 'node_modules/.cache/mz-peer-eval-ours.mjs');
  mkdirSync(dirname(oursFile), { recursive: true });
  esbuild.buildSync({ entryPoints: [values.ours ?? join(root, 'apps/inbound/src/analysis/extract-reply.ts')], bundle: true, format: 'esm', platform: 'node',
    packages: 'external', outfile: oursFile, logLevel: 'error', tsconfig: join(root, 'tsconfig.base.json') });
  const { analyseReply } = await import(pathToFileURL(oursFile).href);

  // An HTML expectation is compared as its text: tags dropped, entities decoded.
  const text = (html) =>
    html
      .replace(/<[^>]*>/g, '')
      .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&nbsp;/g, ' ').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  // Whitespace normalised; zero-width characters count as whitespace (invisible either way).
  const norm = (s, how) => {
    const t = s.replace(/[\u200b-\u200d\u2060\ufeff]/g, ' ');
    return how === 'nospace' ? t.replace(/\s/g, '') : t.replace(/\s+/g, ' ').trim();
  };
  const words = (s) => s.match(/[\p{L}\p{N}]+/gu) ?? [];

  const results = [];
  for (const c of cases) {
    if (values.suite && c.suite !== values.suite) continue;
    const m = c.format === 'html' ? { text: '', html: c.input } : { text: c.input, html: null };
    const started = performance.now();
    const x = analyseReply(m);
    const ms = performance.now() - started;
    const r = { ...x, text: QUOTATION_SUITES.has(c.suite) && typeof x.fullText === 'string' ? x.fullText : x.text };
    // A test that only says what the reply contains: its checks, on our text (PHP/JS patterns).
    const expected = c.checks ? '' : c.format === 'html' ? text(c.expected) : c.expected;
    const right = c.checks
      ? c.checks.every((k) => new RegExp(k.re).test(r.text) !== !!k.not)
      : norm(r.text, c.compare) === norm(expected, c.compare);
    // Words of the expected reply missing from ours (counted as a multiset): each such case is read
    // by hand — the missing words may be the subscriber's, or a signature/attribution a peer keeps.
    const have = new Map();
    for (const w of words(r.text)) have.set(w, (have.get(w) ?? 0) + 1);
    const missing = [];
    if (c.compare === 'nospace') {
      // Whitespace-free expectations have no words: what of it is not found, in order, in ours.
      const want = norm(expected, 'nospace');
      const got = norm(r.text, 'nospace');
      let at = 0;
      for (const ch of want) {
        const k = got.indexOf(ch, at);
        if (k < 0) missing.push(ch);
        else at = k + 1;
      }
      if (missing.length) missing.splice(0, missing.length, missing.join(''));
    } else {
      for (const w of words(expected)) {
        const n = have.get(w) ?? 0;
        if (n > 0) have.set(w, n - 1);
        else missing.push(w);
      }
    }
    results.push({ ...c, expected, got: r.text, right, missing, reasons: r.reasons, ms });
  }

  console.log(`peer commits: ${SUITES.map((s) => `${s} ${commits[s].slice(0, 12)}`).join(', ')}`);
  let all = 0;
  let allRight = 0;
  for (const suite of SUITES) {
    const rs = results.filter((r) => r.suite === suite);
    if (!rs.length) continue;
    const right = rs.filter((r) => r.right).length;
    const lost = rs.filter((r) => !r.right && r.missing.length).length;
    const lib = rs.filter((r) => r.source.startsWith('library')).length;
    const partial = rs.filter((r) => r.checks).length;
    all += rs.length;
    allRight += right;
    console.log(`${suite.padEnd(10)} ${String(right).padStart(3)}/${String(rs.length).padEnd(3)} right ${((100 * right) / rs.length).toFixed(1).padStart(5)} %  wrong ${rs.length - right}  missing expected words ${lost}  (expected text from the library: ${lib}, contains-checks only: ${partial})  slowest ${Math.max(...rs.map((r) => r.ms)).toFixed(1)} ms`);
  }
  console.log(`all        ${allRight}/${all} right ${((100 * allRight) / all).toFixed(1)} %`);
  if (values.failures) {
    for (const r of results.filter((x) => !x.right)) {
      console.log(`\n--- ${r.suite} ${r.id} [${r.format}, ${r.source}]${r.missing.length ? `  MISSING: ${r.missing.slice(0, 30).join(' ')}` : ''}`);
      console.log(r.checks ? `checks:   ${JSON.stringify(r.checks)}` : `expected: ${JSON.stringify(r.expected)}`);
      console.log(`got:      ${JSON.stringify(r.got)}`);
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 1));
} finally {
  rmSync(work, { recursive: true, force: true });
}
