// Browser test of the subscription administration on an agreement's page, against the real
// server with the demo data (Contoso: 25 Enterprise and 50 Professional seats, its super admin
// Camille, whose profile says French):
//   - the seat overview shows its numbers and a bar chart for both levels;
//   - a subscriber is added through the dialog and gets the assignment e-mail;
//   - its reference is edited, also after someone else changed it meanwhile (If-Match, 412);
//   - typing part of a name narrows the list, and the columns sort both ways;
//   - a full pool is plain to see and the add dialog says why no seat is left;
//   - the subscriber is removed and the seat returns to the pool.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test subscribers.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { readMaildir, textOf } from './lib/mail.mjs';
import { waitFor } from './lib/processes.mjs';

const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
const ALICE = { name: 'Alice Fontaine', email: 'alice.fontaine@contoso.example', reference: 'CC-1042' };
const BOB = { name: 'Bob Lemaire', email: 'bob.lemaire@contoso.example' };

let env;
let page;
let baseUrl;
let license;
let api; // JSON calls as Camille, beside the page (what "someone else" does meanwhile)

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const status = () => page.getByTestId('status');
const rows = () => page.getByTestId('subscribers-table').getByTestId('subscriber-row');
const row = (name) => rows().filter({ has: page.getByRole('rowheader', { name, exact: true }) });
const overviewCell = (level, column) => page.getByTestId(`overview-${level}`).getByTestId(column);

/** The newest mail to `to` whose text matches `pattern`, once it has arrived. */
async function mailTo(to, pattern) {
  return waitFor(`a mail to ${to} matching ${pattern}`, async () => (await readMaildir(env.maildir))
    .filter((m) => (m.headers.get('to') || '').includes(to) && pattern.test(textOf(m))).at(-1), { process: env.server });
}

