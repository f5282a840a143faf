// The Open License partner registration: a partner proves the customer authorized it by giving
// three details of the order (authorization number, license number, the customer's e-mail
// address) and ticking the attestation, whose text says what the access allows and what it does
// not. Used by the "New Open license" dialog (picker) and by the not-recognized page.
//
// When the details do not match, the server does not say which one is wrong, and neither does
// this form: one message for the three, with the tries left before the lock-out. A number
// that cannot be one (letters in a license number, a short authorization number) is a field
// error instead, which costs no try.

import { agreementHref } from './agreements.js';
import { api } from './api.js';
import { FIELD, LIMITS } from './constants.js';
import { openDialog } from './dialog.js';
import { h } from './dom.js';
import { createForm } from './form.js';
import { flash } from './notice.js';
import { navigate } from './router.js';
import { refreshStanding } from './session.js';

const fields = () => [
  {
    name: 'authorization_number',
    type: 'text',
    label: 'registration.authorization',
    hint: 'registration.authorizationHint',
    autocomplete: 'off',
    autocapitalize: 'characters',
    maxlength: LIMITS.LIMIT_AUTHORIZATION_CHARS,
    messages: { [FIELD.INVALID_FORMAT]: 'registration.authorizationFormat' },
  },
  {
    name: 'license_number',
    type: 'text',
    inputmode: 'numeric',
    label: 'registration.license',
    hint: 'registration.licenseHint',
    autocomplete: 'off',
    maxlength: LIMITS.LIMIT_LICENSE_NUMBER_CHARS,
    messages: { [FIELD.INVALID_FORMAT]: 'registration.licenseFormat' },
  },
  {
    name: 'customer_email',
    type: 'email',
    label: 'registration.customerEmail',
    hint: 'registration.customerEmailHint',
    autocomplete: 'off',
  },
  {
    name: 'attestation',
    type: 'checkbox',
    label: 'registration.attestation',
    more: ['registration.canDo', 'registration.cannotDo'],
    messages: { [FIELD.REQUIRED]: 'registration.attestationRequired', [FIELD.INVALID_VALUE]: 'registration.attestationRequired' },
  },
];

/**
 * The form. `route` is 'new_license' (dialog) or 'registration' (not-recognized page);
 * `beforeLeaving()` runs once access is granted, before the agreement opens (the dialog closes).
 */
export function registrationForm({ route, testid, actions, beforeLeaving }) {
  return createForm({
    testid,
    fields: fields(),
    submit: 'registration.submit',
    actions,
    ownMessages: true,
    async onSubmit(values) {
      const result = await api('POST', '/partner-registrations', { ...values, route });
      beforeLeaving?.();
      await openGrantedAgreement(result);
    },
  });
}

/** The "New Open license" dialog of the agreement picker. */
export function openNewLicenseDialog() {
  return openDialog({
    title: 'registration.dialogTitle',
    testid: 'new-license-dialog',
    describedBy: 'new-license-intro',
    content: ({ close }) => {
      const cancel = h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close });
      const form = registrationForm({ route: 'new_license', testid: 'new-license-form', actions: cancel, beforeLeaving: close });
      return [h('p', { class: 'dialog__intro', id: 'new-license-intro', t: 'registration.dialogIntro' }), form.element];
    },
  });
}

/**
 * After a grant (201) or a registration that already existed (200): says which, and opens the
 * agreement. `replace` for pages that must not be gone back to (a used hand-off link).
 */
export async function openGrantedAgreement(result, { replace = false } = {}) {
  const license = result?.license_number;
  // The user is recognized now; the start page and the header go by that.
  await refreshStanding().catch(() => null);
  flash({
    kind: result?.status === 'already_registered' ? 'info' : 'success',
    key: result?.status === 'already_registered' ? 'registration.already' : 'registration.granted',
    params: { license },
  });
  navigate(license ? agreementHref(license) : '/home', { replace });
}
