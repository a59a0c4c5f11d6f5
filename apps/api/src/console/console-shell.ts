/**
 * The HTML shell of the web console: the same document for every app route. CSP-friendly — no
 * inline script or style; the bundle is an external module script. Without JavaScript the page
 * still explains itself and offers the sign-in form (a plain form POST the API accepts).
 */
export interface ConsoleManifest {
  'main.js': string;
  'main.css': string;
  'letter.css': string;
  'favicon.svg'?: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]);

/** Asset URLs must be ours: /assets/<name> with a safe file name. */
export function assertManifest(value: unknown): ConsoleManifest {
  const m = value as Record<string, unknown>;
  const ok = (k: string, required: boolean) => (m?.[k] === undefined && !required) || (typeof m?.[k] === 'string' && /^\/assets\/[A-Za-z0-9._-]+$/.test(m[k] as string));
  if (!ok('main.js', true) || !ok('main.css', true) || !ok('letter.css', true) || !ok('favicon.svg', false)) {
    throw new Error('web console manifest is malformed');
  }
  return m as unknown as ConsoleManifest;
}

/** `contactEmail`: the footer's "Contact" address (CONTACT_EMAIL or MAIL_FROM's), read by the bundle from a meta tag. */
export function renderShell(manifest: ConsoleManifest, site: { contactEmail?: string | null } = {}): string {
  const contact = site.contactEmail ? `<meta name="mz-contact" content="${esc(site.contactEmail)}">\n` : '';
  const contactLink = site.contactEmail ? `\n<footer class="site-footer"><p><a href="mailto:${esc(site.contactEmail)}">Contact: ${esc(site.contactEmail)}</a></p></footer>` : '';
  const icon = manifest['favicon.svg'] ? `<link rel="icon" href="${esc(manifest['favicon.svg'])}" type="image/svg+xml">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#fffdf9" media="(prefers-color-scheme: light)">
<meta name="theme-color" content="#242320" media="(prefers-color-scheme: dark)">
<meta name="description" content="Mentor Zero: one calm letter a day per topic, in the voice of a philosopher or scientist. Reply to it; that is the whole interface.">
<meta name="mz-letter-css" content="${esc(manifest['letter.css'])}">
${contact}<title>Mentor Zero</title>
${icon}
<link rel="stylesheet" href="${esc(manifest['main.css'])}">
<script type="module" src="${esc(manifest['main.js'])}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<div id="app">
<noscript>
<header class="site-header"><div class="site-header-inner"><a href="/" class="brand"><span class="brand-mark" aria-hidden="true">M0</span><span class="brand-name">Mentor Zero</span></a></div></header>
<main id="main" class="site-main"><section class="narrow">
<h1>One calm letter a day</h1>
<p class="lead">Mentor Zero writes you a short daily letter in the voice of a philosopher or scientist. Reply to it to tell it how it went.</p>
<p>The settings pages need JavaScript. You can still ask for a sign-in link:</p>
<form method="post" action="/api/auth/login-link" class="card stack">
<div class="field"><label for="nojs-email">Email address</label><input id="nojs-email" type="email" name="email" autocomplete="email" required></div>
<button type="submit" class="btn btn-primary">Email me a sign-in link</button>
</form>
</section></main>${contactLink}
</noscript>
</div>
</body>
</html>
`;
}
