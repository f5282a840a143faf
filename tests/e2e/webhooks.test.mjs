// Browser test of webhooks, against the real server with the demo data (started with
// --webhooks-allow-private, so an endpoint may be a receiver on 127.0.0.1 over plain http) and a
// receiver the test runs itself, which records what it is sent and answers with a short text:
//   - Olivia (English, super admin of Northwind) adds an endpoint on the agreement's Webhooks
//     tab for one event type; its signing secret is shown once;
//   - "Send test" reaches the receiver; the delivery log shows it delivered, with its attempt
//     and the receiver's answer in a <pre>; "Send again" delivers it a second time;
//   - a subscriber added on Northwind reaches the receiver as the event chosen;
//   - she disables and enables it, changes its description, and gets a new secret: the dialog
//     and the endpoint's row say until when the previous one signs too;
//   - with more than a page of deliveries, the log shows the newest fifty, and "Show older
//     deliveries" (keyboard, count announced) adds the older ones under them;
//   - Camille (French) reads Contoso's Webhooks tab in French, without Northwind's endpoint;
//   - Alex, an admin of the partner organization Fabrikam, has the same on his organization's page;
//   - axe finds nothing on the tab, its dialogs and the delivery log.
// Everything runs on 127.0.0.1 (see lib/harness.mjs).
//
//   cd tests/e2e && npm ci && node --test webhooks.test.mjs

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { axeViolations } from './lib/axe.mjs';
import { demoEnvironment, stepper } from './lib/harness.mjs';
import { signIn as signInAs, signOut as signOutOf, sessionApi } from './lib/session.mjs';
import { waitFor } from './lib/processes.mjs';

const OLIVIA = { email: 'olivia@northwind.example', password: 'demo-password-1' };
const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
const ALEX = { email: 'alex@fabrikam-partner.example', password: 'demo-password-1' };
const ANSWER = 'thanks from the test receiver';

let env;
let page;
let baseUrl;
let northwind;
let receiver;
let hookUrl;
const received = [];

