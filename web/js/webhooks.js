// Webhook endpoints in the UI, the same for an agreement (its super admins) and for a partner
// organization (its admins): the endpoints with the events each receives and whether it is
// enabled (and if the server disabled it, why); add and edit (URL, description, the events:
// all of them or those ticked); enable and disable; a new signing secret (shown once); a test
// event; and each endpoint's delivery log — status, attempts, when — where a delivery opens to
// show every attempt with the first part of the answer, and can be sent again.
//
// `webhooksCard({ base, intro, introParams })`: `base` is the owner's API path
// (`/agreements/{license}` or `/partner-organizations/{org}`), to which `/webhooks…` is added.

import { ApiError, api } from './api.js';
import { confirmAction } from './confirm.js';
import { FIELD, LIMITS, PROBLEM } from './constants.js';
import { openDialog } from './dialog.js';
import { h, uid } from './dom.js';
import { createForm, whilePending } from './form.js';
import { bind, hasMessage, longDateTime } from './i18n.js';
import { notify } from './notice.js';
import { dataTable, fetchJson, formatDateTime, loadingSection, moment } from './present.js';
import { fieldErrorKey, reportProblem } from './problems.js';
import { openSecretDialog } from './secret.js';

// The event types (docs/api-contract.md, "Integration events"), in the order the endpoint
// dialog offers them; each is shown by its label (webhooks.event.<type>). The test event,
// webhook.ping, is not offered: it goes to the endpoint it is sent to whatever that one takes.
const EVENT_TYPES = `
  subscription.added subscription.updated subscription.removed bulk.applied job.finished
  partner.access_requested partner.access_granted partner.access_amended partner.access_removed
  partner.access_ended admin.added admin.removed agreement.expiring agreement.expired`.trim().split(/\s+/);

const DELIVERY_STATUS = {
  pending: ['webhooks.deliveryPending', 'badge--pending'],
  delivered: ['webhooks.deliveryDelivered', 'badge--active'],
  failed: ['webhooks.deliveryFailed', 'badge--expired'],
  dropped: ['webhooks.deliveryDropped', 'badge--other'],
};

// Why an endpoint is disabled: by its owner, or by the server after it kept failing.
const DISABLED_REASON = { owner: 'webhooks.disabledByOwner', failing: 'webhooks.disabledFailing' };

const TITLE_ID = 'webhooks-title';
const LOG_TITLE_ID = 'webhook-log-title';

const focusLater = (id) => document.getElementById(id)?.focus();

/** An event type's label; a type this UI does not know yet is shown as the server names it. */
function eventLabel(type) {
  const key = `webhooks.event.${type}`;
  return hasMessage(key) ? { t: key } : { format: () => type ?? '' };
}

/** The card: the endpoints, then (once asked for) one endpoint's delivery log. */
export function webhooksCard({ base, intro, introParams }) {
  const path = `${base}/webhooks`;
  const log = h('div', { 'data-testid': 'webhook-log-area' });
  let offered = EVENT_TYPES;
  const context = {
    path,
    log,
    reload: () => section.reload(),
    offered: () => offered,
  };
  const section = loadingSection({
    testid: 'webhooks',
    load: () => fetchJson(path),
    show: (data) => {
      // The server may say which events this owner can receive (a partner organization gets
      // fewer than the customer): only those are offered.
      if (Array.isArray(data?.event_types) && data.event_types.length) offered = data.event_types;
      const endpoints = Array.isArray(data?.webhooks) ? data.webhooks : [];
      return endpoints.length
        ? endpointsTable(endpoints, context)
        : h('p', { class: 'muted', t: 'webhooks.none', 'data-testid': 'webhooks-none' });
    },
  });
  const add = h('button', {
    type: 'button',
    class: 'button button--primary',
    t: 'webhooks.add',
    'data-testid': 'add-webhook',
    onclick: () => openEndpointDialog(null, context),
  });
  return h('div', { class: 'webhooks' },
    h('section', { class: 'card', 'aria-labelledby': TITLE_ID, 'data-testid': 'webhooks-card' },
      h('div', { class: 'card__head' },
        h('h2', { id: TITLE_ID, class: 'card__title', tabindex: '-1', t: 'webhooks.listTitle' }),
        add),
      h('p', { class: 'card__text', t: intro, params: introParams }),
      section),
    log);
}

// ---- endpoints --------------------------------------------------------------------------------

