// Browser test of the activity log in words, against the real server with the demo data:
//   - Camille (French) reads what happened on Contoso as sentences with names — who added and
//     removed which subscriber, at which level — and action labels, never an internal code or
//     a subscription id; the filter offers the actions by label;
//   - the same log read in English after switching the language;
//   - Olivia, on Northwind, reads her own agreement's log: nothing of Contoso's.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test activity.test.mjs

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { signIn as signInAs, sessionApi } from './lib/session.mjs';
import { waitFor } from './lib/processes.mjs';

const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
const OLIVIA = { email: 'olivia@northwind.example', password: 'demo-password-1' };
const ADA = { name: 'Ada Lovelace', email: 'ada.lovelace@contoso.example' };
const GRACE = { name: 'Grace Hopper', email: 'grace.hopper@contoso.example' };
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let env;
let page;
let baseUrl;
let license;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();

const signIn = (who) => signInAs(page, baseUrl, who);

const api = (method, path, body) => sessionApi(page, baseUrl, method, path, body);

const rows = () => page.getByTestId('activity-row');

step('Camille adds two subscribers and removes one', async () => {
  await signIn(CAMILLE);
  const { body } = await api('GET', '/agreements');
  license = body.agreements.find((a) => a.customer?.name === 'Contoso' && a.role === 'super_admin')?.license_number;
  assert.ok(license, JSON.stringify(body));
  const subscriber = (who, level) => ({ name: who.name, sign_in_email: who.email, level, country: 'FR', language: 'fr', send_email: false });
  assert.equal((await api('POST', `/agreements/${license}/subscriptions`, subscriber(ADA, 'professional'))).status, 201);
  const grace = await api('POST', `/agreements/${license}/subscriptions`, subscriber(GRACE, 'enterprise'));
  assert.equal(grace.status, 201);
  assert.equal((await api('DELETE', `/agreements/${license}/subscriptions/${grace.body.id}`)).status, 204);
});

step('the log reads in French words: names, levels and labels, no codes', async () => {
  await page.goto(`${baseUrl}/agreements/${license}/activity`);
  await rows().filter({ hasText: `Camille Martin a ajouté ${ADA.name} (Professional)` }).waitFor();
  const removed = rows().filter({ hasText: `Camille Martin a retiré ${GRACE.name} (Enterprise)` });
  await removed.waitFor();
  assert.equal(await removed.getByTestId('cell-action').textContent(), 'Abonné retiré');
  await page.getByRole('columnheader', { name: 'Ce qui s’est passé' }).waitFor();
  const table = await page.getByTestId('activity-table').textContent();
  assert.doesNotMatch(table, UUID, 'no subscription id on screen');
  assert.doesNotMatch(table, /subscription\.(added|removed)|partner\.access|admin\.super|order\.placed|agreement\.created/,
    'no action code on screen');
  // The filter offers labels, not codes.
  const options = await page.getByTestId('field-action').locator('option').allTextContents();
  assert.ok(options.includes('Toutes les actions') && options.includes('Abonné retiré'), options.join(' | '));
  assert.ok(options.every((o) => !/^[a-z_]+\.[a-z_.]+$/.test(o)), options.join(' | '));

  await page.getByTestId('field-action').selectOption({ label: 'Abonné retiré' });
  await page.getByRole('button', { name: 'Afficher', exact: true }).click();
  await waitFor('only removals', async () => {
    const texts = await rows().allTextContents();
    return texts.length === 1 && texts[0].includes(`Camille Martin a retiré ${GRACE.name} (Enterprise)`);
  });
  await env.screenshots('activity-words-fr');
});

step('the same log in English', async () => {
  await page.getByRole('button', { name: 'English' }).click();
  await rows().filter({ hasText: `Camille Martin removed ${GRACE.name} (Enterprise)` }).waitFor();
  assert.equal(await rows().first().getByTestId('cell-action').textContent(), 'Subscriber removed');
  await page.goto(`${baseUrl}/agreements/${license}/activity`);
  await rows().filter({ hasText: `Camille Martin added ${ADA.name} (Professional)` }).waitFor();
  await page.getByRole('columnheader', { name: 'What happened' }).waitFor();
  const options = await page.getByTestId('field-action').locator('option').allTextContents();
  assert.ok(options.includes('All actions') && options.includes('Subscriber added'), options.join(' | '));
  await env.screenshots('activity-words-en');
});

step('another customer reads only their own agreement', async () => {
  await page.getByTestId('sign-out').click();
  await signIn(OLIVIA);
  const { body } = await api('GET', '/agreements');
  const northwind = body.agreements.find((a) => a.customer?.name?.startsWith('Northwind'))?.license_number;
  assert.ok(northwind, JSON.stringify(body));
  await page.goto(`${baseUrl}/agreements/${northwind}/activity`);
  await rows().first().waitFor();   // the order made the agreement: its creation is there
  const text = await page.getByTestId('activity-card').textContent();
  assert.ok(!text.includes(ADA.name) && !text.includes(GRACE.name), 'no Contoso name on Northwind');
});
