// /signin. Wrong address and wrong password get the same message on purpose (the server does not
// say which). An unverified account gets a way to have the confirmation link sent again.
// An address whose domain the operator routes to an OpenID Connect provider gets "Continue with
// <provider>" (a full-page navigation to the server's start route); the provider's failures come
// back here as ?sso_error=REASON and are explained. An account with two-step sign-in on gets a
// second step after the right password: the code from the person's app, or one of their
// recovery codes; a challenge that lapsed (five minutes) sends them back to the password.

import { ApiError, api } from '../api.js';
import { FIELD, LIMITS, PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { createForm, field } from '../form.js';
import { currentLanguage } from '../i18n.js';
import { flash, notify } from '../notice.js';
import { isSameSitePath, navigate } from '../router.js';
import { forgetReturn, pendingReturn, signIn, signInWithCode } from '../session.js';
import { linkLine, pageView } from './layout.js';
import { resendLink } from './verify.js';

// The reasons the server's provider routes send back here, each with its explanation (written
// out, so that the catalogue's checks see every key used).
const SSO_ERRORS = {
  sso_expired: 'signin.sso.error.sso_expired',
  sso_failed: 'signin.sso.error.sso_failed',
  sso_email_unverified: 'signin.sso.error.sso_email_unverified',
  sso_unavailable: 'signin.sso.error.sso_unavailable',
  sso_cancelled: 'signin.sso.error.sso_cancelled',
};

export default {
  title: 'signin.title',
  access: 'guest',
  view({ state, query }) {
    // Where to go once signed in: what the app was showing, or a link's `next` (the "account
    // exists" mail's sign-in link carries the page its reader was going to).
    const wanted = [state.next, query.get('next')].find(isSameSitePath);
    const ssoError = query.get('sso_error');
    // Flashed, not notified: the page change that shows this view clears the status line
    // right after view() returns, and shows what was flashed for it.
    if (Object.hasOwn(SSO_ERRORS, ssoError ?? '')) flash({ kind: 'error', key: SSO_ERRORS[ssoError] });
    const sso = h('p', { class: 'page__aside', hidden: true, 'data-testid': 'signin-sso' });
    // Which provider answers for the address, asked when the address is entered.
    async function lookUp(email) {
      sso.hidden = true;
      sso.replaceChildren();
      if (!email || !email.includes('@')) return null;
      const { provider } = await api('GET', `/sso/provider?email=${encodeURIComponent(email)}`).catch(() => ({}));
      if (!provider) return null;
      sso.append(h('button', {
        type: 'button', class: 'button', 'data-testid': 'signin-sso-continue',
        t: 'signin.sso.continue', params: { provider: provider.name },
        onclick: () => window.location.assign(`/api/v1/sso/start?email=${encodeURIComponent(email)}&language=${currentLanguage()}`),
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
        const { challenge } = await signIn(email, password);
        if (challenge) secondStep(challenge, email);
        else goOn();
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
    // Where the user was going; or a link that waited for them to sign up and confirm first.
    function goOn() {
      const next = wanted ?? pendingReturn();
      forgetReturn();
      navigate(isSameSitePath(next) ? next : '/home');
    }
    const passwordStep = [form.element, sso];
    const codeStep = h('div', { hidden: true, 'data-testid': 'signin-mfa' });
    // The password was right: the form gives way to the code's, whose field takes the focus.
    function secondStep(challenge, email) {
      for (const part of passwordStep) part.hidden = true;
      codeStep.hidden = false;
      showCodeForm(challenge, email, false);
    }
    function showCodeForm(challenge, email, recovery) {
      const name = recovery ? 'recovery_code' : 'code';
      const codeForm = createForm({
        testid: 'signin-mfa-form',
        fields: [recovery
          ? { name, type: 'text', label: 'signin.mfa.recoveryCode', hint: 'signin.mfa.recoveryHint', autocomplete: 'off', autocapitalize: 'off', maxlength: LIMITS.LIMIT_MFA_CODE_CHARS }
          : { name, type: 'text', label: 'signin.mfa.code', hint: 'signin.mfa.codeHint', autocomplete: 'one-time-code', inputmode: 'numeric', maxlength: LIMITS.LIMIT_MFA_CODE_CHARS }],
        submit: 'signin.mfa.submit',
        async onSubmit(values) {
          try {
            await signInWithCode(challenge, { [name]: values[name] });
          } catch (err) {
            // A wrong code is the field's fault: said next to it, where the person types again.
            if (err instanceof ApiError && err.code === PROBLEM.INVALID_CODE) {
              throw new ApiError(422, { code: PROBLEM.VALIDATION, errors: [{ field: name, code: FIELD.WRONG_CODE }] });
            }
            throw err;
          }
          goOn();
        },
        onProblem(err) {
          if (err.code !== PROBLEM.MFA_CHALLENGE_INVALID) return false;
          // Lapsed or used: only the password step can start a new one.
          codeStep.hidden = true;
          codeStep.replaceChildren();
          for (const part of passwordStep) part.hidden = part === sso && !sso.childElementCount;
          notify({ kind: 'error', key: 'problem.mfa_challenge_invalid' });
          form.element.querySelector('input[type="password"]')?.focus();
          return true;
        },
      });
      const other = h('button', {
        type: 'button', class: 'button button--link', 'data-testid': 'signin-mfa-switch',
        t: recovery ? 'signin.mfa.useCode' : 'signin.mfa.useRecovery',
        onclick: () => showCodeForm(challenge, email, !recovery),
      });
      codeStep.replaceChildren(
        h('h2', { class: 'form__subtitle', t: 'signin.mfa.title' }),
        h('p', { class: 'page__aside', t: recovery ? 'signin.mfa.recoveryIntro' : 'signin.mfa.intro', params: { email } }),
        codeForm.element,
        h('p', { class: 'page__aside' }, other));
      codeForm.element.querySelector('input')?.focus();
    }
    form.element.querySelector('input[type="email"]')?.addEventListener('change', (e) => lookUp(e.target.value.trim()));
    return pageView({ title: 'signin.title' },
      form.element,
      sso,
      codeStep,
      h('p', { class: 'page__aside' }, h('a', { href: '/reset', t: 'signin.forgot' })),
      // Signing up first keeps the page the user was going to: it rides the confirmation mail.
      linkLine('signin.noAccount', 'signin.signUpLink',
        wanted ? `/signup?next=${encodeURIComponent(wanted)}` : '/signup'));
  },
};