function endpointsTable(endpoints, context) {
  return dataTable({
    labelledBy: TITLE_ID,
    testid: 'webhooks-table',
    rowTestid: (e) => `webhook-${e.id}`,
    rows: endpoints,
    columns: [
      {
        key: 'webhooks.colEndpoint',
        cell: (e) => h('span', { class: 'person' },
          h('span', { class: 'code code--small webhook-url', 'data-testid': 'webhook-url' }, e.url ?? ''),
          e.description && h('span', { class: 'person__email', 'data-testid': 'webhook-description' }, e.description)),
      },
      { key: 'webhooks.colEvents', cell: (e) => eventList(e.event_types) },
      { key: 'webhooks.colStatus', cell: (e) => statusCell(e) },
      { key: 'webhooks.colActions', cell: (e) => actions(e, context) },
    ],
  });
}

function eventList(types) {
  if (!Array.isArray(types) || !types.length) return h('span', { t: 'webhooks.allEvents', 'data-testid': 'webhook-events' });
  return h('ul', { class: 'capability-list', 'data-testid': 'webhook-events' }, types.map((type) => h('li', eventLabel(type))));
}

function statusCell(endpoint) {
  return h('span', { class: 'status-cell' },
    h('span', {
      class: `badge ${endpoint.enabled ? 'badge--active' : 'badge--disabled'}`,
      t: endpoint.enabled ? 'webhooks.enabled' : 'webhooks.disabled',
      'data-testid': 'webhook-status',
    }),
    !endpoint.enabled && DISABLED_REASON[endpoint.disabled_reason] && h('span', {
      class: 'status-cell__detail',
      'data-testid': 'webhook-disabled-reason',
      t: DISABLED_REASON[endpoint.disabled_reason],
      params: { days: LIMITS.LIMIT_WEBHOOK_FAILING_DAYS },
    }),
    endpoint.previous_secret_expires_at && h('span', {
      class: 'status-cell__detail',
      'data-testid': 'webhook-previous-secret',
      t: 'webhooks.previousSecretUntil',
      params: { when: longDateTime(endpoint.previous_secret_expires_at) },
    }));
}

/** One button of an endpoint's row: its label, then which endpoint for screen readers. */
function rowButton(label, testid, endpoint, onclick, extra = '') {
  return h('button', { type: 'button', class: `button button--small ${extra}`.trim(), 'data-testid': testid, onclick },
    h('span', { t: label }), ' ',
    h('span', { class: 'visually-hidden', t: 'webhooks.which', params: { url: endpoint.url ?? '' } }));
}

function actions(endpoint, context) {
  const item = `${context.path}/${encodeURIComponent(endpoint.id)}`;
  return h('div', { class: 'button-row' },
    rowButton('webhooks.deliveries', 'webhook-deliveries', endpoint, () => showLog(endpoint, context)),
    rowButton('webhooks.ping', 'webhook-ping', endpoint, (event) => ping(event.currentTarget, endpoint, item, context)),
    rowButton('webhooks.edit', 'webhook-edit', endpoint, () => openEndpointDialog(endpoint, context)),
    rowButton(endpoint.enabled ? 'webhooks.disable' : 'webhooks.enable', 'webhook-toggle', endpoint,
      (event) => toggle(event.currentTarget, endpoint, item, context)),
    rowButton('webhooks.rotate', 'webhook-rotate', endpoint, () => openRotateDialog(endpoint, item, context)),
    rowButton('webhooks.delete', 'webhook-delete', endpoint, () => openDeleteDialog(endpoint, item, context), 'button--danger'));
}

async function ping(button, endpoint, item, context) {
  await whilePending(button, async () => {
    try {
      await api('POST', `${item}/ping`);
      notify({ kind: 'success', key: 'webhooks.pinged', params: { url: endpoint.url ?? '' } });
      if (context.shownLog === endpoint.id) await context.reloadLog?.();
    } catch (err) {
      reportProblem(err);
    }
  });
}

async function toggle(button, endpoint, item, context) {
  await whilePending(button, async () => {
    try {
      await api('PATCH', item, { enabled: !endpoint.enabled });
      await context.reload();
      // The row was drawn again: its button is a new one. What is said comes once the row
      // shows it, so the words and the table never disagree.
      document.querySelector(`[data-testid="webhook-${endpoint.id}"] [data-testid="webhook-toggle"]`)?.focus();
      notify({ kind: 'success', key: endpoint.enabled ? 'webhooks.disabledDone' : 'webhooks.enabledDone', params: { url: endpoint.url ?? '' } });
    } catch (err) {
      reportProblem(err);
    }
  });
}

