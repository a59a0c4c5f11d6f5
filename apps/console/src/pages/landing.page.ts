import { button, emptyState, field, loadError, spinner, withBusy } from '../components/fields';
import { htmlFrame } from '../components/html-frame';
import { h, replace } from '../lib/dom';
import { api, ApiError } from '../lib/http.client';
import { loadTopicSample, loadTopics, type PublicTopic, type SignupChoice } from '../lib/api-types';
import { allTimeZones, browserTimeZone, groupTimeZones, zoneLabel } from '../lib/timezones';
import type { PageContext } from './page';

const DEFAULT_SEND_TIME = '07:30';

/**
 * What the visitor has picked so far: the topic cards tick topics, the sign-in card shows the
 * pick and sends it with the link request, and it is applied when the link is confirmed
 * (docs/architecture.md §5).
 */
class Choice {
  readonly topics = new Map<string, string>();
  private readonly listeners: (() => void)[] = [];
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }
  set(code: string, name: string, on: boolean): void {
    if (on) this.topics.set(code, name);
    else this.topics.delete(code);
    this.listeners.forEach((fn) => fn());
  }
}

/** What Mentor Zero is, the topics with their voices and a sample letter each, and the magic-link form (sign-up = sign-in). */
export function landingPage(ctx: PageContext): HTMLElement {
  const choice = new Choice();
  const topics = h('div', { class: 'topic-grid-host' }, spinner('Loading topics…'));
  const load = () => {
    replace(topics, spinner('Loading topics…'));
    loadTopics().then(
      (list) => ctx.isCurrent() && replace(topics, topicGrid(list, ctx.user ? null : choice)),
      (err) => ctx.isCurrent() && replace(topics, loadError(err, load)),
    );
  };
  load();

  return h(
    'div',
    { class: 'landing' },
    h(
      'section',
      { class: 'hero', 'aria-labelledby': 'hero-title' },
      h(
        'div',
        { class: 'hero-copy' },
        h('p', { class: 'eyebrow' }, 'An email-first mentor'),
        h('h1', { id: 'hero-title' }, 'One calm letter a day, from a mind worth listening to.'),
        h(
          'p',
          { class: 'lead' },
          'Pick what you want to grow in. Every day, at the time you choose, Mentor Zero writes you a short letter in the voice of a philosopher or scientist — Seneca on resilience, Feynman on curiosity, Curie on persistence.',
        ),
        h('p', { class: 'lead' }, 'Reply to tell it how it went. That is the whole interface: no app, no feed, no streak-shaming.'),
        sampleLetter(),
      ),
      h('div', { class: 'hero-side' }, ctx.user ? welcomeBack(ctx) : signInCard(ctx, choice)),
    ),
    h(
      'section',
      { class: 'how', 'aria-labelledby': 'how-title' },
      h('h2', { id: 'how-title' }, 'How it works'),
      h(
        'ol',
        { class: 'steps' },
        step('1', 'Choose topics and a time', 'Each topic is one letter a day, at your local time, in your time zone. Add a line about yourself if you like.'),
        step('2', 'Read one letter', 'A few paragraphs and one small practice for today, written for you — it remembers your notes and what it already told you.'),
        step('3', 'Reply in a line', '“Done.” A note. “Pause for a week.” Your mentor reads it and your streak moves. Unsubscribe from any letter in one click.'),
      ),
    ),
    h(
      'section',
      { class: 'topics', 'aria-labelledby': 'topics-title' },
      h('h2', { id: 'topics-title' }, 'Topics and their voices'),
      h(
        'p',
        { class: 'muted' },
        ctx.user
          ? 'Turn topics on or off, and change times, on your settings page.'
          : 'Choose one or several, then ask for your link above: they start when you confirm it. You can change times, pause or stop whenever you like.',
      ),
      topics,
    ),
  );
}

function step(n: string, title: string, text: string): HTMLElement {
  return h('li', { class: 'step' }, h('span', { class: 'step-n', 'aria-hidden': 'true' }, n), h('h3', null, title), h('p', null, text));
}

