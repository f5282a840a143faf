// Entry point: finds out who is signed in and which language to speak, then routes.

import { bind, LANGUAGES, preferredLanguage, preloadCatalogue, setLanguage, t } from './i18n.js';
import { initHeader, markCurrentPage } from './header.js';
import { flash, showFlash } from './notice.js';
import { navigate, startRouter } from './router.js';
import { currentUser, forgetUser, loadSession } from './session.js';
import account from './pages/account.js';
import home from './pages/home.js';
import notFound from './pages/not-found.js';
import reset from './pages/reset.js';
import signin from './pages/signin.js';
import signup from './pages/signup.js';
import verify from './pages/verify.js';

// access: 'user' pages need a session, 'guest' pages make no sense with one, 'any' is either.
const ROUTES = new Map([
  ['/signin', signin],
  ['/signup', signup],
  ['/verify', verify],
  ['/reset', reset],
  ['/home', home],
  ['/account', account],
]);

const app = document.getElementById('app');
const title = document.querySelector('title');

function render({ focus }) {
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const user = currentUser();
  if (path === '/') return navigate(user ? '/home' : '/signin', { replace: true, focus });
  const page = ROUTES.get(path) || notFound;
  if (page.access === 'user' && !user) {
    // Remember where the user was going; sign-in takes them there afterwards.
    return navigate('/signin', { replace: true, focus, state: { next: path + location.search } });
  }
  if (page.access === 'guest' && user) return navigate('/home', { replace: true, focus });

  app.replaceChildren(page.view({ query: new URLSearchParams(location.search), state: history.state || {} }));
  bind(title, 'app.pageTitle', { page: () => t(page.title) });
  showFlash();
  markCurrentPage();
  if (focus) {
    window.scrollTo(0, 0);
    app.querySelector('h1')?.focus();
  }
}

document.addEventListener('openseat:session-ended', () => {
  forgetUser();
  flash({ kind: 'info', key: 'session.ended' });
  navigate('/signin', { state: { next: location.pathname + location.search } });
});

async function boot() {
  const guess = preferredLanguage();
  preloadCatalogue(guess); // in parallel with the session request
  const user = await loadSession();
  await setLanguage(LANGUAGES.includes(user?.language) ? user.language : guess);
  initHeader();
  startRouter(render);
}

boot().catch((err) => {
  console.error(err);
  // No catalogue to take words from at this point, so both languages are written out here.
  app.textContent = 'openseat could not start: please reload the page. — openseat n’a pas pu démarrer : veuillez recharger la page.';
});
