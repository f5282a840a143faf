// Browser test of an agreement's administration tabs, against the real server with the demo data
// (Contoso: 25 Enterprise and 50 Professional seats, its only super admin Camille, whose profile
// says French):
//   - the tabs a super admin sees;
//   - Admins: the warning while there is a single super admin, an admin added by invitation and
//     shown as pending (with the e-mail), the last super admin cannot be removed;
//   - Preferences: a local check, then saved and still there after a reload;
//   - adding a subscriber outside the customer's domains asks for a confirmation first;
//   - Maximum usage: the numbers and a step chart per level after that addition;
//   - Activity: the addition is listed in words, filters narrow the list and the CSV export follows them;
//   - My subscriptions on the start page, and a question sent from it to the contact address.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test administration.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { readMaildir, textOf } from './lib/mail.mjs';
import { waitFor } from './lib/processes.mjs';

const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
const NADIA = { name: 'Nadia Roux', email: 'nadia.roux@contoso.example' };
const OUTSIDER = { name: 'Omar Haddad', email: 'omar.haddad@freelance.example' };
const CONTACT = 'it-desk@contoso.example';

let env;
let page;
let baseUrl;
let license;
let api;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const status = () => page.getByTestId('status');

async function mailTo(to, pattern) {
  return waitFor(`a mail to ${to} matching ${pattern}`, async () => (await readMaildir(env.maildir))
    .filter((m) => (m.headers.get('to') || '').includes(to) && pattern.test(textOf(m))).at(-1), { process: env.server });
}

