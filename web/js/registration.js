// The Open License partner registration: a partner proves the customer authorized it by giving
// three details of the order (authorization number, license number, the customer's e-mail
// address) and ticking the attestation, whose text says what the access allows and what it does
// not. Used by the "New Open license" dialog (picker) and by the not-recognized page.
//
// Someone who belongs to no partner organization yet also names theirs: the registration then
// creates it with them as its first admin (a name an organization in openseat already has is
// refused: its admins add people themselves). The customer may want to approve partners first:
// the answer is then "pending" (202), and the customer's decision comes by e-mail.
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
import { flash, notify } from './notice.js';
import { navigate } from './router.js';
import { currentStanding, refreshStanding } from './session.js';

// The organization's name, for someone in no partner organization yet.
const organizationField = () => ({
  name: 'organization_name',
  type: 'text',
  label: 'registration.organizationName',
  hint: 'registration.organizationNameHint',
  autocomplete: 'organization',
  maxlength: LIMITS.LIMIT_NAME_BYTES,
});

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
 * `withOrganization`: ask for the organization's name (the user is in no partner organization);
 * `beforeLeaving()` runs once the registration is through, before the agreement opens or the
 * pending request is said (the dialog closes).
 */
export function registrationForm({ route, testid, actions, beforeLeaving, withOrganization = false }) {
  const form = createForm({
    testid,
    fields: withOrganization ? [organizationField(), ...fields()] : fields(),
    submit: 'registration.submit',
    actions,
    ownMessages: true,
    async onSubmit(values) {
      const result = await api('POST', '/partner-registrations', { ...values, route });
      beforeLeaving?.();
      if (result?.status === 'pending') {
        // Nothing to open yet: the customer decides, and the answer comes by e-mail.
        await refreshStanding().catch(() => null);
        if (form.element.isConnected) {
          form.reset();
          form.say({ kind: 'success', key: 'registration.pending', params: { license: result.license_number ?? '' } });
        } else {
          notify({ kind: 'success', key: 'registration.pending', params: { license: result.license_number ?? '' } });
        }
        return;
      }
      await openGrantedAgreement(result);
    },
  });
  return form;
}

/** The "New Open license" dialog of the agreement picker. */
export function openNewLicenseDialog() {
  return openDialog({
    title: 'registration.dialogTitle',
    testid: 'new-license-dialog',
    describedBy: 'new-license-intro',
    content: ({ close }) => {
      const cancel = h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close });
      const form = registrationForm({
        route: 'new_license', testid: 'new-license-form', actions: cancel, beforeLeaving: close, withOrganization: !currentStanding().partner,
      });
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