/** The same API the page uses, with the page's session and its CSRF token. */
async function apiClient() {
  const session = await (await page.request.get(`${baseUrl}/api/v1/session`)).json();
  const headers = { 'X-CSRF-Token': session.csrf_token, 'Content-Type': 'application/json', Accept: 'application/json' };
  const call = async (method, path, body, extra = {}) => {
    const answer = await page.request.fetch(`${baseUrl}/api/v1${path}`, {
      method, headers: { ...headers, ...extra }, data: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    return { status: answer.status(), headers: answer.headers(), body: text ? JSON.parse(text) : null };
  };
  return call;
}

step('Camille signs in and opens the Contoso agreement', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
  api = await apiClient();
  const { body } = await api('GET', '/agreements');
  const contoso = body.agreements.find((a) => a.customer?.name === 'Contoso' && a.role === 'super_admin');
  assert.ok(contoso, `Camille is super admin of Contoso: ${JSON.stringify(body)}`);
  license = contoso.license_number;
  // Someone is there already, added by someone else (no e-mail).
  const bob = await api('POST', `/agreements/${license}/subscriptions`,
    { name: BOB.name, sign_in_email: BOB.email, level: 'professional', country: 'BE', language: 'nl', send_email: false });
  assert.equal(bob.status, 201, JSON.stringify(bob.body));

  await page.goto(`${baseUrl}/agreements/${license}`);
  await page.getByRole('heading', { level: 1 }).filter({ hasText: `Contrat ${license}` }).waitFor();
});

step('the overview shows the seats of both levels as numbers and as a bar chart', async () => {
  const chart = page.getByTestId('seat-chart');
  await chart.waitFor();
  assert.equal(await chart.evaluate((el) => el.namespaceURI), 'http://www.w3.org/2000/svg');
  assert.equal(await chart.getAttribute('role'), 'img');
  // Its accessible name gives every number.
  const name = await chart.evaluate((el) => document.getElementById(el.getAttribute('aria-labelledby')).textContent);
  assert.match(name, /Enterprise, 0 sur 25 attribuées, 25 disponibles/);
  assert.match(name, /Professional, 1 sur 50 attribuées, 49 disponibles/);
  for (const level of ['enterprise', 'professional']) {
    const bar = page.getByTestId(`chart-bar-${level}`);
    assert.equal(await bar.locator('rect.chart__track').count(), 1, `${level} has a bar`);
  }
  assert.equal(await page.getByTestId('chart-bar-enterprise').locator('rect.chart__fill').count(), 0, 'nothing assigned yet');
  assert.equal(await page.getByTestId('chart-bar-professional').locator('rect.chart__fill').getAttribute('width'), '2.00%');
  assert.equal(await overviewCell('enterprise', 'purchased').textContent(), '25');
  assert.equal(await overviewCell('professional', 'assigned').textContent(), '1');
  assert.equal(await overviewCell('professional', 'available').textContent(), '49');

  await page.getByTestId('subscriber-count').filter({ hasText: '1 abonné' }).waitFor();
  await row(BOB.name).getByTestId('cell-language').filter({ hasText: 'néerlandais' }).waitFor();
  await env.screenshots('subscribers-overview');
});

step('adding a subscriber: field errors first, then the seat and the assignment e-mail', async () => {
  await page.getByTestId('add-subscriber').click();
  const dialog = page.getByRole('dialog', { name: 'Ajouter un abonné' });
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('field-country').inputValue(), 'FR', 'the customer\'s country to start with');
  assert.equal(await dialog.getByTestId('field-downloads').isChecked(), true);
  assert.equal(await dialog.getByTestId('field-send_email').isChecked(), true);
  const levels = await dialog.getByTestId('field-level').locator('option').allTextContents();
  assert.deepEqual(levels, ['Enterprise (25 disponibles)', 'Professional (49 disponibles)'], 'only the agreement\'s levels');

  // The address already holds Professional: the server says so, next to the field.
  await dialog.getByTestId('field-name').fill(ALICE.name);
  await dialog.getByTestId('field-sign_in_email').fill(BOB.email);
  await dialog.getByTestId('field-level').selectOption('professional');
  await env.expecting([422], async () => {
    await dialog.getByRole('button', { name: 'Ajouter l’abonné' }).click();
    await dialog.getByTestId('error-sign_in_email')
      .filter({ hasText: 'Cette adresse a déjà un abonnement de ce niveau sur ce contrat.' }).waitFor();
  });
  assert.equal(await dialog.getByTestId('field-sign_in_email').getAttribute('aria-invalid'), 'true');

  // Choices the server does not take (a list older than the server's): the messages name the
  // values it does, in French too.
  await dialog.getByTestId('field-sign_in_email').fill(ALICE.email);
  for (const [name, value] of [['level', 'platforms'], ['language', 'tlh']]) {
    await dialog.getByTestId(`field-${name}`).evaluate((select, v) => select.add(new Option(v, v)), value);
    await dialog.getByTestId(`field-${name}`).selectOption(value);
  }
  await env.expecting([422], async () => {
    await dialog.getByRole('button', { name: 'Ajouter l’abonné' }).click();
    await dialog.getByTestId('error-level')
      .filter({ hasText: 'Choisissez l’un des niveaux d’abonnement du contrat\u00a0: enterprise, professional.' }).waitFor();
    await dialog.getByTestId('error-language')
      .filter({ hasText: 'Indiquez un code de langue\u00a0: en, fr, de, es, it, nl, pt, ja, zh.' }).waitFor();
  });
  await dialog.getByTestId('field-language').selectOption('fr');

  await dialog.getByTestId('field-level').selectOption('enterprise');
  await dialog.getByTestId('field-reference').fill('CC-1000');
  await env.screenshots('subscribers-add-dialog');
  await dialog.getByRole('button', { name: 'Ajouter l’abonné' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: `${ALICE.name} a maintenant un abonnement de niveau Enterprise. L’e-mail d’attribution part vers ${ALICE.email}.` }).waitFor();
  await row(ALICE.name).getByTestId('cell-reference').filter({ hasText: 'CC-1000' }).waitFor();
  await page.getByTestId('subscriber-count').filter({ hasText: '2 abonnés' }).waitFor();
  await overviewCell('enterprise', 'assigned').filter({ hasText: /^1$/ }).waitFor();
  await page.getByTestId('chart-bar-enterprise').locator('rect.chart__fill').waitFor();

  const mail = await mailTo(ALICE.email, /Enterprise/);
  assert.match(textOf(mail), /Contoso/);
});

