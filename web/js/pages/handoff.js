// /handoff?token=…: where the licensing center's "click here to manage subscriptions" leads. The
// signed link gives the partner access to that agreement, then opens it. Signed out, the user is
// sent to sign in (or sign up) first and brought back here with the same link.

import { api, ApiError } from '../api.js';
import { PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { whilePending } from '../form.js';
import { flash, notify } from '../notice.js';
import { problemNotice, reportProblem } from '../problems.js';
import { openGrantedAgreement } from '../registration.js';
import { navigate } from '../router.js';
import { currentUser, forgetReturn, rememberReturn, signOut } from '../session.js';
import { pageView, setPageTitle, swapView } from './layout.js';

export default {
  title: 'handoff.pageTitle',
  access: 'user',
  // Signed out: come back to this very link after signing in, even by way of signing up.
  returnAfterSignIn: true,
  signInNotice: 'handoff.signInFirst',
  view({ query }) {
    const token = query.get('token');
    if (!token) {
      setPageTitle('handoff.invalidTitle');
      return linkInvalid();
    }
    const view = pageView({ title: 'handoff.title' },
      h('p', { class: 'loading', 'aria-busy': 'true', t: 'handoff.opening', 'data-testid': 'handoff-opening' }));
    claim(token, view);
    return view;
  },
};

const OUTCOMES = {
  wrong_account: { title: 'handoff.wrongTitle', view: wrongAccount },
  link_invalid: { title: 'handoff.invalidTitle', view: linkInvalid },
  partner_blocked: { title: 'handoff.blockedTitle', view: blocked },
  not_partner: { title: 'handoff.notPartnerTitle', view: notPartner },
};

async function claim(token, view) {
  try {
    const result = await api('POST', '/handoff', { token });
    forgetReturn();
    if (view.isConnected) await openGrantedAgreement(result, { replace: true });
  } catch (err) {
    if (!view.isConnected) return;
    const outcome = err instanceof ApiError && OUTCOMES[err.code];
    if (outcome) {
      if (err.code !== PROBLEM.WRONG_ACCOUNT) forgetReturn();
      setPageTitle(outcome.title);
      swapView(view, outcome.view(token));
    } else if (err instanceof ApiError && err.code !== PROBLEM.UNAUTHENTICATED) {
      // Anything else (the server unreachable, say): the link may still work, so offer a retry.
      notify({ ...problemNotice(err), action: { key: 'lsc.retry', onClick: () => navigate(location.pathname + location.search, { replace: true }) } });
      view.querySelector('.loading')?.replaceChildren(h('span', { t: 'lsc.loadFailed' }));
    } else {
      reportProblem(err);
    }
  }
}

/** Signed in with another address than the licensing center's: sign out, back to this link. */
function wrongAccount(token) {
  const again = h('button', {
    type: 'button',
    class: 'button button--primary',
    t: 'handoff.signOutAndBack',
    'data-testid': 'handoff-sign-out',
    onclick: () => whilePending(again, async () => {
      try {
        await signOut();
      } catch (err) {
        reportProblem(err);
        return;
      }
      const next = `/handoff?token=${encodeURIComponent(token)}`;
      rememberReturn(next);
      flash({ kind: 'info', key: 'handoff.signInFirst' });
      navigate('/signin', { state: { next } });
    }),
  });
  return pageView({ title: 'handoff.wrongTitle', intro: 'handoff.wrongText', introParams: { email: currentUser()?.email ?? '' } },
    h('p', { class: 'page__aside', t: 'handoff.wrongHow' }),
    h('div', { class: 'form__actions' }, again));
}

function linkInvalid() {
  return pageView({ title: 'handoff.invalidTitle', intro: 'handoff.invalidText' },
    h('p', {}, h('a', { href: '/lsc', class: 'button', t: 'handoff.toLsc', 'data-testid': 'handoff-to-lsc' })));
}

function blocked() {
  return pageView({ title: 'handoff.blockedTitle', intro: 'handoff.blockedText' },
    h('p', { class: 'page__aside', t: 'handoff.blockedHelp' }),
    h('p', {}, h('a', { href: '/home', t: 'handoff.toHome' })));
}

function notPartner() {
  return pageView({ title: 'handoff.notPartnerTitle', intro: 'handoff.notPartnerText' },
    h('p', {}, h('a', { href: '/home', t: 'handoff.toHome' })));
}
