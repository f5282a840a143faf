// The subscribers' dialogs and the actions on the selected rows: add (with the question about
// an address outside the customer's domains), edit (If-Match: the version the edit started
// from; on a conflict the current values are shown and the user's own changes kept), remove
// the selected rows after a confirmation, and send them their e-mail again (no dialog). Each
// ends by re-fetching what it changed; the focus goes back to the list's title.
//
// Exports: subscriberActions.

import { ApiError, api, apiResponse } from '../api.js';
import { confirmAction } from '../confirm.js';
import { FIELD } from '../constants.js';
import { openDialog } from '../dialog.js';
import { h } from '../dom.js';
import { createForm, whilePending } from '../form.js';
import { currentLanguage, longDate, t } from '../i18n.js';
import { notify } from '../notice.js';
import { countryName, fetchJson, formatNumber, languageName } from '../present.js';
import { reportProblem } from '../problems.js';
import { detailFields, personFields } from './fields.js';

/**
 * The actions on the subscribers of `agreement` (API path `base`) listed by `list` (a
 * createListState). `levelName(code)` names a level, `levelsNow()` gives the overview's
 * levels, `refresh()` re-fetches the list and the overview after a change.
 * Returns { openAddDialog(), openEditDialog(item), confirmRemove(), resend(button) }.
 */