step('editing the reference, also after someone else changed the subscriber', async () => {
  await row(ALICE.name).getByRole('button', { name: `Modifier ${ALICE.name}` }).click();
  const dialog = page.getByRole('dialog', { name: `Modifier ${ALICE.name}` });
  const reference = dialog.getByTestId('field-reference');
  await reference.waitFor();
  assert.equal(await reference.inputValue(), 'CC-1000');

  // Meanwhile, someone else renames her.
  const id = await row(ALICE.name).getAttribute('data-id');
  const current = await api('GET', `/agreements/${license}/subscriptions/${id}`);
  const renamed = await api('PATCH', `/agreements/${license}/subscriptions/${id}`, { name: 'Alice Fontaine-Roy' }, { 'If-Match': current.headers.etag });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));

  await reference.fill(ALICE.reference);
  await env.expecting([412], async () => {
    await dialog.getByRole('button', { name: 'Enregistrer les modifications' }).click();
    await dialog.getByTestId('edit-conflict').getByText('Quelqu’un d’autre a modifié cet abonné').waitFor();
  });
  await dialog.getByTestId('current-name').filter({ hasText: 'Alice Fontaine-Roy' }).waitFor();
  assert.equal(await dialog.getByTestId('current-reference').textContent(), 'CC-1000');
  assert.equal(await reference.inputValue(), ALICE.reference, 'what the user typed stays');
  assert.equal(await dialog.getByTestId('field-name').inputValue(), 'Alice Fontaine-Roy', 'the rest is as it is now');
  await env.screenshots('subscribers-edit-conflict');

  // Saving again sends only the reference, so the other person's new name stays.
  await dialog.getByRole('button', { name: 'Enregistrer les modifications' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: 'Les modifications ont été enregistrées pour Alice Fontaine-Roy.' }).waitFor();
  await row('Alice Fontaine-Roy').getByTestId('cell-reference').filter({ hasText: ALICE.reference }).waitFor();
  ALICE.name = 'Alice Fontaine-Roy';
});

step('typing part of a name narrows the list; columns sort both ways', async () => {
  const requests = [];
  const listen = (request) => {
    if (/\/subscriptions\?/.test(request.url())) requests.push(new URL(request.url()).searchParams.get('q'));
  };
  page.on('request', listen);
  const search = page.getByRole('searchbox', { name: 'Rechercher' });
  await search.pressSequentially('fontai', { delay: 40 });
  await page.getByTestId('subscriber-count').filter({ hasText: '1 abonné' }).waitFor();
  assert.equal(await rows().count(), 1);
  await row(ALICE.name).waitFor();
  page.off('request', listen);
  assert.equal(requests.at(-1), 'fontai');
  assert.ok(requests.length < 'fontai'.length, `typing sends fewer requests than keys: ${JSON.stringify(requests)}`);
  await env.screenshots('subscribers-filtered');

  await search.fill('');
  await page.getByTestId('subscriber-count').filter({ hasText: '2 abonnés' }).waitFor();
  const header = page.getByRole('columnheader', { name: 'Nom' });
  assert.equal(await header.getAttribute('aria-sort'), 'ascending');
  assert.deepEqual(await rows().getByRole('rowheader').allTextContents(), [ALICE.name, BOB.name]);
  await header.getByRole('button').click();
  await waitFor('descending order', async () => (await header.getAttribute('aria-sort')) === 'descending');
  await waitFor('Bob first', async () => (await rows().getByRole('rowheader').first().textContent()) === BOB.name);

  // Filters by level.
  await page.getByTestId('subscriber-level-filter').selectOption('professional');
  await page.getByTestId('subscriber-count').filter({ hasText: '1 abonné' }).waitFor();
  await row(BOB.name).waitFor();
  await page.getByTestId('subscriber-level-filter').selectOption('');
  await page.getByTestId('subscriber-count').filter({ hasText: '2 abonnés' }).waitFor();
});

