// /signin. Wrong address and wrong password get the same message on purpose (the server does not
// say which). An unverified account gets a way to have the confirmation link sent again.
// An address whose domain the operator routes to an OpenID Connect provider gets "Continue with
// <provider>" (a full-page navigation to the server's start route); the provider's failures come
// back here as ?sso_error=REASON and are explained.

import { api } from '../api.js';
import { PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { createForm, field } from '../form.js';
import { notify } from '../notice.js';
import { isSameSitePath, navigate } from '../router.js';
import { forgetReturn, pendingReturn, signIn } from '../session.js';
import { linkLine, pageView } from './layout.js';
import { resendLink } from './verify.js';

export default {
  title: 'signin.title',
  access: 'guest',
  view({ state, query }) {
    // Where to go once signed in: what the app was showing, or a link's `next` (the "account
    // exists" mail's sign-in link carries the page its reader was going to).
    const wanted = [state.next, query.get('next')].find(isSameSitePath);
    const ssoError = query.get('sso_error');
    if (ssoError && /^sso_[a-z_]+$/.test(ssoError)) notify({ kind: 'error', key: `signin.sso.error.${ssoError}` });
    const sso = h('p', { class: 'page__aside', hidden: true, 'data-testid': 'signin-sso' });
    // Which provider answers for the address, asked when the address is entered.
    async function lookUp(email) {
      sso.hidden = true;
      sso.replaceChildren();
      if (!email || !email.includes('@')) return null;
      const { provider } = await api('GET', `/api/v1/sso/provider?email=${encodeURIComponent(email)}`).catch(() => ({}));
      if (!provider) return null;
      sso.append(h('button', {
        type: 'button', class: 'button', 'data-testid': 'signin-sso-continue',
        t: 'signin.sso.continue', params: { provider: provider.name },
        onclick: () => window.location.assign(`/api/v1/sso/start?email=${encodeURIComponent(email)}`),
      }));
      sso.hidden = false;
      return provider;
    }
    const form = createForm({
      testid: 'signin-form',
      fields: [field.email(), field.currentPassword()],
      values: { email: state.email },
      submit: 'signin.submit',
      async onSubmit({ email, password }) {
        await signIn(email, password);
        // Where the user was going; or a link that waited for them to sign up and confirm first.
        const next = wanted ?? pendingReturn();
        forgetReturn();
        navigate(isSameSitePath(next) ? next : '/home');
      },
      onProblem(err, { email }) {
        if (err.code === PROBLEM.SSO_REQUIRED) {
          lookUp(email);
          return false;
        }
        if (err.code !== PROBLEM.UNVERIFIED) return false;
        notify({
          kind: 'error',
          key: 'problem.unverified',
          action: { key: 'verify.resend', onClick: (event) => resendLink(event.currentTarget, email, wanted) },
        });
        return true;
      },
    });
    form.element.querySelector('input[type="email"]')?.addEventListener('change', (e) => lookUp(e.target.value.trim()));
    return pageView({ title: 'signin.title' },
      form.element,
      sso,
      h('p', { class: 'page__aside' }, h('a', { href: '/reset', t: 'signin.forgot' })),
      // Signing up first keeps the page the user was going to: it rides the confirmation mail.
      linkLine('signin.noAccount', 'signin.signUpLink',
        wanted ? `/signup?next=${encodeURIComponent(wanted)}` : '/signup'));
  },
};