async function apiClient() {
  const session = await (await page.request.get(`${baseUrl}/api/v1/session`)).json();
  const headers = { 'X-CSRF-Token': session.csrf_token, 'Content-Type': 'application/json', Accept: 'application/json' };
  return async (method, path, body) => {
    const answer = await page.request.fetch(`${baseUrl}/api/v1${path}`, {
      method, headers, data: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await answer.text();
    return { status: answer.status(), body: text ? JSON.parse(text) : null };
  };
}

step('Camille signs in and sees every tab of the Contoso agreement', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
  api = await apiClient();
  const { body } = await api('GET', '/agreements');
  license = body.agreements.find((a) => a.customer?.name === 'Contoso' && a.role === 'super_admin')?.license_number;
  assert.ok(license, `Camille is super admin of Contoso: ${JSON.stringify(body)}`);

  await page.goto(`${baseUrl}/agreements/${license}`);
  const tabs = page.getByRole('navigation', { name: 'Contrat' });
  await tabs.waitFor();
  assert.deepEqual(await tabs.getByRole('link').allTextContents(),
    ['Vue d’ensemble', 'Administrateurs', 'Préférences', 'Activité', 'Utilisation maximale', 'Partenaires',
      'Traitements en arrière-plan', 'Jetons d’API', 'Webhooks', 'Provisionnement']);
  // Camille holds no subscription herself yet: no "My subscriptions" on the start page.
  await page.goto(`${baseUrl}/home`);
  await page.getByTestId('open-agreement').waitFor();
  assert.equal(await page.getByTestId('my-subscriptions').isVisible(), false);
});

step('Admins: a single super admin is a warning; an invited admin shows as pending', async () => {
  await page.goto(`${baseUrl}/agreements/${license}`);
  await page.getByTestId('tab-admins').click();
  await page.waitForURL(`${baseUrl}/agreements/${license}/admins`);
  assert.equal(await page.getByTestId('tab-admins').getAttribute('aria-current'), 'page');
  await page.getByTestId('few-super-admins').getByText('Ce contrat n’a qu’un seul super-administrateur.').waitFor();
  const camilleRow = page.getByTestId('admins-table').getByRole('row').filter({ hasText: CAMILLE.email });
  await camilleRow.getByText('Super-administrateur').waitFor();

  // The last super admin cannot go: the dialog says why.
  await camilleRow.getByTestId('remove-admin').click();
  const remove = page.getByRole('dialog', { name: /^Retirer Camille/ });
  await env.expecting([409], async () => {
    await remove.getByTestId('confirm-admin-action').click();
    await remove.getByTestId('admin-action-message').getByText('Un contrat garde toujours au moins un super-administrateur.', { exact: false }).waitFor();
  });
  await remove.getByRole('button', { name: 'Annuler' }).click();
  await remove.waitFor({ state: 'detached' });

  await page.getByTestId('add-admin').click();
  const dialog = page.getByRole('dialog', { name: 'Ajouter un administrateur' });
  await dialog.waitFor();
  assert.equal(await dialog.getByTestId('field-language').inputValue(), 'fr');
  await env.expecting([422], async () => {
    await dialog.getByTestId('field-name').fill(NADIA.name);
    await dialog.getByTestId('field-email').fill('nadia.roux');
    await dialog.getByRole('button', { name: 'Ajouter l’administrateur' }).click();
    await dialog.getByTestId('error-email').filter({ hasText: 'Saisissez une adresse e-mail' }).waitFor();
  });
  await dialog.getByTestId('field-email').fill(NADIA.email);
  await dialog.getByTestId('field-language').selectOption('en');
  // The roles, each explained in a line; administrator is the one chosen to start with.
  assert.equal(await dialog.getByRole('radio', { name: /^Administrateur/ }).isChecked(), true);
  await dialog.getByRole('radio', { name: /Gestionnaire des partenaires.*Uniquement les partenaires/ }).waitFor();
  await dialog.getByRole('radio', { name: /^Super-administrateur/ }).check();
  await env.screenshots('admins-add-dialog');
  await dialog.getByRole('button', { name: 'Ajouter l’administrateur' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: `Une invitation part vers ${NADIA.email}.` }).waitFor();
  const nadiaRow = page.getByTestId('admins-table').getByRole('row').filter({ hasText: NADIA.email });
  await nadiaRow.getByTestId('admin-status').filter({ hasText: 'Invitation en attente' }).waitFor();
  await nadiaRow.getByTestId('withdraw-invite').waitFor();
  await nadiaRow.getByText('Super-administrateur').waitFor();
  const mail = await mailTo(NADIA.email, new RegExp(license));
  assert.match(textOf(mail), /sign/i, 'the invitation, in English, tells how to sign in');
  await env.screenshots('admins');
});

step('Preferences: a local check, then saved and still there after a reload', async () => {
  await page.getByTestId('tab-preferences').click();
  await page.waitForURL(`${baseUrl}/agreements/${license}/preferences`);
  const form = page.getByTestId('preferences-form');
  await form.waitFor();
  await form.getByText('Domaines du client : contoso.example').waitFor();
  assert.equal(await form.getByTestId('field-allow_outside_domains').isChecked(), true);
  assert.equal(await form.getByTestId('field-alert_threshold').inputValue(), '90');
  const levels = await form.getByTestId('field-default_level').locator('option').allTextContents();
  assert.deepEqual(levels, ['Aucun par défaut', 'Enterprise', 'Professional']);

  await form.getByTestId('field-contact_email').fill(CONTACT);
  await form.getByTestId('field-default_level').selectOption('professional');
  await form.getByTestId('field-default_country').selectOption('BE');
  await form.getByTestId('field-default_language').selectOption('nl');
  await form.getByTestId('field-alert_threshold').fill('0');
  await page.getByRole('button', { name: 'Enregistrer les préférences' }).click();
  await form.getByTestId('error-alert_threshold').filter({ hasText: 'Saisissez un nombre entier de 1 à 100.' }).waitFor();
  await form.getByTestId('field-alert_threshold').fill('80');
  await page.getByRole('button', { name: 'Enregistrer les préférences' }).click();
  await status().filter({ hasText: 'Les préférences ont été enregistrées.' }).waitFor();
  await env.screenshots('preferences');

  await page.reload();
  await form.waitFor();
  assert.equal(await form.getByTestId('field-contact_email').inputValue(), CONTACT);
  assert.equal(await form.getByTestId('field-default_level').inputValue(), 'professional');
  assert.equal(await form.getByTestId('field-default_country').inputValue(), 'BE');
  assert.equal(await form.getByTestId('field-alert_threshold').inputValue(), '80');
  const saved = await api('GET', `/agreements/${license}/preferences`);
  assert.equal(saved.body.alert_threshold, 80, JSON.stringify(saved.body));
});

step('adding a subscriber outside the customer’s domains asks first', async () => {
  await page.getByTestId('tab-overview').click();
  await page.waitForURL(`${baseUrl}/agreements/${license}`);
  await page.getByTestId('add-subscriber').click();
  const dialog = page.getByRole('dialog', { name: 'Ajouter un abonné' });
  await dialog.getByTestId('field-name').fill(OUTSIDER.name);
  await dialog.getByTestId('field-sign_in_email').fill(OUTSIDER.email);
  await dialog.getByTestId('field-level').selectOption('enterprise');
  await dialog.getByTestId('field-send_email').uncheck();
  await dialog.getByRole('button', { name: 'Ajouter l’abonné' }).click();
  const ask = page.getByRole('dialog', { name: 'Ajouter une adresse hors des domaines du client ?' });
  await ask.getByText(`${OUTSIDER.email} n’est pas une adresse des domaines du client (contoso.example).`, { exact: false }).waitFor();
  await env.screenshots('subscribers-outside-domain');
  // Changing one's mind leaves the form as it was.
  await ask.getByRole('button', { name: 'Changer l’adresse' }).click();
  await ask.waitFor({ state: 'detached' });
  assert.equal(await dialog.getByTestId('field-sign_in_email').inputValue(), OUTSIDER.email);
  await dialog.getByRole('button', { name: 'Ajouter l’abonné' }).click();
  await ask.getByRole('button', { name: 'Ajouter quand même' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: `${OUTSIDER.name} a maintenant un abonnement de niveau Enterprise.` }).waitFor();
  await page.getByTestId('overview-enterprise').getByTestId('assigned').filter({ hasText: /^1$/ }).waitFor();
});

step('Maximum usage: the numbers and a step chart per level', async () => {
  await page.getByTestId('tab-usage').click();
  await page.waitForURL(`${baseUrl}/agreements/${license}/usage`);
  const enterprise = page.getByTestId('usage-enterprise');
  await enterprise.waitFor();
  assert.equal(await enterprise.getByTestId('purchased').textContent(), '25');
  assert.equal(await enterprise.getByTestId('assigned').textContent(), '1');
  await enterprise.getByTestId('max-life').getByText(/atteint le/).waitFor();
  assert.match(await enterprise.getByTestId('max-12-months').textContent(), /^1/);

  const chart = page.getByTestId('usage-chart-enterprise');
  assert.equal(await chart.evaluate((el) => el.namespaceURI), 'http://www.w3.org/2000/svg');
  assert.equal(await chart.getAttribute('role'), 'img');
  const name = await chart.evaluate((el) => document.getElementById(el.getAttribute('aria-labelledby')).textContent);
  assert.match(name, /^Enterprise\s:\s25 places achetées\. Nouveaux maximums de places attribuées\s:\s.+, 1 sur 25\.$/);
  assert.equal(await chart.getByTestId('usage-point').count(), 1);
  assert.match(await chart.getByTestId('usage-maxima').getAttribute('d'), /^M[\d.]+ [\d.]+ H/);
  assert.match(await chart.getByTestId('usage-purchased').getAttribute('d'), /^M/);
  const professional = page.getByTestId('usage-chart-professional');
  const other = await professional.evaluate((el) => document.getElementById(el.getAttribute('aria-labelledby')).textContent);
  assert.match(other, /Professional\s:\s50 places achetées, aucune attribuée/);
  assert.equal(await page.getByTestId('usage-export').getAttribute('href'), `/api/v1/agreements/${license}/usage.csv`);
  const csv = await page.request.get(`${baseUrl}/api/v1/agreements/${license}/usage.csv`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /enterprise,.+,1,25/);
  await env.screenshots('usage');
});

step('Activity: the addition is listed in words, the filter by action narrows it, the export follows', async () => {
  await page.getByTestId('tab-activity').click();
  await page.waitForURL(`${baseUrl}/agreements/${license}/activity`);
  const added = page.getByTestId('activity-row').filter({ hasText: `Camille Martin a ajouté ${OUTSIDER.name} (Enterprise)` });
  await added.getByTestId('cell-action').filter({ hasText: 'Abonné ajouté' }).waitFor();
  assert.equal(await added.getByTestId('cell-actor').textContent(), CAMILLE.email);
  assert.ok(await page.getByTestId('activity-row').filter({ hasText: `Camille Martin a invité ${NADIA.name} (${NADIA.email})` }).count() > 0,
    'the invitation is there too');

  await page.getByTestId('field-action').selectOption({ label: 'Abonné ajouté' });
  await page.getByRole('button', { name: 'Afficher', exact: true }).click();
  await waitFor('only additions', async () => {
    const actions = await page.getByTestId('cell-action').allTextContents();
    return actions.length > 0 && actions.every((a) => a === 'Abonné ajouté');
  });
  const href = await page.getByTestId('activity-export').getAttribute('href');
  assert.equal(href, `/api/v1/agreements/${license}/activity.csv?action=subscription.added`);
  const csv = await page.request.get(`${baseUrl}${href}`);
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), /subscription\.added;.*;Camille Martin;Abonné ajouté;Omar Haddad \(Enterprise\);/);
  await env.screenshots('activity');

  await page.getByTestId('field-from').fill('2099-01-01');
  await page.getByRole('button', { name: 'Afficher', exact: true }).click();
  await page.getByTestId('activity-empty').filter({ hasText: 'Rien ne correspond à ces filtres.' }).waitFor();
});

