// /agreements/{license}/preferences: for the customer's super admins, the agreement's settings —
// where subscribers' questions go, what new subscribers get when the admin leaves a detail out,
// whether addresses outside the customer's own domains may be added, when to warn that a pool
// fills up, and partner access: whether a partner's access waits for a super admin's or partner
// manager's approval, and what a new partner may do, for how long, unless someone decides
// otherwise; and whether everyone acting on the agreement must have signed in with two-step
// sign-in or the company's provider. PUT replaces every preference, so the one form sends them all.

import { ApiError, api } from '../api.js';
import { FIELD, LIMITS, PROBLEM, SUBSCRIBER_LANGUAGES } from '../constants.js';
import { h } from '../dom.js';
import { createForm } from '../form.js';
import { notify } from '../notice.js';
import { capabilityField } from '../partner-access.js';
import { countryName, fetchJson, languageName, loadingSection } from '../present.js';
import { sortedCountries } from '../subscribers/fields.js';
import { agreementTab } from './agreement.js';

export default {
  title: 'preferences.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({ param, part: 'preferences', title: 'preferences.title', show: preferencesCard });
  },
};

function preferencesCard(agreement, base) {
  const section = loadingSection({
    testid: 'preferences',
    load: () => Promise.all([fetchJson(`${base}/preferences`), fetchJson(`${base}/overview`)]),
    show: ([preferences, overview]) => preferencesForm(preferences, overview?.levels || [], base),
  });
  return h('section', { class: 'card', 'aria-labelledby': 'preferences-title', 'data-testid': 'preferences-card' },
    h('h2', { id: 'preferences-title', class: 'card__title', t: 'preferences.formTitle' }),
    h('p', { class: 'card__text', t: 'preferences.intro' }),
    section);
}