before(async () => {
  receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ path: request.url, headers: request.headers, body });
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end(ANSWER);
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${receiver.address().port}/hooks/openseat`;
  env = await demoEnvironment({ serverArgs: ['--webhooks-allow-private'] });
  ({ page, baseUrl } = env);
});

after(async () => {
  await env?.stop();
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve()));
});

const step = stepper();
const status = () => page.getByTestId('status');

const signIn = (who) => signInAs(page, baseUrl, who);

const signOut = () => signOutOf(page, baseUrl);

const api = (method, path, body) => sessionApi(page, baseUrl, method, path, body);

async function licenseOf(customer) {
  const { body } = await api('GET', '/agreements');
  return body.agreements.find((a) => a.customer?.name?.startsWith(customer))?.license_number;
}

const focused = () => page.evaluate(() => document.activeElement?.dataset?.testid || document.activeElement?.id || document.activeElement?.tagName);

async function assertAxeClean(what) {
  assert.deepEqual(await axeViolations(page), [], `axe: ${what}`);
}

/** Requests the receiver got whose JSON body has `type`. */
function receivedOf(type) {
  return received.filter((r) => {
    try {
      return JSON.parse(r.body).type === type;
    } catch {
      return false;
    }
  });
}

/** Refreshes the delivery log until a row of `label` says `state`; returns that row. */
async function deliveryRow(label, state) {
  const log = page.getByTestId('webhook-log-card');
  return waitFor(`a delivery "${label}" ${state}`, async () => {
    await log.getByTestId('webhook-log-refresh').click();
    await log.locator('[data-testid="webhook-log"]:not([aria-busy])').waitFor();
    const row = log.getByTestId('webhook-log-table').locator('tbody tr').filter({ hasText: label }).first();
    if (!(await row.count())) return null;
    return (await row.getByTestId('delivery-status').textContent()) === state ? row : null;
  }, { process: env.server, intervalMs: 300 });
}

const endpointRow = () => page.getByTestId('webhooks-table').locator('tbody tr').first();

step('Olivia opens the Webhooks tab of Northwind', async () => {
  await signIn(OLIVIA);
  northwind = await licenseOf('Northwind');
  assert.ok(northwind);
  await page.goto(`${baseUrl}/agreements/${northwind}`);
  await page.getByTestId('tab-webhooks').click();
  await page.waitForURL(`${baseUrl}/agreements/${northwind}/webhooks`);
  assert.equal(await page.getByTestId('page-title').textContent(), `Webhooks of agreement ${northwind}`);
  await page.getByTestId('webhooks-none').waitFor();
  await assertAxeClean('the empty Webhooks tab');
});

step('she adds an endpoint for one event and sees its signing secret once', async () => {
  await page.getByTestId('add-webhook').focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByTestId('webhook-dialog');
  await dialog.waitFor();
  assert.equal(await focused(), 'field-url');
  assert.equal(await dialog.getByTestId('webhook-events-all').isChecked(), true, 'all events unless chosen');
  assert.equal(await dialog.getByTestId('webhook-event-list').evaluate((el) => el.disabled), true, 'the list waits for "only these"');
  await assertAxeClean('the add dialog');

  await page.keyboard.type(hookUrl);
  await dialog.getByTestId('field-description').fill('Stock system');
  await dialog.getByTestId('webhook-events-some').check();
  await dialog.getByTestId('webhook-form-submit').click();
  await dialog.getByTestId('error-event_types').waitFor(); // "only these" with none ticked
  await dialog.getByTestId('webhook-event-subscription.added').check();
  assert.equal(await dialog.getByTestId('error-event_types').isVisible(), false);
  await dialog.getByTestId('webhook-form-submit').click();

  const shown = page.getByTestId('webhook-secret-dialog');
  await shown.waitFor();
  assert.equal(await focused(), 'webhook-secret');
  const secret = await shown.getByTestId('webhook-secret').inputValue();
  assert.match(secret, /^whsec_/);
  assert.match(await shown.getByTestId('webhook-secret-warning').textContent(), /will not be shown again/);
  await page.keyboard.press('Escape');
  await shown.waitFor({ state: 'detached' });
  await waitFor('the focus on the list', async () => (await focused()) === 'webhooks-title');

  const row = endpointRow();
  assert.equal(await row.getByTestId('webhook-url').textContent(), hookUrl);
  assert.equal(await row.getByTestId('webhook-description').textContent(), 'Stock system');
  assert.deepEqual(await row.getByTestId('webhook-events').locator('li').allTextContents(), ['Subscriber added']);
  assert.equal(await row.getByTestId('webhook-status').textContent(), 'Enabled');
  await assertAxeClean('the Webhooks tab with an endpoint');
});

step('a test event reaches the receiver and shows in the delivery log, with the answer', async () => {
  await endpointRow().getByTestId('webhook-ping').click();
  await status().getByText(`A test event is on its way to ${hookUrl}.`).waitFor();
  await waitFor('the test event at the receiver', () => receivedOf('webhook.ping').length === 1, { process: env.server });
  assert.equal(received[0].path, '/hooks/openseat');

  await endpointRow().getByTestId('webhook-deliveries').click();
  await page.getByTestId('webhook-log-card').waitFor();
  assert.equal(await focused(), 'webhook-log-title', 'the log’s heading has the focus');
  const row = await deliveryRow('Test event', 'Delivered');
  assert.equal(await row.getByTestId('delivery-attempts').textContent(), '1');
  await row.getByTestId('delivery-details').locator('summary').click();
  const attempt = row.getByTestId('delivery-attempt');
  await attempt.waitFor();
  assert.equal(await attempt.getByTestId('attempt-status').textContent(), 'HTTP 200');
  assert.equal(await attempt.locator('pre').textContent(), ANSWER);
  await assertAxeClean('the delivery log');
  await env.screenshots('webhooks-en');
});

step('"Send again" delivers the same event once more', async () => {
  const row = await deliveryRow('Test event', 'Delivered');
  await row.getByTestId('delivery-redeliver').click();
  await status().getByText('The event is on its way again.').waitFor();
  await waitFor('the second delivery at the receiver', () => receivedOf('webhook.ping').length === 2, { process: env.server });
  const [first, second] = receivedOf('webhook.ping');
  assert.equal(first.body, second.body, 'the same event');
  // Sent again, the delivery starts over; its log keeps every try.
  await waitFor('two tries in the delivery’s log', async () => {
    const row = await deliveryRow('Test event', 'Delivered');
    await row.getByTestId('delivery-details').locator('summary').click();
    await row.getByTestId('delivery-attempt').first().waitFor();
    return (await row.getByTestId('delivery-attempt').count()) === 2;
  }, { process: env.server });
});

step('a subscriber added on Northwind reaches the receiver as the event chosen', async () => {
  const added = await api('POST', `/agreements/${northwind}/subscriptions`,
    { name: 'Ines Duarte', sign_in_email: 'ines.duarte@northwind.example', level: 'professional', country: 'US', language: 'en', send_email: false });
  assert.equal(added.status, 201, JSON.stringify(added.body));
  await waitFor('the subscription event at the receiver', () => receivedOf('subscription.added').length === 1, { process: env.server });
  assert.match(receivedOf('subscription.added')[0].body, /ines\.duarte@northwind\.example/);
  await deliveryRow('Subscriber added', 'Delivered');
});

step('she disables and enables it, changes it, and gets a new secret', async () => {
  await endpointRow().getByTestId('webhook-toggle').click();
  await status().getByText(`No more events will be sent to ${hookUrl}.`).waitFor();
  assert.equal(await endpointRow().getByTestId('webhook-status').textContent(), 'Disabled');
  assert.equal(await endpointRow().getByTestId('webhook-disabled-reason').textContent(), 'Disabled by an administrator');
  assert.equal(await focused(), 'webhook-toggle', 'the focus stays on the button');
  await page.keyboard.press('Enter');
  await status().getByText(`Events will be sent to ${hookUrl} again.`).waitFor();
  assert.equal(await endpointRow().getByTestId('webhook-status').textContent(), 'Enabled');

  await endpointRow().getByTestId('webhook-edit').click();
  const dialog = page.getByTestId('webhook-dialog');
  assert.equal(await dialog.getByTestId('field-url').inputValue(), hookUrl);
  assert.equal(await dialog.getByTestId('webhook-event-subscription.added').isChecked(), true);
  await dialog.getByTestId('field-description').fill('Stock system (production)');
  await dialog.getByTestId('webhook-form-submit').click();
  await status().getByText(`Changes saved for ${hookUrl}.`).waitFor();
  assert.equal(await endpointRow().getByTestId('webhook-description').textContent(), 'Stock system (production)');

  await endpointRow().getByTestId('webhook-rotate').click();
  await page.getByTestId('confirm-webhook-rotate').click();
  const shown = page.getByTestId('webhook-secret-dialog');
  await shown.waitFor();
  assert.match(await shown.getByTestId('webhook-secret').inputValue(), /^whsec_/);
  // Until when the previous secret signs too, as a date and time in words (a day from now).
  const until = / until (\w+ \d{1,2}, \d{4} at \d{1,2}:\d{2}\s[AP]M)/;
  const [, when] = until.exec(await shown.getByTestId('webhook-secret-use').textContent()) ?? [];
  assert.ok(when, await shown.getByTestId('webhook-secret-use').textContent());
  const tomorrow = new Intl.DateTimeFormat('en', { dateStyle: 'long' }).format(new Date(Date.now() + 86400000));
  const today = new Intl.DateTimeFormat('en', { dateStyle: 'long' }).format(new Date());
  assert.ok(when.startsWith(tomorrow) || when.startsWith(today), `${when}: a day from now`);
  await shown.getByTestId('webhook-secret-done').click();
  await status().getByText(`The endpoint ${hookUrl} has a new secret.`).waitFor();
  assert.equal(await endpointRow().getByTestId('webhook-previous-secret').textContent(), `The previous secret signs too until ${when}`);
  assert.equal(await focused(), 'webhooks-title');
});

step('the delivery log shows a page at a time, older deliveries after the button', async () => {
  // Two deliveries so far (the test event, the subscriber added): fifty test events more make
  // two pages of fifty.
  const id = (await endpointRow().getAttribute('data-testid')).replace('webhook-', '');
  for (let i = 0; i < 50; i++) {
    const sent = await api('POST', `/agreements/${northwind}/webhooks/${id}/ping`);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
  }
  const log = page.getByTestId('webhook-log-card');
  await log.getByTestId('webhook-log-refresh').click();
  await log.locator('[data-testid="webhook-log"]:not([aria-busy])').waitFor();
  const rows = log.getByTestId('webhook-log-table').locator('tbody tr');
  assert.equal(await rows.count(), 50);
  assert.equal(await log.getByTestId('webhook-log-count').textContent(), 'The latest 50 deliveries are shown; older ones follow.');
  assert.equal(await log.getByTestId('webhook-log-count').getAttribute('aria-live'), 'polite');
  assert.doesNotMatch(await log.getByTestId('webhook-log-table').textContent(), /Subscriber added/, 'the older ones wait');
  const older = log.getByTestId('webhook-log-older');
  assert.equal(await older.textContent(), `Show older deliveries for ${hookUrl}`);

  await older.focus();
  await page.keyboard.press('Enter');
  await waitFor('the older page', async () => (await rows.count()) === 52);
  assert.equal(await log.getByTestId('webhook-log-count').textContent(), 'All 52 deliveries are shown.');
  assert.equal(await older.isVisible(), false, 'nothing older');
  // The older rows follow the newer ones, the oldest last: the first test event.
  assert.match(await rows.nth(50).textContent(), /Subscriber added/);
  assert.match(await rows.nth(51).textContent(), /Test event/);
  // The button went away: the focus is on the first row it brought, not lost to the page.
  assert.equal(await page.evaluate(() => document.activeElement?.closest('tr')?.dataset?.testid),
    await rows.nth(50).getAttribute('data-testid'));
  await assertAxeClean('the delivery log with two pages');

  // Refreshed, the log starts again from the newest page.
  await log.getByTestId('webhook-log-refresh').click();
  await log.locator('[data-testid="webhook-log"]:not([aria-busy])').waitFor();
  assert.equal(await rows.count(), 50);
  assert.equal(await older.isVisible(), true);
  await signOut();
});

step('Camille reads Contoso’s Webhooks tab in French, without Northwind’s endpoint', async () => {
  await signIn(CAMILLE);
  const contoso = await licenseOf('Contoso');
  await page.goto(`${baseUrl}/agreements/${contoso}/webhooks`);
  await page.getByRole('heading', { name: `Webhooks du contrat ${contoso}` }).waitFor();
  await page.getByText('Aucun point de terminaison pour l’instant.').waitFor();
  assert.doesNotMatch(await page.getByTestId('webhooks-card').textContent(), /Stock system|127\.0\.0\.1/);
  await page.getByRole('button', { name: 'Ajouter un point de terminaison' }).click();
  const dialog = page.getByTestId('webhook-dialog');
  await dialog.getByRole('radio', { name: 'Tous les événements' }).waitFor();
  await dialog.getByRole('checkbox', { name: 'Abonné ajouté' }).waitFor();
  await dialog.getByLabel('Description').waitFor();
  await assertAxeClean('the add dialog in French');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await focused(), 'add-webhook');
  await signOut();
});

step('Alex manages his partner organization’s webhooks on its page', async () => {
  await signIn(ALEX);
  await page.goto(`${baseUrl}/partner-organization`);
  const card = page.getByTestId('webhooks-card');
  await card.waitFor();
  await card.getByTestId('webhooks-none').waitFor();
  await card.getByTestId('add-webhook').click();
  const dialog = page.getByTestId('webhook-dialog');
  await dialog.getByTestId('field-url').fill(`${hookUrl}/fabrikam`);
  await dialog.getByTestId('webhook-form-submit').click();
  await page.getByTestId('webhook-secret-done').click();
  assert.equal(await endpointRow().getByTestId('webhook-url').textContent(), `${hookUrl}/fabrikam`);
  assert.equal(await endpointRow().getByTestId('webhook-events').textContent(), 'All events');
  await endpointRow().getByTestId('webhook-ping').click();
  await waitFor('the organization’s test event', () => received.some((r) => r.path === '/hooks/openseat/fabrikam'), { process: env.server });
  await assertAxeClean('the partner organization page with webhooks');
  assert.deepEqual(env.consoleErrors, []);
  assert.deepEqual(env.offsite, []);
});