/**
 * The events as a choice: all of them (now and any added later), or those ticked. A field row
 * for createForm named `event_types`; its value is [] for all.
 */
function eventsField(offered, chosen) {
  const id = uid('f-events');
  const errorId = `${id}-error`;
  const all = h('input', { type: 'radio', name: `${id}-mode`, id: `${id}-all`, value: 'all', checked: !chosen.length, 'data-testid': 'webhook-events-all' });
  const some = h('input', { type: 'radio', name: `${id}-mode`, id: `${id}-some`, value: 'some', checked: chosen.length > 0, 'data-testid': 'webhook-events-some' });
  const boxes = offered.map((type) => {
    const box = h('input', { type: 'checkbox', id: `${id}-${type.replace(/\W/g, '-')}`, value: type, checked: chosen.includes(type), 'data-testid': `webhook-event-${type}` });
    return { type, box, element: h('div', { class: 'choice' }, box, h('label', { for: box.id, ...eventLabel(type) })) };
  });
  const list = h('fieldset', { class: 'choice-group choice-group--nested', 'data-testid': 'webhook-event-list' },
    h('legend', { class: 'visually-hidden', t: 'webhooks.eventsSome' }),
    boxes.map((b) => b.element));
  const update = () => {
    list.disabled = !some.checked;
  };
  all.addEventListener('change', update);
  some.addEventListener('change', update);
  update();
  const error = h('p', { class: 'field__error', id: errorId, hidden: true, 'data-testid': 'error-event_types' });
  const element = h('fieldset', { class: 'choice-group', 'data-testid': 'field-event_types' },
    h('legend', { class: 'field__label', t: 'webhooks.fieldEvents' }),
    h('div', { class: 'choice' }, all, h('label', { for: all.id, t: 'webhooks.allEvents' })),
    h('div', { class: 'choice' }, some, h('label', { for: some.id, t: 'webhooks.eventsSome' })),
    list,
    error);
  const setError = (code) => {
    element.classList.toggle('field--invalid', Boolean(code));
    error.hidden = !code;
    if (code) bind(error, code === FIELD.REQUIRED ? 'webhooks.eventsRequired' : fieldErrorKey(code));
    else {
      delete error.dataset.i18n;
      error.textContent = '';
    }
  };
  for (const b of boxes) b.box.addEventListener('change', () => setError(null));
  return {
    element,
    get input() {
      return some.checked ? boxes[0]?.box ?? some : all;
    },
    setError,
    value: () => (some.checked ? boxes.filter((b) => b.box.checked).map((b) => b.type) : []),
  };
}

/** Add (`endpoint` null) or edit an endpoint. A new one's signing secret is shown once. */
function openEndpointDialog(endpoint, context) {
  const editing = Boolean(endpoint);
  let created = null;
  const { dialog } = openDialog({
    title: editing ? 'webhooks.editTitle' : 'webhooks.addTitle',
    titleParams: { url: endpoint?.url ?? '' },
    testid: 'webhook-dialog',
    returnFocus: () => document.getElementById(TITLE_ID),
    content: ({ close }) => {
      const events = eventsField(context.offered(), Array.isArray(endpoint?.event_types) ? endpoint.event_types : []);
      const form = createForm({
        testid: 'webhook-form',
        submit: editing ? 'webhooks.save' : 'webhooks.addSubmit',
        ownMessages: true,
        values: { url: endpoint?.url ?? '', description: endpoint?.description ?? '' },
        fields: [
          { name: 'url', type: 'url', label: 'webhooks.fieldUrl', hint: 'webhooks.fieldUrlHint', maxlength: LIMITS.LIMIT_WEBHOOK_URL_CHARS, autocomplete: 'off', inputmode: 'url' },
          { name: 'description', type: 'text', label: 'webhooks.fieldDescription', maxlength: LIMITS.LIMIT_WEBHOOK_DESCRIPTION_CHARS, optional: true, autocomplete: 'off' },
          { name: 'event_types', row: events },
        ],
        actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-testid': 'dialog-cancel', onclick: close }),
        onSubmit: async (values) => {
          if (events.value().length === 0 && events.element.querySelector('[value="some"]').checked) {
            events.setError(FIELD.REQUIRED);
            events.input.focus();
            return;
          }
          const body = { url: values.url, description: values.description, event_types: values.event_types };
          if (editing) {
            await api('PATCH', `${context.path}/${encodeURIComponent(endpoint.id)}`, body);
            close();
            await context.reload();
            notify({ kind: 'success', key: 'webhooks.saved', params: { url: values.url } });
            focusLater(TITLE_ID);
          } else {
            created = await api('POST', context.path, body);
            close();
          }
        },
      });
      return form.element;
    },
  });
  dialog.addEventListener('close', () => {
    if (!created) return;
    const url = created.webhook?.url ?? created.url ?? '';
    openSecretDialog({
      title: 'webhooks.secretTitle',
      titleParams: { url },
      secret: created.secret,
      label: 'webhooks.secretLabel',
      warning: 'webhooks.secretWarning',
      use: 'webhooks.secretUse',
      testid: 'webhook-secret',
      done: async () => {
        await context.reload();
        notify({ kind: 'success', key: 'webhooks.added', params: { url } });
        focusLater(TITLE_ID);
      },
    });
  }, { once: true });
}

