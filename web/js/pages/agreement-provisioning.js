// /agreements/{license}/provisioning: for the agreement's super admins, how to connect the
// company's identity provider (the SCIM base URL; the token comes from the Tokens page), the
// groups it pushed with their member counts, and the group → seat rules. Adding, changing or
// removing a rule is two steps in one dialog: the form, then the preview of who gains, loses,
// changes level and whom the pool refuses; "Apply" sends the preview's plan, and a plan the
// members or the pool have overtaken since is said in words, with "Preview again".

import { FIELD, PROBLEM, SUBSCRIBER_LANGUAGES } from '../constants.js';
import { agreementHref } from '../agreements.js';
import { api, ApiError } from '../api.js';
import { openDialog } from '../dialog.js';
import { h } from '../dom.js';
import { createForm, whilePending } from '../form.js';
import { currentLanguage } from '../i18n.js';
import { notify } from '../notice.js';
import { countryName, dataTable, fetchJson, languageName, loadingSection } from '../present.js';
import { problemNotice } from '../problems.js';
import { sortedCountries } from '../subscribers/fields.js';
import { agreementTab } from './agreement.js';

// Why the pool or the rules refuse a person, as the preview's `refused[].reason` says it.
const REASON_KEYS = Object.freeze({
  [FIELD.NO_SEATS_LEFT]: 'provisioning.reason.no_seats_left',
  [FIELD.REASSIGNMENT_TOO_SOON]: 'provisioning.reason.reassignment_too_soon',
  [FIELD.DUPLICATE]: 'provisioning.reason.duplicate',
  [FIELD.OUTSIDE_DOMAIN]: 'provisioning.reason.outside_domain',
  email_missing: 'provisioning.reason.email_missing',
});

const RULES_ID = 'provisioning-rules-title';
const GROUPS_ID = 'provisioning-groups-title';

export default {
  title: 'provisioning.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({ param, part: 'provisioning', title: 'provisioning.title', show: provisioningCards });
  },
};

function provisioningCards(agreement, base) {
  const scimUrl = `${window.location.origin}/api/v1${base}/scim/v2`;
  const connect = h('section', { class: 'card', 'aria-labelledby': 'provisioning-connect-title', 'data-testid': 'provisioning-connect' },
    h('h2', { id: 'provisioning-connect-title', class: 'card__title', t: 'provisioning.connectTitle' }),
    h('p', { class: 'card__text', t: 'provisioning.connectIntro' }),
    h('p', { class: 'card__text' }, h('span', { t: 'provisioning.baseUrl' }), ' ',
      h('code', { 'data-testid': 'provisioning-base-url' }, scimUrl)),
    h('p', { class: 'card__text', t: 'provisioning.tokenText' }),
    h('p', {}, h('a', { href: agreementHref(agreement.license_number, 'tokens'), t: 'provisioning.tokenLink', 'data-testid': 'provisioning-token-link' })));

  let data = null;
  const section = loadingSection({
    testid: 'provisioning-rules',
    load: async () => {
      const [groups, mappings, overview] = await Promise.all([
        fetchJson(`${base}/provisioning/groups`), fetchJson(`${base}/provisioning/mappings`), fetchJson(`${base}/overview`)]);
      return { groups: groups.groups || [], mappings: mappings.mappings || [], levels: overview.levels || [] };
    },
    show: (loaded) => {
      data = loaded;
      return rulesView(loaded, base, () => section.reload());
    },
  });
  const addButton = h('button', {
    type: 'button', class: 'button button--primary', t: 'provisioning.addRule', 'data-testid': 'provisioning-add',
    onclick: () => {
      if (!data?.groups.length) {
        notify({ kind: 'info', key: 'provisioning.noGroupsYet' });
        return;
      }
      openRuleDialog({ base, data, reload: () => section.reload() });
    },
  });
  const rules = h('section', { class: 'card', 'aria-labelledby': RULES_ID, 'data-testid': 'provisioning-rules-card' },
    h('h2', { id: RULES_ID, class: 'card__title', tabindex: '-1', t: 'provisioning.rulesTitle' }),
    h('p', { class: 'card__text', t: 'provisioning.rulesIntro' }),
    h('div', { class: 'form__actions' }, addButton),
    section);
  return h('div', {}, connect, rules);
}

function levelName(levels, code) {
  return levels.find((l) => l.level === code)?.name || code;
}