export function subscriberActions({ agreement, base, list, levelName, levelsNow, refresh }) {
  /**
   * Whether the admin wants `email` added although it is outside the customer's domains, when
   * the preferences allow that only after a confirmation. Only super admins may read the
   * preferences; for admins and partners the server alone decides.
   */
  async function outsideDomainConfirmed(email, preferences) {
    const settings = await preferences;
    if (!settings || settings.allow_outside_domains === false) return true; // the server refuses, with its reason
    const domains = (settings.customer_domains || []).map((d) => String(d).toLowerCase());
    const domain = email.split('@').pop().toLowerCase();
    if (!domains.length || domains.includes(domain)) return true;
    return confirmOutside(email, domains);
  }

  /** The add dialog, its level set to the first with a seat free. */
  function openAddDialog() {
    // Fetched while the admin types, for the check on submitting.
    const preferences = agreement.role === 'super_admin'
      ? fetchJson(`${base}/preferences`).catch(() => null)
      : Promise.resolve(null);
    const levels = levelsNow();
    let sentLevel = null;
    const levelInfo = () => levels.find((l) => l.level === sentLevel) || { name: sentLevel || '', purchased: 0 };
    const firstFree = levels.find((l) => l.available > 0) || levels[0];
    openDialog({
      title: 'subscribers.addTitle',
      testid: 'add-subscriber-dialog',
      returnFocus: () => document.getElementById('subscribers-title'),
      content: ({ close }) => createForm({
        testid: 'add-subscriber-form',
        submit: 'subscribers.addSubmit',
        ownMessages: true,
        values: {
          country: agreement.customer?.country || '',
          language: currentLanguage(),
          level: firstFree?.level,
          downloads: true,
          send_email: true,
        },
        fields: [
          ...personFields(),
          {
            name: 'level',
            type: 'select',
            label: 'subscribers.colLevel',
            options: levels.map((l) => ({
              value: l.level,
              format: (lang) => t('subscribers.levelOption', { level: l.name, available: formatNumber(lang, l.available) }),
            })),
            messages: {
              // The server's count when it gave one: the overview may be older than the refusal.
              [FIELD.NO_SEATS_LEFT]: (detail) => {
                const purchased = Number.isInteger(detail.params?.purchased) ? detail.params.purchased : levelInfo().purchased;
                return { key: 'subscribers.noSeatsLeft', params: { level: levelInfo().name, purchased: (lang) => formatNumber(lang, purchased) } };
              },
              // The date and the program's number of days come as params; without them (an
              // older server) the server's own message is shown as it is.
              [FIELD.REASSIGNMENT_TOO_SOON]: (detail) => {
                const day = detail.params?.available_from;
                const days = detail.params?.days;
                if (typeof day !== 'string' || !Number.isInteger(days)) return null;
                return {
                  key: 'subscribers.reassignmentTooSoon',
                  params: { level: levelInfo().name, days, date: longDate(day) },
                };
              },
            },
          },
          ...detailFields(),
          { name: 'downloads', type: 'checkbox', label: 'subscribers.downloadsAllowed', optional: true },
          { name: 'send_email', type: 'checkbox', label: 'subscribers.sendEmail', hint: 'subscribers.sendEmailHint', optional: true },
        ],
        actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
        onSubmit: async (values) => {
          if (!(await outsideDomainConfirmed(values.sign_in_email, preferences))) {
            document.querySelector('[data-testid="add-subscriber-dialog"] [name="sign_in_email"]')?.focus();
            return;
          }
          sentLevel = values.level;
          const body = { ...values };
          if (!body.notification_email) delete body.notification_email;
          if (!body.reference) delete body.reference;
          const added = await api('POST', `${base}/subscriptions`, body);
          close();
          notify({
            kind: 'success',
            key: values.send_email ? 'subscribers.addedMailed' : 'subscribers.added',
            params: { name: added?.name ?? values.name, level: levelName(values.level), email: added?.notification_email || added?.sign_in_email || values.sign_in_email },
          });
          await refresh();
        },
      }).element,
    });
  }

  /** The edit dialog of `item`, filled with its values as they are now. */
  function openEditDialog(item) {
    const path = `${base}/subscriptions/${encodeURIComponent(item.id)}`;
    openDialog({
      title: 'subscribers.editTitle',
      titleParams: { name: item.name ?? '' },
      testid: 'edit-subscriber-dialog',
      returnFocus: () => document.getElementById('subscribers-title'),
      content: ({ close }) => {
        const body = h('div', { class: 'dialog__content' }, h('p', { class: 'loading', t: 'lsc.loading' }));
        fetchCurrent(path).then((current) => {
          if (!body.isConnected) return;
          body.replaceChildren(...editForm({ current, path, close }));
          body.querySelector('input')?.focus();
        }).catch((err) => {
          close();
          if (err instanceof ApiError && err.status === 404) {
            notify({ kind: 'error', key: 'subscribers.gone' });
            list.load();
          } else {
            reportProblem(err);
          }
        });
        return body;
      },
    });
  }

  async function fetchCurrent(path) {
    const { data, headers } = await apiResponse('GET', path);
    return { subscription: data, etag: headers.get('ETag') || `"${data.version}"` };
  }

  function editForm({ current, path, close }) {
    let { subscription: saved, etag } = current;
    const editable = ['name', 'sign_in_email', 'notification_email', 'country', 'language', 'reference', 'downloads'];
    const asValue = (s, key) => (key === 'downloads' ? s.downloads === true : s[key] ?? '');
    const conflict = h('div', { class: 'conflict', 'data-testid': 'edit-conflict', role: 'alert' });
    const form = createForm({
      testid: 'edit-subscriber-form',
      submit: 'subscribers.save',
      ownMessages: true,
      values: Object.fromEntries(editable.map((key) => [key, asValue(saved, key)])),
      fields: [
        ...personFields(),
        ...detailFields(),
        { name: 'downloads', type: 'checkbox', label: 'subscribers.downloadsAllowed', optional: true },
      ],
      actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
      onSubmit: async (values) => {
        // Only what the user changed: anything else someone else changed meanwhile stays theirs.
        const patch = {};
        for (const key of editable) if (values[key] !== asValue(saved, key)) patch[key] = values[key];
        if (!Object.keys(patch).length) {
          close();
          notify({ kind: 'info', key: 'subscribers.noChanges' });
          return;
        }
        const { data } = await apiResponse('PATCH', path, patch, { headers: { 'If-Match': etag } });
        close();
        notify({ kind: 'success', key: 'subscribers.saved', params: { name: data?.name ?? values.name } });
        await list.load();
      },
      onProblem: (err) => {
        if (!(err instanceof ApiError)) return false;
        if (err.status === 404) {
          close();
          notify({ kind: 'error', key: 'subscribers.gone' });
          refresh();
          return true;
        }
        if (err.status !== 412) return false;
        // Someone else saved first: show what it is now. Fields the user left alone take the
        // current values; their own changes stay, and saving again applies just those.
        fetchCurrent(path).then((now) => {
          if (!conflict.isConnected) return;
          for (const key of editable) {
            const input = form.element.querySelector(`[name="${key}"]`);
            if (!input) continue;
            if (key === 'downloads') {
              if (input.checked === asValue(saved, key)) input.checked = asValue(now.subscription, key);
            } else if (input.value.trim() === asValue(saved, key)) {
              input.value = asValue(now.subscription, key);
            }
          }
          saved = now.subscription;
          etag = now.etag;
          showConflict(conflict, saved, levelName);
          conflict.scrollIntoView({ block: 'nearest' });
        }).catch((failure) => {
          close();
          reportProblem(failure);
        });
        return true;
      },
    });
    return [
      h('p', { class: 'dialog__intro' },
        h('span', { t: 'subscribers.editLevel' }), ' ',
        h('strong', { format: () => levelName(saved.level) })),
      conflict,
      form.element,
    ];
  }

  /** Asks to confirm removing the selected subscribers, then removes them. */
  function confirmRemove() {
    const chosen = list.selectedItems();
    if (!chosen.length) return;
    const n = chosen.length;
    const shown = chosen.slice(0, 10);
    openDialog({
      title: 'subscribers.removeTitle',
      titleParams: { count: n, name: chosen[0].name ?? '' },
      testid: 'remove-subscribers-dialog',
      describedBy: 'remove-subscribers-text',
      returnFocus: () => document.getElementById('subscribers-title'),
      content: ({ close }) => {
        const { messages, confirm } = confirmAction({
          close,
          label: 'subscribers.removeConfirm',
          testid: 'confirm-remove-subscribers',
          messagesTestid: 'remove-subscribers-message',
          run: () => api('POST', `${base}/subscriptions/remove`, { ids: chosen.map((item) => item.id) }),
          onDone: () => notify({
            kind: 'success',
            key: 'subscribers.removed',
            params: { count: n, name: chosen[0].name ?? '' },
          }),
          // One of them went meanwhile; nothing was removed. Show the list as it is now.
          isGone: (err) => err.status === 404,
          onGone: () => notify({ kind: 'error', key: 'subscribers.removeGone' }),
          after: async () => {
            for (const item of chosen) list.selected.delete(item.id);
            await refresh();
            document.getElementById('subscribers-title')?.focus();
          },
        });
        return [
          h('div', { class: 'dialog__text', id: 'remove-subscribers-text' },
            h('p', { t: 'subscribers.removeText', params: { count: n } }),
            h('ul', { class: 'dialog__list', 'data-testid': 'remove-subscribers-list' },
              shown.map((item) => h('li', {}, `${item.name ?? ''} (${item.sign_in_email ?? ''}, `, h('span', { format: () => levelName(item.level) }), ')')),
              n > shown.length && h('li', { t: 'subscribers.andMore', params: { count: (lang) => formatNumber(lang, n - shown.length) } }))),
          messages,
          h('div', { class: 'form__actions' },
            confirm,
            h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
        ];
      },
    });
  }

  /** Sends the selected subscribers their e-mail again; `button` stays busy meanwhile. */
  async function resend(button) {
    const ids = [...list.selected];
    if (!ids.length) return;
    await whilePending(button, async () => {
      try {
        const result = await api('POST', `${base}/subscriptions/resend`, { ids });
        const sent = Number(result?.count) || ids.length;
        notify({
          kind: 'success',
          key: 'subscribers.resent',
          params: { count: sent },
        });
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          notify({ kind: 'error', key: 'subscribers.gone' });
          await list.load();
        } else {
          reportProblem(err);
        }
      }
    });
    button.disabled = list.selected.size === 0;
  }

  return { openAddDialog, openEditDialog, confirmRemove, resend };
}

