// /lsc/orders/new: a partner orders subscriptions for a customer. This creates the customer's
// license (license and authorization numbers) and sends the customer an invitation.
//
// Each form carries one idempotency key, sent with every submission: a double click, or trying
// again after the answer got lost, can only ever create one order. A new form (after success, or
// on a fresh visit) gets a new key.

import { api, ApiError } from '../api.js';
import { COUNTRIES, FIELD, LIMITS, PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { bind, currentLanguage, t } from '../i18n.js';
import { checkField, fieldErrors, fieldRow, option, readValue, showProblem, whilePending } from '../form.js';
import { clearNotice, notify } from '../notice.js';
import { reportProblem } from '../problems.js';
import { authorizationNumber, countryName } from '../present.js';
import { linkLine, pageView, swapView } from './layout.js';
import { licenseHref } from './lsc.js';

const customerFields = [
  { name: 'customer_name', type: 'text', label: 'order.customerName', autocomplete: 'off' },
  { name: 'customer_email', type: 'email', label: 'order.customerEmail', hint: 'order.customerEmailHint', autocomplete: 'off' },
  {
    name: 'customer_country',
    type: 'select',
    label: 'order.country',
    messages: { [FIELD.REQUIRED]: 'order.countryRequired' },
    options: [{ value: '', t: 'order.countryChoose' }, ...COUNTRIES.map((code) => ({ value: code, format: (lang) => countryName(lang, code) }))],
  },
  {
    name: 'language',
    type: 'select',
    label: 'order.language',
    hint: 'order.languageHint',
    options: [
      { value: 'auto', t: 'order.languageAuto' },
      { value: 'en', t: 'order.languageEn' },
      { value: 'fr', t: 'order.languageFr' },
    ],
  },
];
const poField = { name: 'po_reference', type: 'text', label: 'order.poReference', hint: 'order.poReferenceHint', optional: true, autocomplete: 'off' };

export default {
  title: 'order.title',
  access: 'user',
  view() {
    const view = pageView({ title: 'order.title', intro: 'order.intro', wide: true },
      orderForm((result, sent) => swapView(view, placed(result, sent))),
      linkLine('order.backText', 'order.backLink', '/lsc'));
    return view;
  },
};

function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context (HTTPS or localhost); random bytes do not.
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

function orderForm(onPlaced) {
  const idempotencyKey = newIdempotencyKey();
  const errors = fieldErrors();
  let levels = null; // [{ code, name }] once loaded
  let pending = false;

  // ---- customer ----
  const customerRows = customerFields.map((spec) => {
    const row = fieldRow(spec);
    errors.add(spec.name, row);
    return row;
  });
  const countrySelect = customerRows[2].input;
  sortCountries(countrySelect);

  // ---- lines ----
  const lines = [];
  const linesList = h('ol', { class: 'order-lines', 'data-testid': 'order-lines' });
  const linesAnnouncer = h('p', { class: 'visually-hidden', 'aria-live': 'polite', 'data-testid': 'lines-announcer' });
  const linesError = h('p', { class: 'field__error', id: 'order-lines-error', hidden: true, 'data-testid': 'error-lines' });
  const addButton = h('button', {
    type: 'button',
    class: 'button',
    'data-testid': 'add-line',
    onclick: () => addLine({ focus: true }),
  }, h('span', { 'aria-hidden': 'true' }, '+'), ' ', h('span', { t: 'order.addLine' }));
  const linesFieldset = h('fieldset', { class: 'form__group', 'aria-describedby': 'order-lines-hint' },
    h('legend', { class: 'form__legend', t: 'order.linesLegend' }),
    h('p', { class: 'field__hint', id: 'order-lines-hint', t: 'order.linesHint' }),
    linesError,
    linesList,
    h('div', { class: 'form__actions' }, addButton),
    linesAnnouncer);
  // An error about the lines as a whole ("add at least one") sits above them.
  const linesGroup = {
    get input() { return lines[0]?.level.input || addButton; },
    setError(code) {
      if (code) bind(linesError, code === FIELD.REQUIRED ? 'order.linesRequired' : code === FIELD.TOO_LONG ? 'order.linesTooMany' : 'order.linesInvalid');
      else {
        delete linesError.dataset.i18n;
        linesError.textContent = '';
      }
      linesError.hidden = !code;
      if (code) linesFieldset.setAttribute('aria-describedby', 'order-lines-hint order-lines-error');
      else linesFieldset.setAttribute('aria-describedby', 'order-lines-hint');
    },
  };
  errors.add('lines', linesGroup);

  function addLine({ focus }) {
    const level = fieldRow({
      name: 'level',
      type: 'select',
      label: 'order.level',
      testid: 'line-level',
      messages: { [FIELD.REQUIRED]: 'order.levelRequired', [FIELD.INVALID_VALUE]: 'order.levelRequired', [FIELD.DUPLICATE]: 'order.levelDuplicate' },
      options: [{ value: '', t: levels ? 'order.levelChoose' : 'lsc.loading' }],
    });
    const quantity = fieldRow({
      name: 'quantity',
      type: 'text',
      inputmode: 'numeric',
      label: 'order.quantity',
      testid: 'line-quantity',
      min: 1,
      max: LIMITS.ORDER_MAX_QUANTITY,
      messages: { [FIELD.REQUIRED]: 'order.quantityRange', [FIELD.INVALID_VALUE]: 'order.quantityRange', [FIELD.OUT_OF_RANGE]: 'order.quantityRange', [FIELD.WRONG_TYPE]: 'order.quantityRange' },
    });
    quantity.input.setAttribute('pattern', '[0-9]*');
    quantity.input.classList.add('input--short');
    const legend = h('legend', { class: 'order-line__legend' });
    const remove = h('button', { type: 'button', class: 'button button--small button--quiet order-line__remove', 'data-testid': 'remove-line' });
    const element = h('li', { class: 'order-line', 'data-testid': 'order-line' },
      h('fieldset', { class: 'order-line__fields' }, legend, level.element, quantity.element, h('div', { class: 'order-line__actions' }, remove)));
    const line = { element, level, quantity, legend, remove };
    remove.addEventListener('click', () => removeLine(line));
    if (levels) fillLevels(level.input);
    lines.push(line);
    linesList.append(element);
    renumber();
    if (focus) {
      level.input.focus();
      announce('order.lineAdded', { n: lines.length });
    }
  }

  // Said once, not kept translated: a language switch must not announce it again.
  function announce(key, params) {
    linesAnnouncer.textContent = t(key, params);
  }

  function removeLine(line) {
    const index = lines.indexOf(line);
    lines.splice(index, 1);
    line.element.remove();
    renumber();
    announce('order.lineRemoved', { n: index + 1 });
    // Keep the focus near where it was: the line that took this one's place, else the add button
    // (shown again, since there is now room for a line).
    (lines[index]?.level.input || addButton).focus();
  }

  // Names follow positions (lines[0].level …) so the server's field errors land on the right line.
  const lineNames = [];
  function renumber() {
    for (const name of lineNames.splice(0)) errors.remove(name);
    lines.forEach((line, i) => {
      const n = i + 1;
      bind(line.legend, 'order.lineLegend', { n });
      for (const [part, row] of [['level', line.level], ['quantity', line.quantity]]) {
        row.spec.name = `lines[${i}].${part}`;
        row.input.name = row.spec.name;
        errors.add(row.spec.name, row);
        lineNames.push(row.spec.name);
      }
      line.remove.replaceChildren(
        h('span', { t: 'order.removeLine' }),
        ' ',
        h('span', { class: 'visually-hidden', t: 'order.removeLineWhich', params: { n } }));
      line.remove.hidden = lines.length === 1;
    });
    addButton.hidden = lines.length >= maxLines();
  }

  function maxLines() {
    return levels && levels.length ? Math.min(LIMITS.ORDER_MAX_LINES, levels.length) : LIMITS.ORDER_MAX_LINES;
  }

  function fillLevels(select, value = select.value) {
    select.replaceChildren(
      option({ value: '', t: 'order.levelChoose' }),
      ...levels.map((level) => option({ value: level.code, text: level.name || level.code })));
    select.value = value;
  }

  // ---- levels from the server (names in the user's language) ----
  async function loadLevels() {
    try {
      const result = await api('GET', '/levels');
      levels = Array.isArray(result?.levels) ? result.levels : [];
      for (const line of lines) fillLevels(line.level.input);
      renumber();
    } catch (err) {
      if (!(err instanceof ApiError) || err.code === PROBLEM.UNAUTHENTICATED) {
        reportProblem(err);
        return;
      }
      notify({ kind: 'error', key: 'order.levelsFailed', action: { key: 'lsc.retry', onClick: () => { clearNotice(); loadLevels(); } } });
    }
  }
  let levelsLanguage = currentLanguage();
  const onUser = (event) => {
    if (!form.isConnected) {
      document.removeEventListener('openseat:user', onUser);
      return;
    }
    const lang = event.detail?.language;
    if (lang && lang !== levelsLanguage) {
      levelsLanguage = lang;
      loadLevels();
    }
  };
  document.addEventListener('openseat:user', onUser);
  const onLanguage = () => {
    if (form.isConnected) sortCountries(countrySelect);
    else document.removeEventListener('openseat:language', onLanguage);
  };
  document.addEventListener('openseat:language', onLanguage);

  // ---- the form ----
  const poRow = fieldRow(poField);
  errors.add(poField.name, poRow);
  const submit = h('button', { type: 'submit', class: 'button button--primary', t: 'order.submit', 'data-testid': 'order-submit' });
  const form = h('form', { class: 'form', novalidate: true, 'data-testid': 'order-form' },
    h('fieldset', { class: 'form__group' },
      h('legend', { class: 'form__legend', t: 'order.customerLegend' }),
      customerRows.map((row) => row.element)),
    linesFieldset,
    poRow.element,
    h('div', { class: 'form__actions' }, submit));

  addLine({ focus: false });
  loadLevels();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (pending) return;
    clearNotice();
    errors.clear();
    const specs = [...customerRows, poRow].map((row) => row.spec);
    const values = Object.fromEntries([...customerRows, poRow].map((row) => [row.spec.name, readValue(row.spec, row.input)]));
    const checks = specs.map((spec) => [spec, values[spec.name]]);
    const seen = new Set();
    const duplicates = [];
    for (const line of lines) {
      const level = line.level.input.value;
      checks.push([line.level.spec, level], [line.quantity.spec, readValue(line.quantity.spec, line.quantity.input)]);
      if (level && seen.has(level)) duplicates.push([line.level.spec.name, 'duplicate']);
      seen.add(level);
    }
    const failed = checks.map(([spec, value]) => [spec.name, checkField(spec, value)]).filter(([, code]) => code);
    failed.push(...duplicates.filter(([name]) => !failed.some(([other]) => other === name)));
    if (failed.length) {
      errors.show(failed);
      return;
    }

    const body = {
      customer_name: values.customer_name,
      customer_email: values.customer_email,
      customer_country: values.customer_country,
      lines: lines.map((line) => ({ level: line.level.input.value, quantity: Number(line.quantity.input.value.trim()) })),
    };
    if (values.language !== 'auto') body.language = values.language;
    if (values.po_reference) body.po_reference = values.po_reference;

    pending = true;
    try {
      const result = await whilePending(submit, () => api('POST', '/lsc/orders', body, { headers: { 'Idempotency-Key': idempotencyKey } }));
      if (form.isConnected) onPlaced(result, body);
    } catch (err) {
      if (form.isConnected) showProblem(err, { errors, onProblem, data: body });
    } finally {
      pending = false;
    }
  });

  return form;
}