function sampleLetter(): HTMLElement {
  return h(
    'figure',
    { class: 'sample-letter', 'aria-label': 'An example letter' },
    h('p', { class: 'sample-subject' }, 'On the small hour before the day begins'),
    h(
      'blockquote',
      null,
      h('p', null, 'You wrote that the week feels crowded. Then let us not add to it. Today, before you open anything that asks for you, sit for the length of one cup of water and decide the one thing that would make the evening feel honest.'),
      h('p', null, 'Reply and tell me whether you did. Not to be graded — only so I know where you are.'),
    ),
    h('figcaption', null, '— Seneca, for Resilience'),
  );
}

function welcomeBack(ctx: PageContext): HTMLElement {
  return h(
    'div',
    { class: 'card signin-card' },
    h('h2', null, 'Welcome back'),
    h('p', null, 'You are signed in as ', h('strong', null, ctx.user!.email), '.'),
    h('p', { class: 'actions' }, h('a', { href: '/settings', class: 'btn btn-primary' }, 'Your settings'), h('a', { href: '/letters', class: 'btn btn-secondary' }, 'Your letters')),
  );
}

/**
 * The magic-link form, with the visitor's choice: the topics ticked below, a send time, and the
 * browser's time zone (shown, editable). The server answers 202 whatever the address, so we never
 * say whether an account exists; the choice waits on the link's token until it is confirmed.
 */
function signInCard(ctx: PageContext, choice: Choice): HTMLElement {
  const card = h('div', { class: 'card signin-card', id: 'signin', tabindex: '-1' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true, inputmode: 'email', maxlength: '320', placeholder: 'you@example.org', spellcheck: 'false' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Email me a sign-in link');
  const error = h('p', { class: 'form-error', id: 'signin-error', role: 'alert' });
  email.setAttribute('aria-describedby', 'signin-error');

  const browserZone = browserTimeZone();
  const time = h('input', { type: 'time', name: 'sendTime', value: DEFAULT_SEND_TIME, required: true, step: '60', 'data-testid': 'signup-time' });
  const zone = timezoneSelect(browserZone);
  zone.setAttribute('data-testid', 'signup-zone');
  const chosen = h('p', { class: 'signup-chosen', 'data-testid': 'signup-topics', 'aria-live': 'polite' });
  const schedule = h(
    'div',
    { class: 'signup-schedule', hidden: true },
    h('div', { class: 'signup-when' }, field('Time of day', time), field('Time zone', zone, { hint: zone.value === browserZone ? 'Taken from your browser; change it if you like.' : null })),
  );
  const renderChoice = () => {
    const names = [...choice.topics.values()];
    replace(
      chosen,
      names.length
        ? ['Your letters: ', h('strong', null, names.join(', ')), '. They start when you confirm the link.']
        : ['No topics chosen yet — ', h('a', { href: '#topics-title', 'data-external': '' }, 'pick some below'), ', or just sign in.'],
    );
    schedule.hidden = names.length === 0;
  };
  choice.onChange(renderChoice);
  renderChoice();

  const showForm = (value = '') => {
    email.value = value;
    error.textContent = '';
    replace(
      card,
      h('h2', { id: 'signin-title' }, 'Start, or sign in'),
      ctx.query.get('signin') === 'required' ? h('p', { class: 'callout callout-info' }, 'Please sign in to continue.') : null,
      h('p', { class: 'muted' }, 'New here? The same link creates your account. We only email you the letters you ask for.'),
      form,
    );
  };

  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-labelledby': 'signin-title' },
    chosen,
    schedule,
    field('Email address', email),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = email.value.trim();
    if (!value || !email.checkValidity()) {
      error.textContent = 'Please enter a valid email address, like name@example.org.';
      email.setAttribute('aria-invalid', 'true');
      email.focus();
      return;
    }
    email.removeAttribute('aria-invalid');
    const signup: SignupChoice | undefined = choice.topics.size ? { topics: [...choice.topics.keys()], sendTime: time.value, timezone: zone.value } : undefined;
    if (signup && !/^\d{2}:\d{2}$/.test(signup.sendTime)) {
      error.textContent = 'Please choose a time of day for your letters.';
      time.focus();
      return;
    }
    error.textContent = '';
    try {
      await withBusy(submit, 'Sending…', () => api.post('/api/auth/login-link', signup ? { email: value, signup } : { email: value }));
      showSent(value, signup);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Could not send the link. Please try again.';
    }
  });

  const showSent = (address: string, signup: SignupChoice | undefined) => {
    const again = button('Use a different address', { variant: 'quiet' });
    again.addEventListener('click', () => {
      showForm(address);
      email.focus();
    });
    const heading = h('h2', { tabindex: '-1', 'data-testid': 'check-email' }, 'Check your email');
    replace(
      card,
      h('div', { class: 'sent-icon', 'aria-hidden': 'true' }, '✉'),
      heading,
      h('p', null, 'If ', h('strong', null, address), ' can receive mail, a sign-in link is on its way.'),
      signup
        ? h('p', { 'data-testid': 'sent-choice' }, 'When you confirm it, your letters start: ', h('strong', null, [...choice.topics.values()].join(', ')), `, every day at ${signup.sendTime} (${zoneLabel(signup.timezone)}).`)
        : null,
      h('p', { class: 'muted' }, 'The link works once and expires in 15 minutes. Opening it shows a page with a button — press it to sign in on that device.'),
      again,
    );
    heading.focus();
  };

  showForm();
  return card;
}