/** Asks whether to add an address outside the customer's domains; resolves to the answer. */
function confirmOutside(email, domains) {
  return new Promise((resolve) => {
    let answer = false;
    const { dialog } = openDialog({
      title: 'subscribers.outsideTitle',
      testid: 'outside-domain-dialog',
      describedBy: 'outside-domain-text',
      returnFocus: () => document.querySelector('[data-testid="add-subscriber-dialog"] [name="sign_in_email"]'),
      content: ({ close }) => [
        h('div', { class: 'dialog__text', id: 'outside-domain-text' },
          h('p', { t: 'subscribers.outsideText', params: { email, domains: domains.join(', ') } })),
        h('div', { class: 'form__actions' },
          h('button', {
            type: 'button',
            class: 'button button--primary',
            t: 'subscribers.outsideConfirm',
            'data-testid': 'confirm-outside-domain',
            onclick: () => {
              answer = true;
              close();
            },
          }),
          h('button', { type: 'button', class: 'button', t: 'subscribers.outsideChange', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ],
    });
    dialog.addEventListener('close', () => resolve(answer), { once: true });
  });
}

/** The current values after a conflict, for the user to compare with what they typed. */
function showConflict(box, s, levelName) {
  const item = (key, value, testid) => [h('dt', { t: key }), h('dd', { 'data-testid': testid }, value)];
  box.replaceChildren(h('div', { class: 'notice notice--error' },
    h('p', { class: 'notice__text', t: 'subscribers.conflict' }),
    h('dl', { class: 'facts facts--compact' },
      item('subscribers.colName', s.name ?? '', 'current-name'),
      item('subscribers.colSignInEmail', s.sign_in_email ?? '', 'current-sign_in_email'),
      item('subscribers.colNotificationEmail', s.notification_email || '—', 'current-notification_email'),
      item('subscribers.colLevel', h('span', { format: () => levelName(s.level) }), 'current-level'),
      item('subscribers.colCountry', h('span', { format: (lang) => countryName(lang, s.country) }), 'current-country'),
      item('subscribers.colLanguage', h('span', { format: (lang) => languageName(lang, s.language) }), 'current-language'),
      item('subscribers.colReference', s.reference || '—', 'current-reference'),
      item('subscribers.colDownloads', h('span', { t: s.downloads ? 'subscribers.yes' : 'subscribers.no' }), 'current-downloads'))));
}