step('a full pool is plain to see, and adding to it says why not', async () => {
  // Fill the Enterprise pool (24 more), beside the page.
  for (let i = 1; i <= 24; i++) {
    const added = await api('POST', `/agreements/${license}/subscriptions`,
      { name: `Dev ${String(i).padStart(2, '0')}`, sign_in_email: `dev${i}@contoso.example`, level: 'enterprise', country: 'FR', language: 'fr', send_email: false });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  }
  await page.reload();
  await page.getByTestId('chart-bar-enterprise').locator('rect.chart__fill--full').waitFor();
  await page.getByTestId('chart-bar-enterprise').getByText('Complet : 25 sur 25').waitFor();
  await page.getByTestId('overview-enterprise').getByText('Complet').waitFor();
  await page.getByTestId('subscriber-count').filter({ hasText: '26 abonnés' }).waitFor();
  await env.screenshots('subscribers-full');

  await page.getByTestId('add-subscriber').click();
  const dialog = page.getByRole('dialog', { name: 'Ajouter un abonné' });
  await dialog.getByTestId('field-name').fill('Chloé Petit');
  await dialog.getByTestId('field-sign_in_email').fill('chloe.petit@contoso.example');
  await dialog.getByTestId('field-level').selectOption('enterprise');
  await env.expecting([422], async () => {
    await dialog.getByRole('button', { name: 'Ajouter l’abonné' }).click();
    await dialog.getByTestId('error-level').filter({
      hasText: 'Plus aucune place Enterprise disponible : les 25 achetées sont toutes attribuées.',
    }).waitFor();
  });
  await dialog.getByRole('button', { name: 'Annuler' }).click();
  await dialog.waitFor({ state: 'detached' });

  // The others go again, all at once, through the page's selection.
  await page.getByRole('searchbox', { name: 'Rechercher' }).fill('dev');
  await page.getByTestId('subscriber-count').filter({ hasText: '24 abonnés' }).waitFor();
  await page.getByRole('checkbox', { name: 'Sélectionner tous les abonnés affichés' }).check();
  await page.getByTestId('selected-count').filter({ hasText: 'Sélection : 24' }).waitFor();
  await page.getByTestId('remove-selected').click();
  const confirm = page.getByRole('dialog', { name: 'Retirer 24 abonnés ?' });
  await confirm.getByText('et 14 de plus').waitFor();
  await confirm.getByRole('button', { name: 'Retirer' }).click();
  await confirm.waitFor({ state: 'detached' });
  await status().filter({ hasText: '24 abonnés ont été retirés' }).waitFor();
  await overviewCell('enterprise', 'assigned').filter({ hasText: /^1$/ }).waitFor();
  await page.getByRole('searchbox', { name: 'Rechercher' }).fill('');
  await page.getByTestId('subscriber-count').filter({ hasText: '2 abonnés' }).waitFor();
});

step('resending and removing the selected subscriber; the seat returns to the pool', async () => {
  const box = page.getByRole('checkbox', { name: `Sélectionner ${ALICE.name}` });
  await box.check();
  await page.getByTestId('selected-count').filter({ hasText: 'Sélection : 1' }).waitFor();
  await page.getByTestId('resend-selected').click();
  await status().filter({ hasText: 'L’e-mail d’attribution repart vers 1 abonné.' }).waitFor();

  await page.getByTestId('remove-selected').click();
  const dialog = page.getByRole('dialog', { name: `Retirer ${ALICE.name} ?` });
  await dialog.getByText(`${ALICE.name} (${ALICE.email}, Enterprise)`).waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Annuler' }).evaluate((el) => el === document.activeElement), true, 'the safe choice has the focus');
  await env.screenshots('subscribers-remove-dialog');
  await dialog.getByRole('button', { name: 'Retirer' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: `Abonnement retiré pour ${ALICE.name} ; sa place est de retour dans la réserve.` }).waitFor();
  await page.getByTestId('subscriber-count').filter({ hasText: '1 abonné' }).waitFor();
  assert.equal(await row(ALICE.name).count(), 0);
  await overviewCell('enterprise', 'assigned').filter({ hasText: /^0$/ }).waitFor();
  assert.equal(await overviewCell('enterprise', 'available').textContent(), '25');
  assert.equal(await page.getByTestId('chart-bar-enterprise').locator('rect.chart__fill').count(), 0);
  assert.equal(await page.getByRole('heading', { name: 'Abonnés' }).evaluate((el) => el === document.activeElement), true, 'the focus is on the list');
  await env.screenshots('subscribers-removed');
});

step('the page in English', async () => {
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByTestId('subscriber-count').filter({ hasText: '1 subscriber' }).waitFor();
  await page.getByRole('columnheader', { name: 'Sign-in e-mail' }).waitFor();
  await page.getByTestId('chart-bar-enterprise').getByText('0 of 25').waitFor();
  await env.screenshots('subscribers-en');
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
