// /account: the user's language and password, two-step sign-in, and the way to their API tokens.

import { api } from '../api.js';
import { h } from '../dom.js';
import { createForm, field, whilePending } from '../form.js';
import { LANGUAGES, currentLanguage } from '../i18n.js';
import { notify } from '../notice.js';
import { reportProblem } from '../problems.js';
import { chooseLanguage, currentUser } from '../session.js';
import { twoStepContent } from '../two-step.js';
import { pageView } from './layout.js';

export default {
  title: 'account.title',
  access: 'user',
  view() {
    const user = currentUser();
    return pageView({ title: 'account.title', intro: 'account.signedInAs', introParams: { name: user.name, email: user.email }, wide: true },
      section('account-language', 'account.languageTitle', languageForm()),
      section('account-password', 'account.passwordTitle', passwordForm(user.email)),
      section('account-mfa', 'mfa.title', twoStepContent(user.email)),
      section('account-tokens', 'account.tokensTitle', [
        h('p', { class: 'card__text', t: 'account.tokensText' }),
        h('p', {}, h('a', { href: '/account/tokens', class: 'button', t: 'account.tokensLink', 'data-testid': 'account-tokens-link' })),
      ]));
  },
};

function section(id, titleKey, content) {
  return h('section', { class: 'card', 'aria-labelledby': `${id}-title`, 'data-testid': id },
    h('h2', { id: `${id}-title`, class: 'card__title', t: titleKey }),
    content);
}

function languageForm() {
  const radios = LANGUAGES.map((lang) => h('input', {
    type: 'radio', name: 'language', value: lang, id: `language-${lang}`, 'data-testid': `language-${lang}`,
  }));
  const button = h('button', { type: 'submit', class: 'button button--primary', t: 'account.languageSave' });
  const form = h('form', { class: 'form', 'data-testid': 'language-form' },
    h('fieldset', { class: 'choice-group' },
      h('legend', { class: 'field__label', t: 'account.languageLegend' }),
      radios.map((radio) => h('div', { class: 'choice' },
        radio,
        h('label', { for: radio.id, lang: radio.value, t: `lang.${radio.value}` })))),
    h('div', { class: 'form__actions' }, button));

  const showCurrent = () => {
    for (const radio of radios) radio.checked = radio.value === currentLanguage();
  };
  showCurrent();
  // The header switch changes the language too; keep the choice shown here in step.
  const onLanguage = () => {
    if (form.isConnected) showCurrent();
    else document.removeEventListener('openseat:language', onLanguage);
  };
  document.addEventListener('openseat:language', onLanguage);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const chosen = radios.find((radio) => radio.checked).value;
    whilePending(button, async () => {
      try {
        await chooseLanguage(chosen);
        notify({ kind: 'success', key: 'account.languageSaved' });
      } catch (err) {
        reportProblem(err);
      }
    });
  });
  return form;
}

function passwordForm(email) {
  const form = createForm({
    testid: 'password-form',
    username: email,
    fields: [
      field.currentPassword('current_password', 'field.currentPassword'),
      field.newPassword('new_password', 'field.newPassword'),
    ],
    submit: 'account.passwordSave',
    async onSubmit(values) {
      await api('PUT', '/account/password', values);
      form.reset();
      notify({ kind: 'success', key: 'account.passwordChanged' });
    },
  });
  return form.element;
}