function preferencesForm(preferences, levels, base) {
  const domains = Array.isArray(preferences.customer_domains) ? preferences.customer_domains : [];
  const text = (value) => (value === null || value === undefined ? '' : String(value));
  const untilEnd = preferences.partner_period_days === null;
  const capabilities = capabilityField({
    name: 'partner_capabilities',
    legend: 'preferences.partnerCapabilities',
    hint: 'preferences.partnerCapabilitiesHint',
    chosen: Array.isArray(preferences.partner_capabilities) ? preferences.partner_capabilities : ['read'],
  });
  const form = createForm({
    testid: 'preferences-form',
    submit: 'preferences.save',
    values: {
      contact_email: text(preferences.contact_email),
      default_level: text(preferences.default_level),
      default_country: text(preferences.default_country),
      default_language: text(preferences.default_language),
      default_downloads: preferences.default_downloads !== false,
      allow_outside_domains: preferences.allow_outside_domains !== false,
      alert_threshold: text(preferences.alert_threshold ?? LIMITS.LIMIT_ALERT_THRESHOLD_DEFAULT),
      partner_approval: preferences.partner_approval === true,
      partner_period_days: untilEnd ? '' : text(preferences.partner_period_days ?? LIMITS.LIMIT_PARTNER_PERIOD_DAYS_DEFAULT),
      partner_until_end: untilEnd,
      require_strong_auth: preferences.require_strong_auth === true,
    },
    fields: [
      { name: 'contact_email', type: 'email', label: 'preferences.contactEmail', hint: 'preferences.contactEmailHint', optional: true, autocomplete: 'off' },
      {
        name: 'default_level',
        type: 'select',
        label: 'preferences.defaultLevel',
        optional: true,
        options: [{ value: '', t: 'preferences.noDefaultLevel' }, ...levels.map((l) => ({ value: l.level, text: l.name ?? l.level }))],
        messages: { [FIELD.INVALID_VALUE]: 'subscribers.levelInvalid' },
      },
      {
        name: 'default_country',
        type: 'select',
        label: 'preferences.defaultCountry',
        optional: true,
        options: [{ value: '', t: 'preferences.noDefaultCountry' }, ...sortedCountries().map((code) => ({ value: code, format: (l) => countryName(l, code) }))],
      },
      {
        name: 'default_language',
        type: 'select',
        label: 'preferences.defaultLanguage',
        optional: true,
        options: [{ value: '', t: 'preferences.noDefaultLanguage' }, ...SUBSCRIBER_LANGUAGES.map((code) => ({ value: code, format: (l) => languageName(l, code) }))],
      },
      { name: 'default_downloads', type: 'checkbox', label: 'preferences.defaultDownloads', optional: true },
      {
        name: 'allow_outside_domains',
        type: 'checkbox',
        label: 'preferences.allowOutside',
        hint: domains.length ? 'preferences.domains' : 'preferences.noDomains',
        hintParams: { domains: domains.join(', ') },
        more: ['preferences.allowOutsideMore'],
        optional: true,
      },
      {
        name: 'alert_threshold',
        type: 'text',
        label: 'preferences.alertThreshold',
        hint: 'preferences.alertThresholdHint',
        inputmode: 'numeric',
        min: LIMITS.LIMIT_ALERT_THRESHOLD_MIN,
        max: LIMITS.LIMIT_ALERT_THRESHOLD_MAX,
        autocomplete: 'off',
        messages: { [FIELD.INVALID_VALUE]: 'preferences.thresholdRange', [FIELD.OUT_OF_RANGE]: 'preferences.thresholdRange' },
      },
      {
        name: 'partner_approval',
        type: 'checkbox',
        role: 'switch',
        heading: 'preferences.partnerTitle',
        label: 'preferences.partnerApproval',
        more: ['preferences.partnerApprovalMore'],
        optional: true,
      },
      { name: 'partner_capabilities', row: capabilities },
      {
        name: 'partner_period_days',
        type: 'text',
        label: 'preferences.partnerPeriod',
        hint: 'preferences.partnerPeriodHint',
        inputmode: 'numeric',
        min: 1,
        max: LIMITS.LIMIT_PARTNER_PERIOD_DAYS_MAX,
        optional: true,
        autocomplete: 'off',
        messages: { [FIELD.INVALID_VALUE]: 'preferences.periodRange', [FIELD.OUT_OF_RANGE]: 'preferences.periodRange', [FIELD.WRONG_TYPE]: 'preferences.periodRange' },
      },
      { name: 'partner_until_end', type: 'checkbox', label: 'preferences.partnerUntilEnd', optional: true },
      {
        name: 'require_strong_auth',
        type: 'checkbox',
        heading: 'preferences.securityTitle',
        label: 'preferences.requireStrongAuth',
        more: ['preferences.requireStrongAuthMore'],
        optional: true,
      },
    ],
    onSubmit: async (values) => {
      const body = {
        default_downloads: values.default_downloads,
        allow_outside_domains: values.allow_outside_domains,
        alert_threshold: Number(values.alert_threshold),
        partner_approval: values.partner_approval,
        partner_capabilities: values.partner_capabilities,
        partner_period_days: values.partner_until_end ? null : Number(values.partner_period_days),
        require_strong_auth: values.require_strong_auth,
      };
      if (!values.partner_until_end && !values.partner_period_days) {
        // A number of days, or "until the agreement ends": one of the two.
        throw new ApiError(422, { code: PROBLEM.VALIDATION, errors: [{ field: 'partner_period_days', code: FIELD.REQUIRED }] });
      }
      // Empty means "no default": left out, the server keeps none.
      for (const key of ['contact_email', 'default_level', 'default_country', 'default_language']) {
        if (values[key]) body[key] = values[key];
      }
      await api('PUT', `${base}/preferences`, body);
      notify({ kind: 'success', key: 'preferences.saved' });
    },
  });
  // "Until the agreement ends" makes the number of days moot: the field is switched off meanwhile.
  const days = form.element.querySelector('[name="partner_period_days"]');
  const whole = form.element.querySelector('[name="partner_until_end"]');
  const showPeriod = () => {
    days.disabled = whole.checked;
  };
  whole.addEventListener('change', showPeriod);
  showPeriod();
  return form.element;
}