step('My subscriptions on the start page, and a question to the contact address', async () => {
  const mine = await api('POST', `/agreements/${license}/subscriptions`,
    { name: 'Camille Martin', sign_in_email: CAMILLE.email, level: 'professional', country: 'FR', language: 'fr', send_email: false });
  assert.equal(mine.status, 201, JSON.stringify(mine.body));
  await page.goto(`${baseUrl}/home`);
  const section = page.getByTestId('my-subscriptions');
  await section.getByRole('heading', { name: 'Mes abonnements' }).waitFor();
  const item = section.getByTestId('my-subscription');
  assert.equal(await item.count(), 1);
  assert.deepEqual((await item.getByRole('rowheader').allTextContents()), ['Professional']);
  assert.equal(await item.getByTestId('my-customer').textContent(), 'Contoso');
  assert.equal(await item.getByTestId('my-license').textContent(), license);
  assert.equal(await item.getByRole('cell').nth(2).textContent(), 'Oui');
  assert.equal(await item.getByTestId('my-status').textContent(), 'Actif');
  await env.screenshots('my-subscriptions');

  await item.getByRole('button', { name: /^Poser une question/ }).click();
  const dialog = page.getByRole('dialog', { name: 'Poser une question à Contoso' });
  await env.expecting([422], async () => {
    await dialog.getByRole('button', { name: 'Envoyer' }).click();
    await dialog.getByTestId('error-subject').filter({ hasText: 'Ce champ est obligatoire.' }).waitFor();
  });
  await dialog.getByTestId('field-subject').fill('Licence pour le poste de test');
  await dialog.getByTestId('field-message').fill('Bonjour,\nPuis-je installer Professional sur un second poste ?');
  await env.screenshots('ask-question');
  await dialog.getByRole('button', { name: 'Envoyer' }).click();
  await dialog.waitFor({ state: 'detached' });
  await status().filter({ hasText: 'Votre question a été envoyée à Contoso ; une copie vous est envoyée.' }).waitFor();
  await mailTo(CONTACT, /second poste/);
});

step('the tabs in English', async () => {
  await page.goto(`${baseUrl}/agreements/${license}/usage`);
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('columnheader', { name: 'Maximum, last 12 months' }).waitFor();
  await page.getByTestId('usage-enterprise').getByTestId('max-life').getByText(/first on/).waitFor();
  await page.getByRole('navigation', { name: 'Agreement' }).getByRole('link', { name: 'Maximum usage' }).waitFor();
  await env.screenshots('usage-en');
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});
