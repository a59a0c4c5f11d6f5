import { button, emptyState, field, loadError, spinner, withBusy } from '../components/fields';
import { h, replace } from '../lib/dom';
import { api, ApiError } from '../lib/http.client';
import { loadTopics, type PublicTopic } from '../lib/api-types';
import type { PageContext } from './page';

/** What Mentor Zero is, the topics with their voices, and the magic-link form (sign-up = sign-in). */
export function landingPage(ctx: PageContext): HTMLElement {
  const topics = h('div', { class: 'topic-grid-host' }, spinner('Loading topics…'));
  const load = () => {
    replace(topics, spinner('Loading topics…'));
    loadTopics().then(
      (list) => ctx.isCurrent() && replace(topics, topicGrid(list)),
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
      h('div', { class: 'hero-side' }, ctx.user ? welcomeBack(ctx) : signInCard(ctx)),
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
      h('p', { class: 'muted' }, 'Subscribe to one or several. You can change times, pause or stop whenever you like.'),
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

/** The magic-link form. The server answers 202 whatever the address, so we never say whether an account exists. */
function signInCard(ctx: PageContext): HTMLElement {
  const card = h('div', { class: 'card signin-card', id: 'signin', tabindex: '-1' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true, inputmode: 'email', maxlength: '320', placeholder: 'you@example.org', spellcheck: 'false' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Email me a sign-in link');
  const error = h('p', { class: 'form-error', id: 'signin-error', role: 'alert' });
  email.setAttribute('aria-describedby', 'signin-error');

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
    error.textContent = '';
    try {
      await withBusy(submit, 'Sending…', () => api.post('/api/auth/login-link', { email: value }));
      showSent(value);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Could not send the link. Please try again.';
    }
  });

  const showSent = (address: string) => {
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
      h('p', { class: 'muted' }, 'The link works once and expires in 15 minutes. Opening it shows a page with a button — press it to sign in on that device.'),
      again,
    );
    heading.focus();
  };

  showForm();
  return card;
}

function topicGrid(topics: PublicTopic[]): HTMLElement {
  if (!topics.length) return emptyState('No topics yet', 'An admin has not published any topics.');
  return h(
    'ul',
    { class: 'topic-grid' },
    topics.map((t) =>
      h(
        'li',
        { class: 'topic-card' },
        h('h3', null, t.name),
        h('p', null, t.description),
        t.persona ? h('p', { class: 'persona' }, h('span', { class: 'persona-name' }, t.persona.name), t.persona.era ? h('span', { class: 'persona-era' }, ` · ${t.persona.era}`) : null) : null,
      ),
    ),
  );
}
