// A subscriber's details as people enter them: the countries in the order of their names in
// the page language, and the form fields the add and edit dialogs share — their lengths and
// lists are the server's (../constants.js).
//
// Exports: sortedCountries, personFields, detailFields.

import { COUNTRIES, LIMITS, FIELD, SUBSCRIBER_LANGUAGES } from '../constants.js';
import { currentLanguage } from '../i18n.js';
import { countryName, languageName } from '../present.js';

/** Country codes in the alphabetical order of their names in `lang`. */
export function sortedCountries(lang = currentLanguage()) {
  const collator = new Intl.Collator(lang);
  return [...COUNTRIES].sort((a, b) => collator.compare(countryName(lang, a), countryName(lang, b)));
}

/** Name, sign-in e-mail and notification e-mail. */
export function personFields() {
  return [
    { name: 'name', type: 'text', label: 'subscribers.colName', maxlength: LIMITS.SUB_NAME_MAX, autocomplete: 'off' },
    {
      name: 'sign_in_email', type: 'email', label: 'subscribers.colSignInEmail', hint: 'subscribers.signInEmailHint',
      autocomplete: 'off', messages: { [FIELD.DUPLICATE]: 'subscribers.duplicate', [FIELD.OUTSIDE_DOMAIN]: 'subscribers.outsideDomainRefused' },
    },
    {
      name: 'notification_email', type: 'email', label: 'subscribers.colNotificationEmail', hint: 'subscribers.notificationEmailHint',
      autocomplete: 'off', optional: true,
    },
  ];
}

/** Country, language of the e-mails and reference. */
export function detailFields() {
  const lang = currentLanguage();
  return [
    {
      name: 'country',
      type: 'select',
      label: 'subscribers.colCountry',
      options: [{ value: '', t: 'order.countryChoose' }, ...sortedCountries(lang).map((code) => ({ value: code, format: (l) => countryName(l, code) }))],
      messages: { [FIELD.REQUIRED]: 'order.countryRequired' },
    },
    {
      name: 'language',
      type: 'select',
      label: 'subscribers.colLanguage',
      hint: 'subscribers.languageHint',
      options: SUBSCRIBER_LANGUAGES.map((code) => ({ value: code, format: (l) => languageName(l, code) })),
    },
    { name: 'reference', type: 'text', label: 'subscribers.colReference', hint: 'subscribers.referenceHint', maxlength: LIMITS.SUB_REFERENCE_MAX, optional: true, autocomplete: 'off' },
  ];
}
