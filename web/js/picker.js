// The agreement picker: a select-only combobox with a popup listbox (the ARIA authoring practices'
// pattern), because each choice shows more than a <select> option can hold — the customer, the
// license number, the user's role, a status badge and the dates. For partners, its last entry
// opens the "New Open license" dialog.
//
// Keyboard: Down/Up/Enter/Space/Alt+Down open it; then Up/Down/Home/End/PageUp/PageDown move,
// typing a name jumps to it, Enter/Space/Alt+Up choose, Escape and Tab close without choosing.
// Moving through the list changes nothing: only choosing opens an agreement.

import { agreementHref } from './agreements.js';
import { h, uid } from './dom.js';
import { date, role, statusBadge } from './present.js';
import { navigate } from './router.js';
import { openNewLicenseDialog } from './registration.js';

const NEW_LICENSE = 'new-license';

/**
 * `agreements` from GET /api/v1/agreements; `selected`: the license number shown as chosen (null
 * for none); `partner`: add the "New Open license" entry; `describedBy`: the id of a hint;
 * `compact` for the header. Choosing an agreement opens its page.
 */
export function agreementPicker({ agreements, selected = null, partner = false, compact = false, describedBy, testid = 'agreement-picker' }) {
  const id = uid('picker');
  const labelId = `${id}-label`;
  const listId = `${id}-list`;
  const choices = agreements.map((a) => ({ value: a.license_number, agreement: a }));
  if (partner) choices.push({ value: NEW_LICENSE });
  // Nothing to choose between: one agreement and no "New Open license".
  const disabled = choices.length <= 1 && choices.every((c) => c.value === selected);

  const combo = h('div', {
    class: 'picker__combo',
    id,
    role: 'combobox',
    tabindex: '0',
    'aria-haspopup': 'listbox',
    'aria-expanded': 'false',
    'aria-controls': listId,
    'aria-labelledby': labelId,
    'aria-describedby': describedBy,
    'aria-disabled': disabled ? 'true' : null,
    'data-testid': `${testid}-combobox`,
  });
  const options = choices.map((choice, index) => {
    const option = h('div', {
      class: choice.value === NEW_LICENSE ? 'picker__option picker__option--new' : 'picker__option',
      id: `${id}-option-${index}`,
      role: 'option',
      'aria-selected': String(choice.value === selected),
      'data-value': choice.value,
      'data-testid': choice.value === NEW_LICENSE ? 'picker-new-license' : `picker-option-${choice.value}`,
    }, choice.value === NEW_LICENSE ? newLicenseContent() : agreementContent(choice.agreement));
    option.addEventListener('click', () => choose(index));
    return option;
  });
  const list = h('div', { class: 'picker__list', id: listId, role: 'listbox', 'aria-labelledby': labelId, tabindex: '-1', hidden: true }, options);
  // A click in the list must not take the focus from the combobox (that would close the list).
  list.addEventListener('mousedown', (event) => event.preventDefault());

  const element = h('div', { class: compact ? 'picker picker--compact' : 'picker', 'data-testid': testid },
    h('span', { class: 'picker__label', id: labelId, t: 'picker.label' }),
    h('div', { class: 'picker__control' },
      combo,
      h('span', { class: 'picker__arrow', 'aria-hidden': 'true' }),
      list));

  let active = -1;
  let typed = '';
  let typedAt = 0;

  showValue();

  function showValue() {
    const choice = choices.find((c) => c.value === selected && c.value !== NEW_LICENSE);
    combo.replaceChildren(choice
      ? agreementContent(choice.agreement, { value: true })
      : h('span', { class: 'picker__placeholder', t: 'picker.choose' }));
  }

  function isOpen() {
    return !list.hidden;
  }

  function open(index) {
    if (disabled || !choices.length) return;
    list.hidden = false;
    combo.setAttribute('aria-expanded', 'true');
    element.classList.add('is-open');
    const current = choices.findIndex((c) => c.value === selected);
    setActive(index ?? (current >= 0 ? current : 0));
  }

  function close() {
    list.hidden = true;
    combo.setAttribute('aria-expanded', 'false');
    combo.removeAttribute('aria-activedescendant');
    element.classList.remove('is-open');
    active = -1;
  }

  function setActive(index) {
    active = Math.max(0, Math.min(options.length - 1, index));
    options.forEach((option, i) => option.classList.toggle('is-active', i === active));
    combo.setAttribute('aria-activedescendant', options[active].id);
    options[active].scrollIntoView({ block: 'nearest' });
  }

  function choose(index) {
    const choice = choices[index];
    close();
    combo.focus();
    if (!choice) return;
    if (choice.value === NEW_LICENSE) {
      openNewLicenseDialog();
    } else if (location.pathname !== agreementHref(choice.value)) {
      navigate(agreementHref(choice.value));
    }
  }

  // Typing the start of a customer's name (or of a license number) jumps to it.
  function typeAhead(char) {
    const now = Date.now();
    typed = now - typedAt > 700 ? char : typed + char;
    typedAt = now;
    const words = options.map((option) => option.textContent.toLowerCase());
    const from = typed.length === 1 ? active + 1 : active;
    for (let step = 0; step < options.length; step++) {
      const i = (Math.max(from, 0) + step) % options.length;
      const choice = choices[i];
      const names = choice.agreement ? [choice.agreement.customer?.name || '', choice.agreement.license_number] : [words[i]];
      if (names.some((name) => name.toLowerCase().startsWith(typed))) {
        if (!isOpen()) open(i);
        else setActive(i);
        return;
      }
    }
  }

  combo.addEventListener('click', () => (isOpen() ? close() : open()));
  combo.addEventListener('blur', () => close());
  combo.addEventListener('keydown', (event) => {
    if (disabled) return;
    const { key, altKey } = event;
    let handled = true;
    if (!isOpen()) {
      if (key === 'ArrowDown' || key === 'ArrowUp' || key === 'Enter' || key === ' ') open();
      else if (key === 'Home') open(0);
      else if (key === 'End') open(options.length - 1);
      else if (key.length === 1 && !event.ctrlKey && !event.metaKey && !altKey) typeAhead(key.toLowerCase());
      else handled = false;
    } else if (key === 'ArrowUp' && altKey) choose(active);
    else if (key === 'ArrowDown') setActive(active + 1);
    else if (key === 'ArrowUp') setActive(active - 1);
    else if (key === 'Home') setActive(0);
    else if (key === 'End') setActive(options.length - 1);
    else if (key === 'PageDown') setActive(active + 10);
    else if (key === 'PageUp') setActive(active - 10);
    else if (key === 'Enter' || (key === ' ' && Date.now() - typedAt > 700)) choose(active);
    else if (key === 'Escape') close();
    else if (key === 'Tab') {
      close();
      handled = false; // the focus moves on as usual
    } else if (key.length === 1 && !event.ctrlKey && !event.metaKey && !altKey) typeAhead(key.toLowerCase());
    else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  });

  return element;
}

/** One agreement: the customer and license number, then the role, status and dates. */
function agreementContent(agreement, { value = false } = {}) {
  return h('span', { class: value ? 'picker__item picker__item--value' : 'picker__item' },
    h('span', { class: 'picker__main' },
      h('span', { class: 'picker__customer' }, agreement.customer?.name ?? ''),
      ' ',
      h('span', { class: 'picker__number code' }, agreement.license_number)),
    h('span', { class: 'picker__meta' },
      h('span', role(agreement.role)),
      // Spaces, so that the words stay apart for screen readers and in copied text.
      ' ',
      statusBadge(agreement.status),
      ' ',
      h('span', {
        class: 'picker__dates',
        t: 'picker.dates',
        params: { start: date(agreement.start_date).format, end: date(agreement.end_date).format },
      })));
}

function newLicenseContent() {
  return h('span', { class: 'picker__item' },
    h('span', { class: 'picker__main' },
      h('span', { class: 'picker__plus', 'aria-hidden': 'true' }, '+'),
      h('span', { t: 'picker.newLicense' })),
    h('span', { class: 'picker__meta', t: 'picker.newLicenseHint' }));
}