function timezoneSelect(selected: string): HTMLSelectElement {
  const select = h('select', { name: 'timezone' });
  for (const group of groupTimeZones(allTimeZones(), [selected])) {
    select.append(h('optgroup', { label: group.region }, group.zones.map((z) => h('option', { value: z, selected: z === selected }, zoneLabel(z)))));
  }
  select.value = selected;
  return select;
}

/** The topics with their voices; each can be chosen (signed out) and shows a sample letter on request. */
function topicGrid(topics: PublicTopic[], choice: Choice | null): HTMLElement {
  if (!topics.length) return emptyState('No topics yet', 'An admin has not published any topics.');
  return h(
    'ul',
    { class: 'topic-grid' },
    topics.map((t) => {
      const pick = choice
        ? h('input', {
            type: 'checkbox',
            name: 'topics',
            value: t.code,
            'data-testid': `choose-${t.code}`,
            onChange: (e: Event) => choice.set(t.code, t.name, (e.target as HTMLInputElement).checked),
          })
        : null;
      return h(
        'li',
        { class: 'topic-card', 'data-topic': t.code },
        h('h3', null, t.name),
        h('p', null, t.description),
        t.persona ? h('p', { class: 'persona' }, h('span', { class: 'persona-name' }, t.persona.name), t.persona.era ? h('span', { class: 'persona-era' }, ` · ${t.persona.era}`) : null) : null,
        pick ? h('label', { class: 'topic-pick' }, pick, h('span', null, `Send me ${t.name}`)) : null,
        sampleDetails(t),
      );
    }),
  );
}

/** A sample letter, fetched when opened (offline-composed and cached by the server: one per topic a day). */
function sampleDetails(t: PublicTopic): HTMLElement {
  const body = h('div', { class: 'topic-sample-body' });
  let loaded = false;
  const load = () => {
    loaded = true;
    replace(body, spinner('Writing a sample…'));
    loadTopicSample(t.code).then(
      (sample) =>
        replace(
          body,
          h('p', { class: 'sample-subject', 'data-testid': `sample-subject-${t.code}` }, sample.subject),
          htmlFrame(sample.bodyHtml, { title: `Sample letter: ${sample.subject}`, minHeight: 160 }),
          h('p', { class: 'muted' }, 'Written for an imaginary reader; yours answer your replies and notes.'),
        ),
      (err) => {
        loaded = false;
        replace(body, loadError(err, load));
      },
    );
  };
  return h(
    'details',
    { class: 'topic-sample', onToggle: (e: Event) => (e.target as HTMLDetailsElement).open && !loaded && load() },
    h('summary', null, `Read a sample letter${t.persona ? ` from ${t.persona.name}` : ''}`),
    body,
  );
}
