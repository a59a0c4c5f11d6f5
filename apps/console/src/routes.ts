/**
 * Every app route. The server serves the HTML shell for exactly these prefixes ('/', '/settings',
 * '/letters', '/admin', '/admin/*' except Bull Board at '/admin/queues'); see src/console.
 */
import { auditPage } from './pages/admin/audit.page';
import { configPage } from './pages/admin/config.page';
import { conversationsPage } from './pages/admin/conversations.page';
import { footerPage } from './pages/admin/footer.page';
import { adminLetterPage, adminLettersPage } from './pages/admin/letters.page';
import { overviewPage } from './pages/admin/overview.page';
import { promptsPage } from './pages/admin/prompts.page';
import { reviewsPage } from './pages/admin/reviews.page';
import { simulatorPage } from './pages/admin/simulator.page';
import { suppressionsPage } from './pages/admin/suppressions.page';
import { topicsPage } from './pages/admin/topics.page';
import { userPage, usersPage } from './pages/admin/users.page';
import { landingPage } from './pages/landing.page';
import { lettersPage } from './pages/letters.page';
import type { RouteDef } from './pages/page';
import { settingsPage } from './pages/settings.page';

export const ROUTES: RouteDef[] = [
  { name: 'landing', path: '/', title: 'An email-first mentor', access: 'public', render: landingPage },
  { name: 'settings', path: '/settings', title: 'Settings', access: 'user', render: settingsPage },
  { name: 'letters', path: '/letters', title: 'My letters', access: 'user', render: lettersPage },
  { name: 'admin-overview', path: '/admin', title: 'Admin', access: 'admin', render: overviewPage },
  { name: 'admin-letters', path: '/admin/letters', title: 'Letters · Admin', access: 'admin', render: adminLettersPage },
  { name: 'admin-letter', path: '/admin/letters/:id', title: 'Letter · Admin', access: 'admin', render: adminLetterPage },
  { name: 'admin-users', path: '/admin/users', title: 'Users · Admin', access: 'admin', render: usersPage },
  { name: 'admin-user', path: '/admin/users/:id', title: 'User · Admin', access: 'admin', render: userPage },
  { name: 'admin-conversations', path: '/admin/conversations', title: 'Conversations · Admin', access: 'admin', render: conversationsPage },
  { name: 'admin-reviews', path: '/admin/reviews', title: 'Replies to review · Admin', access: 'admin', render: reviewsPage },
  { name: 'admin-suppressions', path: '/admin/suppressions', title: 'Suppressions · Admin', access: 'admin', render: suppressionsPage },
  { name: 'admin-prompts', path: '/admin/prompts', title: 'Prompts · Admin', access: 'admin', render: promptsPage },
  { name: 'admin-topics', path: '/admin/topics', title: 'Topics & personas · Admin', access: 'admin', render: topicsPage },
  { name: 'admin-footer', path: '/admin/footer', title: 'Footer · Admin', access: 'admin', render: footerPage },
  { name: 'admin-config', path: '/admin/config', title: 'Config · Admin', access: 'admin', render: configPage },
  { name: 'admin-simulator', path: '/admin/simulator', title: 'Reply simulator · Admin', access: 'admin', render: simulatorPage },
  { name: 'admin-audit', path: '/admin/audit', title: 'Audit log · Admin', access: 'admin', render: auditPage },
];