function rulesView({ groups, mappings, levels }, base, reload) {
  const data = { groups, mappings, levels };
  const span = (text) => h('span', {}, text);
  const rulesTable = mappings.length
    ? dataTable({
      labelledBy: RULES_ID,
      testid: 'provisioning-rules-table',
      rowTestid: () => 'provisioning-rule',
      rows: mappings,
      columns: [
        { key: 'provisioning.colGroup', cell: (m) => span(m.group.display_name) },
        { key: 'provisioning.colLevel', cell: (m) => span(levelName(levels, m.level)) },
        { key: 'provisioning.colLanguage', cell: (m) => h('span', { format: (l) => languageName(l, m.language) }) },
        { key: 'provisioning.colCountry', cell: (m) => h('span', { format: (l) => countryName(l, m.country) }) },
        { key: 'provisioning.colDownloads', cell: (m) => h('span', { t: m.downloads ? 'provisioning.downloadsOn' : 'provisioning.downloadsOff' }) },
        {
          key: 'provisioning.colActions',
          cell: (m) => h('span', { class: 'nowrap' },
            h('button', {
              type: 'button', class: 'button button--small', t: 'provisioning.change', 'data-testid': 'provisioning-change',
              onclick: () => openRuleDialog({ base, data, reload, mapping: m }),
            }), ' ',
            h('button', {
              type: 'button', class: 'button button--small button--danger', t: 'provisioning.remove', 'data-testid': 'provisioning-remove',
              onclick: () => openRemoveDialog({ base, data, reload, mapping: m }),
            })),
        },
      ],
    })
    : h('p', { class: 'muted', t: 'provisioning.noRules', 'data-testid': 'provisioning-no-rules' });
  const ruleOf = (g) => mappings.find((x) => x.group.id === g.id);
  const groupsPart = groups.length
    ? dataTable({
      labelledBy: GROUPS_ID,
      testid: 'provisioning-groups-table',
      rowTestid: () => 'provisioning-group',
      rows: groups,
      columns: [
        { key: 'provisioning.colGroup', cell: (g) => span(g.display_name) },
        { key: 'provisioning.colMembers', cell: (g) => h('span', { t: 'provisioning.members', params: { count: g.members, active: g.active_members } }) },
        { key: 'provisioning.colRule', cell: (g) => (ruleOf(g) ? span(levelName(levels, ruleOf(g).level)) : h('span', { class: 'muted', t: 'provisioning.noRule' })) },
      ],
    })
    : h('p', { class: 'muted', t: 'provisioning.noGroups', 'data-testid': 'provisioning-no-groups' });
  return [rulesTable,
    h('h3', { id: GROUPS_ID, class: 'form__subtitle', t: 'provisioning.groupsTitle' }),
    groupsPart];
}

/** The dialog of a rule to add (no mapping) or change: the form, then the preview, then Apply. */
function openRuleDialog({ base, data, reload, mapping }) {
  const lang = currentLanguage();
  openDialog({
    title: mapping ? 'provisioning.changeTitle' : 'provisioning.addTitle',
    titleParams: { group: mapping?.group.display_name ?? '' },
    testid: 'provisioning-dialog',
    returnFocus: () => document.getElementById(RULES_ID),
    content: ({ close }) => {
      const body = h('div', {});
      const showForm = (values) => {
        const fields = [
          mapping ? null : {
            name: 'group', type: 'select', label: 'provisioning.fieldGroup',
            options: data.groups.map((g) => ({ value: g.id, text: g.display_name })),
          },
          { name: 'level', type: 'select', label: 'provisioning.fieldLevel', options: data.levels.map((l) => ({ value: l.level, text: l.name })) },
          { name: 'language', type: 'select', label: 'provisioning.fieldLanguage', hint: 'provisioning.fieldLanguageHint', options: SUBSCRIBER_LANGUAGES.map((code) => ({ value: code, format: (l) => languageName(l, code) })) },
          { name: 'country', type: 'select', label: 'provisioning.fieldCountry', options: sortedCountries(lang).map((code) => ({ value: code, format: (l) => countryName(l, code) })) },
          { name: 'downloads', type: 'checkbox', label: 'provisioning.fieldDownloads', optional: true },
        ].filter(Boolean);
        const form = createForm({
          testid: 'provisioning-form',
          submit: 'provisioning.preview',
          ownMessages: true,
          values,
          fields,
          actions: h('button', { type: 'button', class: 'button', t: 'dialog.cancel', onclick: close }),
          onSubmit: async (v) => {
            const rule = { group: mapping ? mapping.group.id : v.group, level: v.level, language: v.language, country: v.country, downloads: v.downloads };
            const preview = async () => {
              const outcome = await api('POST', `${base}/provisioning/mappings/preview`, rule);
              showPreview(body, outcome, {
                back: () => showForm(v),
                apply: () => api('PUT', `${base}/provisioning/mappings`, { ...rule, plan: outcome.plan }),
                again: preview,
                levels: data.levels,
                done: async () => { close(); await reload(); notify({ kind: 'success', key: 'provisioning.applied' }); },
              });
            };
            await preview();
          },
        });
        body.replaceChildren(form.element);
        body.querySelector('select, input')?.focus();
      };
      showForm(mapping
        ? { level: mapping.level, language: mapping.language, country: mapping.country, downloads: mapping.downloads }
        : { group: data.groups.find((g) => !data.mappings.some((m) => m.group.id === g.id))?.id ?? data.groups[0]?.id,
          level: data.levels[0]?.level, language: lang, country: 'FR', downloads: true });
      return body;
    },
  });
}

