// Browser test of API tokens, against the real server with the demo data:
//   - Olivia (English, super admin of Northwind) goes from her account page to her API tokens
//     and creates one with the keyboard alone: the dialog offers what she holds, the secret is
//     shown once in a field with a warning, and closing it puts the focus back on the list;
//   - the test calls the API with that secret (Authorization: Bearer): it reads Northwind's
//     subscribers, and is refused what the token was not given;
//   - she revokes it after confirming, the row says so, and the same call now gets 401;
//   - Camille (French, super admin of Contoso) reads the page and the dialog in French, makes a
//     token for Contoso, and finds it on Contoso's "Jetons d’API" tab with herself as owner,
//     where Olivia's token is not; she revokes it there;
//   - the dialog knows what Olivia holds from her role alone, reading no agreement for it; Alex,
//     a partner, is offered on an agreement what his organization's access there allows;
//   - axe finds nothing on the page, the dialogs and the agreement's tab.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test tokens.test.mjs

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations } from './lib/axe.mjs';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { signIn as signInAs, signOut as signOutOf } from './lib/session.mjs';

const OLIVIA = { email: 'olivia@northwind.example', password: 'demo-password-1' };
const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
const ALEX = { email: 'alex@fabrikam-partner.example', password: 'demo-password-1' };

let env;
let page;
let baseUrl;
let northwind;
let contoso;
let secret;
let tokenId;