function onProblem(err) {
  if (err.code === PROBLEM.FORBIDDEN) {
    notify({ kind: 'error', key: 'order.forbidden' });
    return true;
  }
  if (err.code === PROBLEM.CONFLICT) {
    // This form's key already placed an order, with other details: do not guess, send them to look.
    notify({ kind: 'error', key: 'order.conflict', action: { key: 'order.conflictLink', href: '/lsc' } });
    return true;
  }
  return false;
}

// Countries in the alphabetical order of their names in the page language; the choice stays.
function sortCountries(select) {
  const lang = currentLanguage();
  const chosen = select.value;
  const [placeholder, ...options] = [...select.options];
  const collator = new Intl.Collator(lang);
  options.sort((a, b) => collator.compare(countryName(lang, a.value), countryName(lang, b.value)));
  select.replaceChildren(placeholder, ...options);
  select.value = chosen;
}

/** What the partner sees once the order is in: the new license's numbers and where to go next. */
function placed(result, sent) {
  const agreement = result?.agreement || {};
  const licenseNumber = result?.order?.license_number || agreement.license_number || '';
  return pageView({
    title: 'order.doneTitle',
    intro: 'order.doneText',
    introParams: { customer: sent.customer_name, email: sent.customer_email },
    wide: true,
  },
  h('section', { class: 'card', 'aria-labelledby': 'order-done-numbers', 'data-testid': 'order-done' },
    h('h2', { id: 'order-done-numbers', class: 'card__title', t: 'order.doneNumbers' }),
    h('dl', { class: 'facts' },
      h('dt', { t: 'license.number' }),
      h('dd', {}, h('span', { class: 'code code--large', 'data-testid': 'done-license-number' }, licenseNumber)),
      agreement.authorization_number && [
        h('dt', { t: 'license.authorizationNumber' }),
        h('dd', {}, authorizationNumber(agreement.authorization_number)),
      ]),
    h('p', { class: 'field__hint', t: 'order.doneKeep' })),
  h('div', { class: 'form__actions' },
    h('a', { href: licenseHref(licenseNumber), class: 'button button--primary', t: 'order.viewLicense', 'data-testid': 'view-license' }),
    h('a', { href: '/lsc/orders/new', class: 'button', t: 'order.another' })),
  h('p', { class: 'page__aside' }, h('a', { href: '/lsc', t: 'order.backLink' })));
}
