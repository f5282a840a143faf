// Browser test of the licensing center against the real server, with the demo data: a partner
// signs in, orders subscriptions for a new customer (once, even when the answer to the first
// submission is lost), sees the new license in the relationship summary and its details, and the
// customer's invitation goes out in French; then a customer sees their own license only, without
// the partner's tools. Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test licensing.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runOnce, startEnvironment, stepper } from './lib/harness.mjs';
import { readMaildir, textOf } from './lib/mail.mjs';
import { waitFor } from './lib/processes.mjs';

// Created by `openseat demo`.
const PARTNER = { email: 'alex@fabrikam-partner.example', password: 'demo-password-1', name: 'Alex Morgan' };
const CUSTOMER_ADMIN = { email: 'olivia@northwind.example', password: 'demo-password-1', name: 'Olivia Brown', customer: 'Northwind Traders' };
const CUSTOMER = { name: 'Adatum Corporation', email: 'it@adatum.example', country: 'FR' };
const AUTHORIZATION = /^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{5}$/;

let env;
let page;
let baseUrl;

before(async () => {
  env = await startEnvironment({
    prepare: (bin, dataDir) => runOnce(bin, ['demo', '--data', dataDir]),
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();
const heading = () => page.getByRole('heading', { level: 1 });
const status = () => page.getByTestId('status');
const line = (n) => page.getByRole('group', { name: `Line ${n}`, exact: true });

let licenseNumber;
let authorizationNumber;
const orderRequests = []; // { key, body } of every POST /api/v1/lsc/orders

step('the partner signs in and finds the licensing center from the start page', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByLabel('E-mail address').fill(PARTNER.email);
  await page.getByLabel('Password').fill(PARTNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/home`);
  await heading().filter({ hasText: `Welcome, ${PARTNER.name}` }).waitFor();

  // The demo's agreements placed by Fabrikam, with the partner's role, in the picker.
  await page.getByRole('combobox', { name: 'Agreement' }).click();
  await page.getByRole('option', { name: /Contoso/ }).getByText('Partner').waitFor();
  await page.getByRole('option', { name: /Northwind Traders/ }).waitFor();
  await env.screenshots('home');
  await page.keyboard.press('Escape');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Licensing center' }).click();
  await page.waitForURL(`${baseUrl}/lsc`);
  await heading().filter({ hasText: 'Licensing center' }).waitFor();
  assert.equal(await page.getByTestId('nav-lsc').getAttribute('aria-current'), 'page');
  await page.getByTestId('relationships-table').getByRole('row', { name: /Contoso/ }).waitFor();
});

step('the order form checks its fields and can be used with the keyboard', async () => {
  await page.getByRole('link', { name: 'New order' }).click();
  await page.waitForURL(`${baseUrl}/lsc/orders/new`);
  await heading().filter({ hasText: 'New order' }).waitFor();
  await line(1).getByLabel('Level').locator('option', { hasText: 'Enterprise' }).waitFor({ state: 'attached' });

  // Nothing filled in: every required field says so, and nothing is sent.
  page.on('request', (request) => {
    if (request.method() === 'POST' && request.url().endsWith('/api/v1/lsc/orders')) {
      orderRequests.push({ key: request.headers()['idempotency-key'], body: request.postDataJSON() });
    }
  });
  await page.getByRole('button', { name: 'Place order' }).click();
  const name = page.getByLabel('Customer organization name');
  await expectFieldError(name, 'This field is required.');
  await expectFieldError(page.getByLabel('Country'), 'Choose the customer’s country.');
  await expectFieldError(line(1).getByLabel('Level'), 'Choose a subscription level.');
  await expectFieldError(line(1).getByLabel('Quantity'), 'Enter a whole number from 1 to 100,000.');
  assert.equal(await name.evaluate((el) => el === document.activeElement), true, 'the first invalid field has the focus');
  assert.equal(orderRequests.length, 0, 'no request for a form that cannot be right');

  // Adding a line from the keyboard puts the focus in it; removing it brings the focus back.
  await page.getByRole('button', { name: 'Add a line' }).focus();
  await page.keyboard.press('Enter');
  await line(2).waitFor();
  assert.equal(await line(2).getByLabel('Level').evaluate((el) => el === document.activeElement), true, 'focus in the new line');
  await line(2).getByRole('button', { name: 'Remove line 2' }).focus();
  await page.keyboard.press('Enter');
  await line(2).waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('button', { name: 'Add a line' }).evaluate((el) => el === document.activeElement), true, 'focus on "Add a line"');
  assert.equal(await line(1).getByRole('button', { name: /Remove/ }).isVisible(), false, 'the only line cannot be removed');
});

step('errors found by the server land on the right line', async () => {
  await page.getByLabel('Customer organization name').fill(CUSTOMER.name);
  await page.getByLabel('Customer work e-mail').fill(CUSTOMER.email);
  await page.getByLabel('Country').selectOption(CUSTOMER.country);
  assert.equal(await page.getByLabel('Invitation language').inputValue(), 'auto');
  await line(1).getByLabel('Level').selectOption('enterprise');
  await line(1).getByLabel('Quantity').fill('5');
  await page.getByRole('button', { name: 'Add a line' }).click();
  // A level the server no longer offers (as if the list changed since the page loaded).
  await line(2).getByLabel('Level').evaluate((select) => {
    select.add(new Option('Retired level', 'retired_level'));
    select.value = 'retired_level';
  });
  await line(2).getByLabel('Quantity').fill('10');
  await env.expecting([422], async () => {
    await page.getByRole('button', { name: 'Place order' }).click();
    await expectFieldError(line(2).getByLabel('Level'), 'Choose a subscription level.');
  });
  assert.equal(await line(1).getByLabel('Level').getAttribute('aria-invalid'), null, 'line 1 is fine');
  assert.equal(orderRequests.at(-1).body.lines[1].level, 'retired_level');
});

step('placing the order creates one license, even when the first answer is lost', async () => {
  await line(2).getByLabel('Level').selectOption('professional');
  await page.getByLabel('Purchase-order reference').fill('PO-ADATUM-1');
  await page.setViewportSize({ width: 1100, height: 1400 });
  await env.screenshots('order-form');

  // The server takes the first submission, but its answer never reaches the page.
  let lost = 0;
  await page.route('**/api/v1/lsc/orders', async (route) => {
    if (lost++ === 0) {
      const response = await route.fetch();
      assert.equal(response.status(), 201);
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await env.expecting([/net::ERR_CONNECTION_RESET/], async () => {
    await page.getByRole('button', { name: 'Place order' }).click();
    await status().filter({ hasText: 'The server could not be reached' }).waitFor();
  });
  await page.getByRole('button', { name: 'Place order' }).click();
  await heading().filter({ hasText: 'Order placed' }).waitFor();
  await page.unroute('**/api/v1/lsc/orders');

  const sent = orderRequests.slice(-2);
  assert.equal(sent.length, 2);
  assert.ok(sent[0].key && sent[0].key === sent[1].key, 'both submissions carry the same Idempotency-Key');
  assert.deepEqual(sent[1].body, {
    customer_name: CUSTOMER.name,
    customer_email: CUSTOMER.email,
    customer_country: CUSTOMER.country,
    lines: [{ level: 'enterprise', quantity: 5 }, { level: 'professional', quantity: 10 }],
    po_reference: 'PO-ADATUM-1',
  });

  licenseNumber = (await page.getByTestId('done-license-number').textContent()).trim();
  assert.match(licenseNumber, /^\d{8}$/);
  authorizationNumber = (await page.getByTestId('authorization-number').textContent()).trim();
  assert.match(authorizationNumber, AUTHORIZATION);
  await page.getByText(`An invitation is on its way to ${CUSTOMER.email}`).waitFor();

  await page.getByRole('button', { name: 'Copy the authorization number' }).click();
  await status().filter({ hasText: `${authorizationNumber} has been copied.` }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), authorizationNumber);
  await env.screenshots('order-placed');
});

step('the relationship summary lists the new customer once', async () => {
  await page.getByRole('link', { name: 'Back to the licensing center' }).click();
  await page.waitForURL(`${baseUrl}/lsc`);
  const rows = page.getByTestId('relationships-table').getByRole('row', { name: new RegExp(CUSTOMER.name) });
  await rows.first().waitFor();
  assert.equal(await rows.count(), 1, 'one order, one license');
  const row = rows.first();
  await row.getByRole('link', { name: licenseNumber }).waitFor();
  await row.getByText('France').waitFor();
  await row.getByText('Open License').waitFor();
  await row.getByText('Active').waitFor();
  await row.getByText('Partner').waitFor();
  await env.screenshots('lsc-summary');
});

step('the license details show the pools, the order and the contacts', async () => {
  await page.getByRole('link', { name: licenseNumber }).click();
  await page.waitForURL(`${baseUrl}/lsc/licenses/${licenseNumber}`);
  await heading().filter({ hasText: `License ${licenseNumber}` }).waitFor();
  assert.equal(await page.title(), `License ${licenseNumber} · openseat`);
  assert.equal(await page.getByTestId('nav-lsc').getAttribute('aria-current'), 'true');

  await page.getByTestId('license-customer').filter({ hasText: `${CUSTOMER.name} (France)` }).waitFor();
  await page.getByTestId('license-partner').filter({ hasText: 'Fabrikam Partners' }).waitFor();
  assert.equal((await page.getByTestId('license-authorization').getByTestId('authorization-number').textContent()).trim(), authorizationNumber);

  const pools = page.getByTestId('pools-table');
  assert.deepEqual(await pools.getByRole('row').allInnerTexts(), ['Level\tPurchased', 'Enterprise\t5', 'Professional\t10']);

  const orders = page.getByTestId('order');
  assert.equal(await orders.count(), 1);
  await orders.first().getByText('Purchase order PO-ADATUM-1').waitFor();
  await orders.first().getByText(`Placed by ${PARTNER.name}`).waitFor();
  assert.deepEqual(await orders.first().getByRole('row').allInnerTexts(), ['Level\tQuantity', 'Enterprise\t5', 'Professional\t10']);

  await page.getByTestId('license-contacts').getByRole('link', { name: CUSTOMER.email }).waitFor();

  const handoff = page.getByRole('link', { name: 'To manage subscriptions, click here' });
  const href = await handoff.getAttribute('href');
  assert.ok(href, 'the partner has a hand-off link');
  // The link leads, through the server, to a signed single-use hand-off address.
  const cookies = await page.context().cookies(baseUrl);
  const answer = await fetch(new URL(href, baseUrl), {
    redirect: 'manual',
    headers: { Cookie: cookies.map((c) => `${c.name}=${c.value}`).join('; ') },
  });
  assert.equal(answer.status, 303);
  assert.match(answer.headers.get('location') || '', new RegExp(`^${baseUrl}/handoff\\?token=`));
  await page.setViewportSize({ width: 1100, height: 760 });
  await env.screenshots('license-details');
});

step('a license the partner is not related to shows "not found", not an error', async () => {
  await env.expecting([404], async () => {
    await page.goto(`${baseUrl}/lsc/licenses/00000000`);
    await heading().filter({ hasText: 'License not found' }).waitFor();
  });
  assert.equal(await page.title(), 'License not found · openseat');
  assert.equal(await status().textContent(), '', 'no error message in the status line');
  await page.getByRole('link', { name: 'Back to the licensing center' }).waitFor();
});

step('the customer\'s invitation is in French (country FR, language automatic)', async () => {
  const mail = await waitFor('the invitation to the customer', async () => (await readMaildir(env.maildir))
    .find((m) => (m.headers.get('to') || '').includes(CUSTOMER.email)), { process: env.server });
  const text = textOf(mail);
  assert.match(text, /Bonjour/);
  assert.match(text, new RegExp(`Numéro de licence\\s:\\s${licenseNumber}`));
  assert.ok(text.includes(`${baseUrl}/signup`) || text.includes(`${baseUrl}/signin`), `no sign-in link in:\n${text}`);
  const invitations = (await readMaildir(env.maildir)).filter((m) => (m.headers.get('to') || '').includes(CUSTOMER.email));
  assert.equal(invitations.length, 1, 'one order, one invitation');
});

step('the licensing center speaks French too', async () => {
  await page.goto(`${baseUrl}/lsc/licenses/${licenseNumber}`);
  await heading().filter({ hasText: `License ${licenseNumber}` }).waitFor();
  await page.getByRole('button', { name: 'Français' }).click();
  await heading().filter({ hasText: `Contrat ${licenseNumber}` }).waitFor();
  await page.getByRole('link', { name: 'Pour gérer les abonnements, cliquez ici' }).waitFor();
  await page.getByTestId('license-customer').filter({ hasText: `${CUSTOMER.name} (France)` }).waitFor();
  await page.getByTestId('license-status').filter({ hasText: 'Actif' }).waitFor();
  await env.screenshots('license-details-fr');

  await page.getByRole('navigation', { name: 'Principale' }).getByRole('link', { name: 'Centre de licences' }).click();
  await page.getByRole('link', { name: 'Nouvelle commande' }).click();
  await heading().filter({ hasText: 'Nouvelle commande' }).waitFor();
  await page.getByRole('group', { name: 'Ligne 1' }).getByLabel('Niveau').locator('option', { hasText: 'Enterprise' }).waitFor({ state: 'attached' });
  await page.getByRole('button', { name: 'Passer la commande' }).click();
  await expectFieldError(page.getByLabel('Pays'), 'Choisissez le pays du client.');
  await env.screenshots('order-form-fr');
});

step('a customer sees their license without the partner\'s tools, and cannot order', async () => {
  await page.getByTestId('sign-out').click();
  await page.waitForURL(`${baseUrl}/signin`);
  // The UI takes the language of the profile that signs in (English here).
  await page.getByTestId('field-email').fill(CUSTOMER_ADMIN.email);
  await page.getByTestId('field-password').fill(CUSTOMER_ADMIN.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(`${baseUrl}/home`);
  await heading().filter({ hasText: `Welcome, ${CUSTOMER_ADMIN.name}` }).waitFor();
  // Signing in with the order's customer address made them the agreement's super admin. Their only
  // agreement: nothing to choose between.
  const picker = page.getByRole('combobox', { name: 'Agreement' });
  await picker.filter({ hasText: CUSTOMER_ADMIN.customer }).getByText('Super administrator').waitFor();
  assert.equal(await picker.getAttribute('aria-disabled'), 'true');

  await page.getByTestId('home-lsc').click();
  const row = page.getByTestId('relationships-table').getByRole('row', { name: new RegExp(CUSTOMER_ADMIN.customer) });
  await row.getByText('Customer', { exact: true }).waitFor();
  assert.equal(await page.getByTestId('relationships-table').getByRole('row', { name: new RegExp(CUSTOMER.name) }).count(), 0,
    'another customer\'s license is not listed');
  await row.getByRole('link').click();
  await page.getByText('Developer subscriptions for this license are managed by its partner.').waitFor();
  assert.equal(await page.getByTestId('handoff').count(), 0, 'no hand-off link for a customer');
  assert.match((await page.getByTestId('authorization-number').textContent()).trim(), AUTHORIZATION);

  // Someone else's license does not exist, as far as this customer can tell.
  await env.expecting([404], async () => {
    await page.goto(`${baseUrl}/lsc/licenses/${licenseNumber}`);
    await heading().filter({ hasText: 'License not found' }).waitFor();
  });

  await page.goto(`${baseUrl}/lsc/orders/new`);
  await line(1).getByLabel('Level').locator('option', { hasText: 'Enterprise' }).waitFor({ state: 'attached' });
  await page.getByLabel('Customer organization name').fill('Fourth Coffee');
  await page.getByLabel('Customer work e-mail').fill('it@fourthcoffee.example');
  await page.getByLabel('Country').selectOption('CA');
  await line(1).getByLabel('Level').selectOption('enterprise');
  await line(1).getByLabel('Quantity').fill('1');
  await env.expecting([403], async () => {
    await page.getByRole('button', { name: 'Place order' }).click();
    await status().filter({ hasText: 'Only members of a partner organization can place orders.' }).waitFor();
  });
});

test('no request left 127.0.0.1', () => {
  assert.deepEqual(env.offsite, []);
});

test('no console errors (CSP violations included)', () => {
  assert.deepEqual(env.consoleErrors, []);
});

/** `field` is marked invalid and described by an error that says `message`. */
async function expectFieldError(field, message) {
  await waitFor(`"${message}" on a field`, async () => (await field.getAttribute('aria-invalid')) === 'true', { timeoutMs: 5000 });
  const ids = ((await field.getAttribute('aria-describedby')) || '').split(/\s+/).filter(Boolean);
  const texts = await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).textContent()));
  assert.ok(texts.some((text) => text.trim() === message), `expected "${message}" among ${JSON.stringify(texts)}`);
}