before(async () => {
  env = await demoEnvironment();
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const status = () => page.getByTestId('status');

const signIn = (who) => signInAs(page, baseUrl, who);

const signOut = () => signOutOf(page, baseUrl);

/** The API as a program holding `token` calls it: no cookie, no CSRF token. */
async function withToken(token, method, path, body) {
  const answer = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  return { status: answer.status, body: text ? JSON.parse(text) : null };
}

async function licenseOf(customer) {
  const body = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
  return body.agreements.find((a) => a.customer?.name?.startsWith(customer))?.license_number;
}

const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid || document.activeElement?.id || document.activeElement?.tagName);

/** Presses Tab (Shift+Tab with `back`) until the element with `testid` has the focus. */
async function tabTo(testid, { back = false, most = 40 } = {}) {
  for (let i = 0; i < most; i++) {
    if (await page.evaluate((id) => document.activeElement?.dataset?.testid === id, testid)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`Tab never reached ${testid} (focus on ${await focused()})`);
}

async function assertAxeClean(what) {
  assert.deepEqual(await axeViolations(page), [], `axe: ${what}`);
}

step('Olivia reaches her API tokens from her account page with the keyboard', async () => {
  await signIn(OLIVIA);
  northwind = await licenseOf('Northwind');
  assert.ok(northwind);
  await page.goto(`${baseUrl}/account`);
  await page.getByTestId('account-tokens').waitFor();
  await tabTo('account-tokens-link');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${baseUrl}/account/tokens`);
  assert.equal(await page.getByTestId('page-title').textContent(), 'Your API tokens');
  await page.getByTestId('tokens-none').waitFor();
  await assertAxeClean('the empty tokens page');
});

/** Records the agreements the page reads one by one (GET /api/v1/agreements/{license}) until `stop()`. */
function agreementReads() {
  const licenses = [];
  const record = (request) => {
    const match = /^\/api\/v1\/agreements\/([^/]+)$/.exec(new URL(request.url()).pathname);
    if (match && request.method() === 'GET') licenses.push(decodeURIComponent(match[1]));
  };
  page.on('request', record);
  return { licenses, stop: () => page.off('request', record) };
}

step('she creates a token with the keyboard alone and sees its secret once', async () => {
  // The agreements list says her role on each, and the role says what she holds: the dialog
  // reads no agreement for it.
  const reads = agreementReads();
  await tabTo('create-token');
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('create-token-dialog');
  await dialog.waitFor();
  assert.equal(await focused(), 'field-name', 'the first field has the focus');
  // What she holds is offered: everything, managing included (she is a super admin).
  for (const cap of ['read', 'assign', 'bulk', 'usage', 'activity', 'manage']) {
    assert.ok(await dialog.getByTestId(`token-capability-${cap}`).isVisible(), cap);
  }
  assert.equal(await dialog.getByTestId('field-expires_on').inputValue(),
    new Date(Date.now() + 90 * 86400000).toISOString().slice(0, 10), 'three months by default');
  await assertAxeClean('the create dialog');

  // A missing name, then nothing ticked, are caught before sending.
  await tabTo('token-capability-read');
  await page.keyboard.press('Space');
  await tabTo('create-token-form-submit');
  await page.keyboard.press('Enter');
  await dialog.getByTestId('error-name').waitFor();
  assert.equal(await focused(), 'field-name', 'the focus goes to the field to fix');
  await page.keyboard.type('Inventory sync');
  await page.keyboard.press('Enter');
  await dialog.getByTestId('error-capabilities').waitFor();
  assert.equal(await dialog.getByTestId('error-name').isVisible(), false);

  await tabTo('field-agreement', { back: true });
  await page.keyboard.press('ArrowDown'); // from "All agreements" to Northwind
  assert.equal(await dialog.getByTestId('field-agreement').inputValue(), northwind);
  assert.ok(await dialog.getByTestId('token-capability-manage').isVisible(), 'a super admin may give a token manage');
  reads.stop();
  assert.deepEqual(reads.licenses, [], 'no agreement read to know what she holds');
  await tabTo('token-capability-read');
  await page.keyboard.press('Space');
  await tabTo('create-token-form-submit');
  await page.keyboard.press('Enter');

  const shown = page.getByTestId('token-secret-dialog');
  await shown.waitFor();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await focused(), 'token-secret', 'the secret field has the focus');
  secret = await shown.getByTestId('token-secret').inputValue();
  assert.ok(secret.length >= 20, secret);
  assert.equal(await shown.getByTestId('token-secret').getAttribute('readonly'), '');
  assert.match(await shown.getByTestId('token-secret-warning').textContent(), /will not be shown again/);
  await assertAxeClean('the secret dialog');
  await tabTo('token-secret-done');
  await page.keyboard.press('Enter');
  await shown.waitFor({ state: 'detached' });

  const row = page.getByTestId('tokens-table').locator('tbody tr');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.equal(await row.getByTestId('token-name').textContent(), 'Inventory sync');
  assert.equal(await row.getByTestId('token-agreement').textContent(), northwind);
  assert.equal(await row.getByTestId('token-status').textContent(), 'Active');
  assert.deepEqual(await row.getByTestId('token-capabilities').locator('li').allTextContents(), ['See subscribers']);
  assert.match(await row.getByTestId('token-expires').textContent(), /^Until \w+ \d+, \d{4} \(in 90 days\)$/);
  assert.equal(await row.getByTestId('token-last-used').textContent(), 'Never used');
  const prefix = await row.getByTestId('token-prefix').textContent();
  assert.ok(prefix && secret.startsWith(prefix), `the secret starts with the prefix shown (${prefix})`);
  assert.equal(await focused(), 'tokens-title', 'the focus is back on the list');
  tokenId = (await row.getAttribute('data-testid')).replace('token-', '');
  await assertAxeClean('the tokens page with a token');
  await env.screenshots('tokens-en');
});

step('the secret from the page works with the API, within what the token was given', async () => {
  const list = await withToken(secret, 'GET', `/agreements/${northwind}/subscriptions`);
  assert.equal(list.status, 200, JSON.stringify(list.body));
  const add = await withToken(secret, 'POST', `/agreements/${northwind}/subscriptions`,
    { name: 'Nobody', sign_in_email: 'nobody@northwind.example', level: 'professional', country: 'US', language: 'en', send_email: false });
  assert.equal(add.status, 403, JSON.stringify(add.body));
  const bad = await withToken(`${secret}x`, 'GET', `/agreements/${northwind}/subscriptions`);
  assert.equal(bad.status, 401);

  // The page says when and from where it was last used.
  await page.reload();
  const used = page.getByTestId(`token-${tokenId}`).getByTestId('token-last-used');
  await used.waitFor();
  assert.match(await used.textContent(), /from 127\.0\.0\.1/);
});

step('she revokes it after confirming, and the secret stops working', async () => {
  const row = page.getByTestId(`token-${tokenId}`);
  await row.getByTestId('revoke-token').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('revoke-token-dialog');
  await dialog.waitFor();
  assert.equal(await focused(), 'dialog-cancel', 'Cancel has the focus: nothing is revoked by accident');
  assert.match(await dialog.textContent(), /Inventory sync/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await focused(), 'revoke-token', 'the focus is back on the button');
  assert.equal((await withToken(secret, 'GET', `/agreements/${northwind}/subscriptions`)).status, 200, 'still works after Cancel');

  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await tabTo('confirm-revoke-token', { back: true });
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await status().getByText('The token Inventory sync has been revoked.').waitFor();
  assert.equal(await row.getByTestId('token-status').textContent(), 'Revoked');
  assert.equal(await row.getByTestId('revoke-token').count(), 0);
  assert.equal(await focused(), 'tokens-title');

  const after = await withToken(secret, 'GET', `/agreements/${northwind}/subscriptions`);
  assert.equal(after.status, 401, JSON.stringify(after.body));
});

step('Olivia makes a token for all her agreements', async () => {
  await page.getByTestId('create-token').click();
  const dialog = page.getByTestId('create-token-dialog');
  await dialog.getByTestId('field-name').fill('Reporting');
  await dialog.getByTestId('create-token-form-submit').click();
  await page.getByTestId('token-secret-done').click();
  await page.getByTestId('tokens-table').getByText('Reporting', { exact: true }).waitFor();
  await signOut();
});

step('Camille reads the tokens page and the dialog in French', async () => {
  await signIn(CAMILLE);
  contoso = await licenseOf('Contoso');
  assert.ok(contoso);
  await page.goto(`${baseUrl}/account/tokens`);
  assert.equal(await page.getByTestId('page-title').textContent(), 'Vos jetons d’API');
  await page.getByText('Vous n’avez encore aucun jeton d’API.').waitFor();
  await page.getByTestId('create-token').click();
  const dialog = page.getByTestId('create-token-dialog');
  await dialog.getByRole('heading', { name: 'Créer un jeton d’API' }).waitFor();
  await dialog.getByLabel('Nom', { exact: true }).fill('Synchronisation RH');
  await dialog.getByRole('combobox', { name: 'Contrat' }).selectOption(contoso);
  await dialog.getByRole('checkbox', { name: 'Ajouter, modifier et retirer des abonnés' }).check();
  assert.equal(await dialog.getByRole('option', { name: 'Tous les contrats' }).count(), 1);
  await assertAxeClean('the create dialog in French');
  await dialog.getByRole('button', { name: 'Créer le jeton' }).click();
  const shown = page.getByTestId('token-secret-dialog');
  await shown.getByRole('heading', { name: 'Votre nouveau jeton Synchronisation RH' }).waitFor();
  assert.match(await shown.getByTestId('token-secret-warning').textContent(), /il ne sera plus affiché/);
  await shown.getByRole('button', { name: 'Je l’ai copié' }).click();
  const row = page.getByTestId('tokens-table').locator('tbody tr').first();
  await row.waitFor();
  assert.equal(await row.getByTestId('token-status').textContent(), 'Actif');
  assert.match(await row.getByTestId('token-expires').textContent(), /^Jusqu’au \d+ \S+ \d{4} \(dans 90 jours\)$/);
  assert.deepEqual(await row.getByTestId('token-capabilities').locator('li').allTextContents(),
    ['Consulter les abonnés', 'Ajouter, modifier et retirer des abonnés']);
  await page.getByRole('columnheader', { name: 'Dernière utilisation' }).waitFor();
  await env.screenshots('tokens-fr');
});

step('Contoso’s tokens tab lists hers with its owner, not Olivia’s, and revokes it', async () => {
  await page.goto(`${baseUrl}/agreements/${contoso}`);
  await page.getByTestId('tab-tokens').click();
  await page.waitForURL(`${baseUrl}/agreements/${contoso}/tokens`);
  const table = page.getByTestId('tokens-table');
  await table.waitFor();
  const rows = table.locator('tbody tr');
  assert.equal(await rows.count(), 1, await table.textContent());
  assert.match(await rows.getByTestId('token-owner').textContent(), /Camille Martin/);
  assert.doesNotMatch(await table.textContent(), /Reporting|Inventory|olivia/i);
  await assertAxeClean('an agreement’s tokens tab');
  await rows.getByTestId('revoke-token').click();
  await page.getByTestId('confirm-revoke-token').click();
  await status().getByText('Le jeton Synchronisation RH a été révoqué.').waitFor();
  // A revoked token can no longer act: it leaves the agreement's list (its owner's keeps it).
  await page.getByText('Aucun jeton d’API ne peut agir sur ce contrat.').waitFor();
  assert.equal(await focused(), 'agreement-tokens-title');
  assert.deepEqual(env.consoleErrors, []);
  assert.deepEqual(env.offsite, []);
});

step('Alex, a partner, is offered on an agreement what his organization’s access there allows', async () => {
  await signOut();
  await signIn(ALEX);
  const { agreements } = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
  const partnerOn = agreements.filter((a) => a.role === 'partner');
  assert.ok(partnerOn.length >= 2, JSON.stringify(agreements));
  const chosen = partnerOn[1];
  const detail = await (await page.request.get(`${baseUrl}/api/v1/agreements/${chosen.license_number}`)).json();
  const expected = ['read', 'assign', 'bulk', 'usage', 'activity'].filter((cap) => detail.capabilities.includes(cap));
  assert.ok(expected.length, JSON.stringify(detail));

  await page.goto(`${baseUrl}/account/tokens`);
  await page.getByTestId('tokens-none').waitFor();
  const reads = agreementReads();
  await page.getByTestId('create-token').click();
  const dialog = page.getByTestId('create-token-dialog');
  await dialog.waitFor();
  await dialog.getByTestId('field-agreement').selectOption(chosen.license_number);
  await dialog.locator('[data-testid="field-capabilities"]:not([aria-busy])').waitFor();
  const offered = [];
  for (const cap of ['read', 'assign', 'bulk', 'usage', 'activity', 'manage']) {
    if (await dialog.getByTestId(`token-capability-${cap}`).isVisible()) offered.push(cap);
  }
  assert.deepEqual(offered, expected, 'what the relationship allows, and not manage');
  reads.stop();
  assert.ok(reads.licenses.includes(chosen.license_number), 'a partner’s access is read from the agreement');
  assert.equal(new Set(reads.licenses).size, reads.licenses.length, `each agreement read once at most: ${reads.licenses}`);
  await assertAxeClean('the create dialog of a partner');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.deepEqual(env.consoleErrors, []);
});

