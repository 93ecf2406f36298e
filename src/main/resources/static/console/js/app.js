// The console shell: sign-in, navigation between pages (hash routes) and the error banner.
import { adminKey, storeAdminKey, forgetAdminKey, request, whenUnauthorized } from './api.js';
import { clear } from './dom.js';
import { disposeCharts } from './charts.js';
import { overview } from './pages/overview.js';
import { byKey, byModel } from './pages/breakdown.js';
import { keys } from './pages/keys.js';
import { live } from './pages/live.js';

const PAGES = {
  overview: { title: 'Overview', render: overview },
  'by-key': { title: 'By key', render: byKey },
  'by-model': { title: 'By model', render: byModel },
  keys: { title: 'Keys', render: keys },
  live: { title: 'Live requests', render: live },
};

const $ = (id) => document.getElementById(id);
let leave = null;

function showLogin(message) {
  if (leave) leave();
  leave = null;
  disposeCharts();
  clear($('view'));
  $('shell').hidden = true;
  $('login').hidden = false;
  const error = $('login-error');
  error.textContent = message ?? '';
  error.hidden = !message;
  $('admin-key').value = '';
  $('admin-key').focus();
}

function showShell() {
  $('login').hidden = true;
  $('shell').hidden = false;
  route();
}

export function banner(message, tone) {
  $('banner-text').textContent = message;
  $('banner').className = `banner ${tone ?? ''}`;
  $('banner').hidden = !message;
}

function route() {
  if (!adminKey()) {
    showLogin();
    return;
  }
  const name = location.hash.replace(/^#\/?/, '') || 'overview';
  const page = PAGES[name] ?? PAGES.overview;
  if (leave) leave();
  disposeCharts();
  banner('');
  document.title = `${page.title} \u00b7 Switchboard`;
  for (const link of document.querySelectorAll('[data-nav]')) {
    const active = PAGES[link.dataset.nav] === page;
    link.classList.toggle('active', active);
    if (active) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  const view = clear($('view'));
  const cleanup = page.render(view);
  leave = typeof cleanup === 'function' ? cleanup : null;
}

async function signIn(event) {
  event.preventDefault();
  const key = $('admin-key').value.trim();
  const submit = $('login-submit');
  if (!key) return;
  submit.disabled = true;
  try {
    // Checked against the admin API before it is kept, so a typo is caught here.
    await request('GET', '/admin/keys', undefined, key);
    storeAdminKey(key);
    showShell();
  } catch (e) {
    const error = $('login-error');
    error.textContent = e.status === 401 || e.status === 403 ? 'That admin key was refused.' : e.message;
    error.hidden = false;
  } finally {
    submit.disabled = false;
  }
}

whenUnauthorized(() => {
  if (!adminKey()) return;
  forgetAdminKey();
  showLogin('The admin key was refused (changed or revoked?). Sign in again.');
});

$('login-form').addEventListener('submit', signIn);
$('logout').addEventListener('click', () => { forgetAdminKey(); showLogin(); });
$('banner-close').addEventListener('click', () => banner(''));
window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', (event) => banner(`Something went wrong: ${event.reason?.message ?? event.reason}`));

if (adminKey()) showShell(); else showLogin();