/**
 * A new signing secret, after confirmation. The previous one signs too for a while (the answer's
 * `previous_secret_expires_at`): the secret's dialog says until when, and so does the row.
 */
function openRotateDialog(endpoint, item, context) {
  const params = { url: endpoint.url ?? '' };
  let rotated = null;
  const { dialog } = openDialog({
    title: 'webhooks.rotateTitle',
    titleParams: params,
    testid: 'webhook-rotate-dialog',
    describedBy: 'webhook-rotate-text',
    returnFocus: () => document.getElementById(TITLE_ID),
    content: ({ close }) => {
      const { messages, confirm } = confirmAction({
        close,
        label: 'webhooks.rotate',
        testid: 'confirm-webhook-rotate',
        messagesTestid: 'webhook-rotate-message',
        run: async () => {
          rotated = await api('POST', `${item}/secret`);
        },
        onDone: () => {},
        isGone: (err) => err.status === 404,
        onGone: () => notify({ kind: 'info', key: 'webhooks.gone', params }),
        after: async () => {},
      });
      return [
        h('p', { class: 'dialog__text', id: 'webhook-rotate-text', t: 'webhooks.rotateText', params }),
        messages,
        h('div', { class: 'form__actions' },
          confirm,
          h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ];
    },
  });
  dialog.addEventListener('close', () => {
    if (!rotated) return;
    openSecretDialog({
      title: 'webhooks.secretTitle',
      titleParams: params,
      secret: rotated.secret,
      label: 'webhooks.secretLabel',
      warning: 'webhooks.secretWarning',
      ...(rotated.previous_secret_expires_at
        ? { use: 'webhooks.previousSecretUse', useParams: { when: longDateTime(rotated.previous_secret_expires_at) } }
        : {}),
      testid: 'webhook-secret',
      done: async () => {
        notify({ kind: 'success', key: 'webhooks.rotated', params });
        await context.reload();
        focusLater(TITLE_ID);
      },
    });
  }, { once: true });
}

function openDeleteDialog(endpoint, item, context) {
  const params = { url: endpoint.url ?? '' };
  openDialog({
    title: 'webhooks.deleteTitle',
    titleParams: params,
    testid: 'webhook-delete-dialog',
    describedBy: 'webhook-delete-text',
    returnFocus: () => document.getElementById(TITLE_ID),
    content: ({ close }) => {
      const { messages, confirm } = confirmAction({
        close,
        label: 'webhooks.delete',
        testid: 'confirm-webhook-delete',
        messagesTestid: 'webhook-delete-message',
        run: () => api('DELETE', item),
        onDone: () => notify({ kind: 'success', key: 'webhooks.deleted', params }),
        isGone: (err) => err.status === 404,
        onGone: () => notify({ kind: 'info', key: 'webhooks.gone', params }),
        after: async () => {
          if (context.shownLog === endpoint.id) {
            context.log.replaceChildren();
            context.shownLog = null;
          }
          await context.reload();
          focusLater(TITLE_ID);
        },
      });
      return [
        h('p', { class: 'dialog__text', id: 'webhook-delete-text', t: 'webhooks.deleteText', params }),
        messages,
        h('div', { class: 'form__actions' },
          confirm,
          h('button', { type: 'button', class: 'button', t: 'dialog.cancel', 'data-autofocus': true, 'data-testid': 'dialog-cancel', onclick: close })),
      ];
    },
  });
}

// ---- the delivery log ---------------------------------------------------------------------------

/**
 * Shows the delivery log of `endpoint` under the endpoints, and moves the focus to it. The log
 * comes a page at a time, newest first (the server's `next_before`); "Show older deliveries"
 * adds the next page under the rows shown, and the count shown is announced.
 */
function showLog(endpoint, context) {
  const item = `${context.path}/${encodeURIComponent(endpoint.id)}`;
  let deliveries = [];
  let nextBefore = null;
  const older = h('button', {
    type: 'button',
    class: 'button',
    hidden: true,
    'data-testid': 'webhook-log-older',
    onclick: (event) => whilePending(event.currentTarget, showOlder),
  }, h('span', { t: 'webhooks.showOlder' }), ' ',
  h('span', { class: 'visually-hidden', t: 'webhooks.which', params: { url: endpoint.url ?? '' } }));
  // Read out when it changes: how many deliveries the table holds now, and whether that is all.
  const count = h('p', { class: 'muted', 'aria-live': 'polite', 'data-testid': 'webhook-log-count' });
  const reload = () => section.reload();
  const table = () => (deliveries.length
    ? deliveriesTable(deliveries, item, reload)
    : h('p', { class: 'muted', t: 'webhooks.noDeliveries', 'data-testid': 'webhook-log-none' }));
  const showCount = () => {
    older.hidden = nextBefore === null;
    if (!deliveries.length) {
      delete count.dataset.i18n;
      count.textContent = '';
      return;
    }
    bind(count, nextBefore === null ? 'webhooks.shownAll' : 'webhooks.shownSome', { count: deliveries.length });
  };
  const take = (data) => {
    const page = Array.isArray(data?.deliveries) ? data.deliveries : [];
    const before = Number(data?.next_before);
    nextBefore = Number.isInteger(before) && before > 0 ? before : null;
    return page;
  };
  const section = loadingSection({
    testid: 'webhook-log',
    load: () => fetchJson(`${item}/deliveries`),
    show: (data) => {
      deliveries = take(data);
      showCount();
      return table();
    },
  });

  async function showOlder() {
    if (nextBefore === null) return;
    let page;
    try {
      page = take(await fetchJson(`${item}/deliveries?before=${encodeURIComponent(nextBefore)}`));
    } catch (err) {
      reportProblem(err);
      return;
    }
    if (!section.isConnected) return;
    // A delivery sent again moves up the log between two pages: it is shown once.
    const shown = new Set(deliveries.map((d) => d.id));
    const added = page.filter((d) => !shown.has(d.id));
    deliveries = [...deliveries, ...added];
    section.replaceChildren(table());
    showCount();
    // The button stays under the rows while there is more; when it goes, the focus goes to the
    // first of the rows it brought, not back to the top of the page.
    if (older.hidden) {
      const first = added[0] && section.querySelector(`[data-testid="delivery-${added[0].id}"] th`);
      if (first) {
        first.setAttribute('tabindex', '-1');
        first.focus();
      } else {
        focusLater(LOG_TITLE_ID);
      }
    }
  }

  context.shownLog = endpoint.id;
  context.reloadLog = reload;
  const refresh = h('button', {
    type: 'button',
    class: 'button',
    t: 'webhooks.refresh',
    'data-testid': 'webhook-log-refresh',
    onclick: (event) => whilePending(event.currentTarget, reload),
  });
  context.log.replaceChildren(h('section', { class: 'card', 'aria-labelledby': LOG_TITLE_ID, 'data-testid': 'webhook-log-card' },
    h('div', { class: 'card__head' },
      h('h2', { id: LOG_TITLE_ID, class: 'card__title', tabindex: '-1', t: 'webhooks.logTitle', params: { url: endpoint.url ?? '' } }),
      refresh),
    h('p', { class: 'card__text', t: 'webhooks.logIntro' }),
    section,
    count,
    h('div', { class: 'subscribers__more' }, older)));
  focusLater(LOG_TITLE_ID);
}

function deliveryStatus(delivery) {
  const [key, badge] = DELIVERY_STATUS[delivery.status] || ['webhooks.deliveryPending', 'badge--other'];
  return h('span', { class: `badge ${badge}`, t: key, 'data-testid': 'delivery-status' });
}

function deliveriesTable(deliveries, item, reload) {
  return dataTable({
    labelledBy: LOG_TITLE_ID,
    testid: 'webhook-log-table',
    rowTestid: (d) => `delivery-${d.id}`,
    rows: deliveries,
    columns: [
      { key: 'webhooks.colEvent', cell: (d) => h('span', { 'data-testid': 'delivery-event', ...eventLabel(d.type) }) },
      { key: 'webhooks.colDeliveryStatus', cell: (d) => deliveryStatus(d) },
      { key: 'webhooks.colAttempts', numeric: true, cell: (d) => ({ format: (lang) => new Intl.NumberFormat(lang).format(Number(d.attempts) || 0), 'data-testid': 'delivery-attempts' }) },
      { key: 'webhooks.colTime', cell: (d) => h('span', { class: 'nowrap' }, moment(d.created_at)) },
      { key: 'webhooks.colDetails', cell: (d) => attemptsDisclosure(d, item) },
      { key: 'webhooks.colActions', cell: (d) => redeliverButton(d, item, reload) },
    ],
  });
}

/** A delivery's attempts, fetched when opened: when, the answer's status, its first part. */
function attemptsDisclosure(delivery, item) {
  const body = h('div', { class: 'attempts', 'data-testid': 'delivery-attempts-list' });
  const details = h('details', { class: 'attempts__details', 'data-testid': 'delivery-details' },
    h('summary', {}, h('span', { t: 'webhooks.showAttempts' }), ' ',
      h('span', { class: 'visually-hidden', t: 'webhooks.ofDelivery', params: { when: (lang) => formatDateTime(lang, delivery.created_at) } })),
    body);
  let loaded = false;
  details.addEventListener('toggle', async () => {
    if (!details.open || loaded) return;
    loaded = true;
    body.replaceChildren(h('p', { class: 'loading', t: 'lsc.loading' }));
    try {
      const data = await fetchJson(`${item}/deliveries/${encodeURIComponent(delivery.id)}`);
      const attempts = Array.isArray(data?.attempt_log) ? data.attempt_log : [];
      body.replaceChildren(attempts.length
        ? h('ol', { class: 'attempts__list' }, attempts.map(attempt))
        : h('p', { class: 'muted', t: 'webhooks.noAttempts' }));
    } catch (err) {
      loaded = false;
      body.replaceChildren(h('p', { class: 'muted', t: 'lsc.loadFailed' }));
      reportProblem(err);
    }
  });
  return details;
}

function attempt(a) {
  const status = Number.isInteger(a.http_status) && a.http_status > 0
    ? h('span', { class: 'code', t: 'webhooks.httpStatus', params: { status: a.http_status }, 'data-testid': 'attempt-status' })
    : h('span', { t: 'webhooks.noAnswer' });
  return h('li', { class: 'attempts__item', 'data-testid': 'delivery-attempt' },
    h('p', { class: 'attempts__head' }, moment(a.at), ' — ', status,
      a.error && [' — ', h('span', { 'data-testid': 'attempt-error' }, a.error)]),
    a.response
      ? h('pre', { class: 'attempts__response', tabindex: '0', 'data-testid': 'attempt-response', tAttrs: { 'aria-label': 'webhooks.response' } }, a.response)
      : h('p', { class: 'muted', t: 'webhooks.noResponse' }));
}

function redeliverButton(delivery, item, reload) {
  return h('button', {
    type: 'button',
    class: 'button button--small',
    'data-testid': 'delivery-redeliver',
    onclick: (event) => whilePending(event.currentTarget, async () => {
      try {
        await api('POST', `${item}/deliveries/${encodeURIComponent(delivery.id)}/redeliver`);
        notify({ kind: 'success', key: 'webhooks.redelivered' });
        await reload();
        focusLater(LOG_TITLE_ID);
      } catch (err) {
        if (err instanceof ApiError && err.code === PROBLEM.NOT_FOUND) {
          notify({ kind: 'info', key: 'webhooks.deliveryGone' });
          await reload();
          return;
        }
        reportProblem(err);
      }
    }),
  }, h('span', { t: 'webhooks.redeliver' }), ' ',
  h('span', { class: 'visually-hidden', t: 'webhooks.ofDelivery', params: { when: (lang) => formatDateTime(lang, delivery.created_at) } }));
}