/** Removing a rule: its preview at once, then Apply. */
function openRemoveDialog({ base, data, reload, mapping }) {
  openDialog({
    title: 'provisioning.removeTitle',
    titleParams: { group: mapping.group.display_name },
    testid: 'provisioning-dialog',
    returnFocus: () => document.getElementById(RULES_ID),
    content: ({ close }) => {
      const body = h('div', {}, h('p', { t: 'provisioning.loadingPreview' }));
      const run = async () => {
        try {
          const outcome = await api('POST', `${base}/provisioning/mappings/preview`, { remove: mapping.id });
          showPreview(body, outcome, {
            back: close,
            apply: () => api('DELETE', `${base}/provisioning/mappings/${mapping.id}?plan=${outcome.plan}`),
            again: run,
            levels: data.levels,
            done: async () => { close(); await reload(); notify({ kind: 'success', key: 'provisioning.removed' }); },
          });
        } catch (err) {
          body.replaceChildren(messageBox(problemNotice(err)),
            h('div', { class: 'form__actions' }, h('button', { type: 'button', class: 'button', t: 'dialog.close', onclick: close })));
        }
      };
      run();
      return body;
    },
  });
}

function messageBox(message) {
  return h('div', { class: 'form__messages', role: 'alert', 'data-testid': 'provisioning-message' },
    message && h('div', { class: `notice notice--${message.kind || 'error'}` },
      h('p', { class: 'notice__text', t: message.key, params: message.params })));
}

function effectList(key, entries, total, levels, kind) {
  if (!total) return null;
  const item = (e) => {
    const who = `${e.name} <${e.email}>`;
    if (kind === 'changes') return h('li', {}, h('span', { t: 'provisioning.changeItem', params: { who, from: levelName(levels, e.from_level), to: levelName(levels, e.to_level) } }));
    if (kind === 'refused') return h('li', {}, h('span', { t: 'provisioning.refusedItem', params: { who, level: levelName(levels, e.level) } }), ' ', h('span', { class: 'muted', t: REASON_KEYS[e.reason] || 'provisioning.reason.other' }));
    return h('li', {}, h('span', { t: 'provisioning.levelItem', params: { who, level: levelName(levels, e.level) } }));
  };
  return h('section', { 'data-testid': `preview-${kind}` },
    h('h3', { class: 'form__subtitle', t: key, params: { count: total } }),
    h('ul', { class: 'plain-list' }, entries.map(item)),
    entries.length < total && h('p', { class: 'muted', t: 'provisioning.moreNotListed', params: { count: total - entries.length } }));
}

/** The preview step: who gains, loses, changes and is refused, then Apply (or Back). */
function showPreview(body, outcome, { back, apply, again, levels, done }) {
  const c = outcome.counts;
  const nothing = !c.gains && !c.losses && !c.changes && !c.refused;
  const heading = h('h3', { class: 'form__subtitle', tabindex: '-1', t: 'provisioning.previewTitle', 'data-testid': 'preview-title' });
  const messages = messageBox(c.refused ? { kind: 'warning', key: 'provisioning.refusedBlocks', params: { count: c.refused } } : null);
  const applyButton = h('button', {
    type: 'button', class: 'button button--primary', t: 'provisioning.apply', 'data-testid': 'provisioning-apply',
    disabled: c.refused > 0,
  });
  const againButton = h('button', { type: 'button', class: 'button', t: 'provisioning.previewAgain', 'data-testid': 'provisioning-preview-again', hidden: true });
  againButton.addEventListener('click', async () => {
    try {
      await whilePending(againButton, again);
    } catch (err) {
      messages.replaceChildren(...messageBox(problemNotice(err)).childNodes);
    }
  });
  applyButton.addEventListener('click', async () => {
    try {
      await whilePending(applyButton, apply);
      done();
    } catch (err) {
      if (err instanceof ApiError && err.code === PROBLEM.PLAN_CHANGED) {
        messages.replaceChildren(...messageBox({ kind: 'warning', key: 'provisioning.planChanged' }).childNodes);
        applyButton.hidden = true;
        againButton.hidden = false;
        againButton.focus();
      } else {
        messages.replaceChildren(...messageBox(problemNotice(err)).childNodes);
      }
    }
  });
  body.replaceChildren(
    heading,
    nothing
      ? h('p', { t: 'provisioning.previewNothing', 'data-testid': 'preview-nothing' })
      : h('p', { t: 'provisioning.previewSummary', params: { gains: c.gains, losses: c.losses, changes: c.changes, refused: c.refused }, 'data-testid': 'preview-summary' }),
    effectList('provisioning.gainsTitle', outcome.gains, c.gains, levels, 'gains'),
    effectList('provisioning.lossesTitle', outcome.losses, c.losses, levels, 'losses'),
    effectList('provisioning.changesTitle', outcome.changes, c.changes, levels, 'changes'),
    effectList('provisioning.refusedTitle', outcome.refused, c.refused, levels, 'refused'),
    messages,
    h('div', { class: 'form__actions' }, applyButton, againButton,
      h('button', { type: 'button', class: 'button', t: 'provisioning.back', 'data-testid': 'provisioning-back', onclick: back })));
  heading.focus();
}
