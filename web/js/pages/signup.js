// /signup: create an account. The server answers the same whether the address is new or not (so
// the form cannot be used to find out who has an account); either way a mail is on its way.

import { api } from '../api.js';
import { h } from '../dom.js';
import { createForm, field } from '../form.js';
import { currentLanguage } from '../i18n.js';
import { isSameSitePath } from '../router.js';
import { linkLine, pageView, swapView } from './layout.js';
import { resendButton } from './verify.js';

export default {
  title: 'signup.title',
  access: 'guest',
  view({ query }) {
    // The page a link was taking the user to before they had an account (see signin.js).
    const next = isSameSitePath(query.get('next')) ? query.get('next') : undefined;
    const form = createForm({
      testid: 'signup-form',
      fields: [field.name(), field.email(), field.newPassword()],
      submit: 'signup.submit',
      async onSubmit(values) {
        await api('POST', '/signup', { ...values, language: currentLanguage(), next });
        swapView(view, checkInbox(values.email, next));
      },
    });
    const view = pageView({ title: 'signup.title', intro: 'signup.intro' },
      form.element,
      linkLine('signup.haveAccount', 'signup.signInLink', '/signin'));
    return view;
  },
};

function checkInbox(email, next) {
  return pageView({ title: 'signup.sentTitle', intro: 'signup.sentText', introParams: { email } },
    h('p', { class: 'page__aside', t: 'signup.sentHelp' }),
    h('div', { class: 'form__actions' }, resendButton(email, next)));
}
