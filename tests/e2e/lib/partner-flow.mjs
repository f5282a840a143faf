// The life of a partner relationship through the UI, run once per language by
// partner-flow-en.test.mjs and partner-flow-fr.test.mjs (the words checked come from that
// language's catalogue, so each run proves the screens speak it):
//   - the customer's super admin (Camille) makes partners wait for approval, in the preferences;
//   - a reseller's new employee, in no partner organization yet, signs up, confirms the address
//     and registers their organization's name with the order's three numbers: the request waits;
//   - Camille follows the e-mail's link, lands in that request's dialog and, from the keyboard
//     only, approves it narrowed to read and assign;
//   - the partner adds a subscriber and sees no Files, Usage, Activity or jobs (the usage API
//     answers 403 capability_usage_missing);
//   - Camille narrows the access to read only; after a reload the partner's Add button is gone;
//   - the last day passes (`openseat lifecycle --today` the day after, as the API tests move
//     time) and the partner no longer sees the agreement;
//   - axe finds nothing on the Partners page, the preferences' partner section and the partner
//     organization page.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { axeViolations } from './axe.mjs';
import { BIN, runOnce, startEnvironment, stepper } from './harness.mjs';
import { readMaildir, textOf } from './mail.mjs';
import { waitFor } from './processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const AUTH_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const random = (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
const isoDate = (date) => date.toISOString().slice(0, 10);

export function partnerFlow(lang) {
  // The catalogue is the source of every word the test expects.
  const messages = JSON.parse(readFileSync(path.resolve(here, `../../../web/i18n/${lang}.json`), 'utf8'));
  /** The catalogue's text for `key` with {placeholders} filled (no plural blocks needed here). */
  const t = (key, params = {}) => {
    assert.ok(Object.hasOwn(messages, key), `no message ${key}`);
    return messages[key].replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? String(params[name]) : whole));
  };

  // Created by `openseat demo`: Contoso's customer; becomes super admin of the agreement below.
  const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };
  // The reseller's new employee, in no partner organization yet.
  const NEW = { email: `jo.${lang}@proseware.example`, password: 'proseware password one', name: 'Jo Bauer', organization: `Proseware ${lang.toUpperCase()}` };
  const SUBSCRIBER = { name: 'Ines Moreau', email: `ines.${lang}@contoso.example` };
  const AGREEMENT = { license: random('0123456789', 8), authorization: random(AUTH_ALPHABET, 14) };

  let env;
  let page;
  let baseUrl;
  let requestLink;

  before(async () => {
    env = await startEnvironment({
      locale: lang === 'fr' ? 'fr-FR' : 'en-US',
      async prepare(bin, dataDir) {
        await runOnce(bin, ['demo', '--data', dataDir]);
        const now = new Date();
        const csv = ['license_number,authorization_number,customer_name,customer_country,customer_email,partner_name,start_date,end_date,lines',
          [AGREEMENT.license, AGREEMENT.authorization, 'Contoso', 'FR', CAMILLE.email, 'Fabrikam Partners', isoDate(now),
            isoDate(new Date(now.getTime() + 3 * 365 * 86400000)), 'enterprise:5'].join(',')];
        const file = path.join(path.dirname(dataDir), 'agreements.csv');
        await fs.writeFile(file, `${csv.join('\n')}\n`);
        await runOnce(bin, ['import', 'agreements', file, '--data', dataDir]);
      },
    });
    ({ page, baseUrl } = env);
  });

  after(() => env?.stop());

  const step = stepper();
  const heading = () => page.getByRole('heading', { level: 1 });
  const status = () => page.getByTestId('status');
  const activeTestid = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') || document.activeElement?.tagName);

  async function signIn(user) {
    await page.getByTestId('field-email').fill(user.email);
    await page.getByTestId('field-password').fill(user.password);
    await page.getByTestId('signin-form-submit').click();
  }

  async function signOut() {
    await page.getByTestId('sign-out').click();
    await page.waitForURL(`${baseUrl}/signin`);
  }

  /** Signs in and makes sure the UI speaks this run's language (saved in the profile). */
  async function signInInLanguage(user, landing) {
    await signIn(user);
    await page.waitForURL(landing);
    if ((await page.getAttribute('html', 'lang')) !== lang) {
      await page.getByTestId(`lang-${lang}`).click();
      await waitFor(`the page in ${lang}`, async () => (await page.getAttribute('html', 'lang')) === lang, { timeoutMs: 5000 });
    }
  }

  async function mailTo(to, pattern) {
    return waitFor(`a mail to ${to} matching ${pattern}`, async () => (await readMaildir(env.maildir))
      .filter((m) => (m.headers.get('to') || '').includes(to) && pattern.test(textOf(m))).at(-1), { process: env.server });
  }

  async function expectNoAxeViolations(selector) {
    assert.deepEqual(await axeViolations(page, selector), [], `axe on ${page.url()} ${selector || ''}`);
  }

  step('the super admin makes partners wait for approval (preferences, partner access)', async () => {
    await page.goto(`${baseUrl}/signin`);
    await signInInLanguage(CAMILLE, `${baseUrl}/home`);
    await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}/preferences`);
    const form = page.getByTestId('preferences-form');
    await form.getByRole('heading', { name: t('preferences.partnerTitle') }).waitFor();
    const approval = form.getByRole('switch', { name: new RegExp(t('preferences.partnerApproval')) });
    assert.equal(await approval.isChecked(), false);
    await approval.check();
    // Read cannot be taken away; the others are all on by default.
    const read = form.getByTestId('capability-read');
    assert.equal(await read.isChecked(), true);
    assert.equal(await read.getAttribute('aria-disabled'), 'true', 'said to be fixed');
    await read.focus();
    await page.keyboard.press('Space');
    assert.equal(await read.isChecked(), true, 'read stays ticked');
    assert.equal(await form.getByTestId('capability-usage').isChecked(), true);
    assert.equal(await form.getByTestId('field-partner_period_days').inputValue(), '365');
    await expectNoAxeViolations('[data-testid="preferences-form"]');
    await form.getByTestId('preferences-form-submit').click();
    await status().filter({ hasText: t('preferences.saved') }).waitFor();
    const saved = await (await page.request.get(`${baseUrl}/api/v1/agreements/${AGREEMENT.license}/preferences`)).json();
    assert.equal(saved.partner_approval, true);
    assert.deepEqual(saved.partner_capabilities, ['read', 'assign', 'bulk', 'usage', 'activity']);
    assert.equal(saved.partner_period_days, 365);
    await signOut();
  });

  step('a new employee of a reseller signs up and confirms the address', async () => {
    await page.goto(`${baseUrl}/signup`);
    const form = page.getByTestId('signup-form');
    await form.getByTestId('field-name').fill(NEW.name);
    await form.getByTestId('field-email').fill(NEW.email);
    await form.getByTestId('field-password').fill(NEW.password);
    await form.getByTestId('signup-form-submit').click();
    await heading().filter({ hasText: t('signup.sentTitle') }).waitFor();
    const mail = await mailTo(NEW.email, /\/verify\?token=/);
    await page.goto(/(https?:\/\/\S+?\/verify\?token=[^\s<>"')\]]+)/.exec(textOf(mail))[1]);
    await page.getByTestId('verify-confirm').click();
    await page.waitForURL(`${baseUrl}/signin`);
    await page.getByTestId('field-password').fill(NEW.password);
    await page.getByTestId('signin-form-submit').click();
    await page.waitForURL(`${baseUrl}/home`);
  });

  step('in no partner organization, they name theirs and register with the three numbers; the request waits', async () => {
    await heading().filter({ hasText: t('unrecognized.title') }).waitFor();
    await page.getByText(t('unrecognized.askSuperAdmin')).waitFor();
    await page.getByText(t('unrecognized.registerOrganization')).waitFor();
    const form = page.getByTestId('registration-form');
    await form.getByTestId('field-organization_name').fill(NEW.organization);
    await form.getByTestId('field-authorization_number').fill(AGREEMENT.authorization);
    await form.getByTestId('field-license_number').fill(AGREEMENT.license);
    await form.getByTestId('field-customer_email').fill(CAMILLE.email);
    await form.getByTestId('field-attestation').check();
    await form.getByTestId('registration-form-submit').click();
    await page.getByTestId('registration-form-message').filter({ hasText: t('registration.pending') }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/home', 'nothing to open yet');
    // A member of a partner organization now: the header links to its page.
    await page.getByTestId('nav-partner-organization').waitFor();
    await signOut();
  });

  step('the super admin follows the e-mail\'s link and lands in that request\'s dialog', async () => {
    const mail = await mailTo(CAMILLE.email, new RegExp(`/agreements/${AGREEMENT.license}/partners\\?request=\\d+`));
    requestLink = new RegExp(`(https?://\\S+/agreements/${AGREEMENT.license}/partners\\?request=\\d+)`).exec(textOf(mail))[1];
    await page.goto(requestLink);
    await page.waitForURL(`${baseUrl}/signin`);
    await signIn(CAMILLE);
    await page.waitForURL(requestLink);
    const dialog = page.getByRole('dialog', { name: t('partners.approveTitle', { organization: NEW.organization }) });
    await dialog.waitFor();
    await dialog.getByText(t('partners.lastDay')).first().waitFor();
    for (const cap of ['read', 'assign', 'bulk', 'usage', 'activity']) {
      assert.equal(await dialog.getByTestId(`capability-${cap}`).isChecked(), true, `${cap} asked`);
    }
  });

  step('keyboard only: the request is approved with read and assign', async () => {
    const dialog = page.getByTestId('approve-dialog');
    // The focus starts on the first box (read, which cannot be unticked).
    assert.equal(await activeTestid(), 'capability-read');
    await page.keyboard.press('Space');
    assert.equal(await dialog.getByTestId('capability-read').isChecked(), true, 'read stays');
    await page.keyboard.press('Tab');
    assert.equal(await activeTestid(), 'capability-assign');
    for (const cap of ['bulk', 'usage', 'activity']) {
      await page.keyboard.press('Tab');
      assert.equal(await activeTestid(), `capability-${cap}`);
      await page.keyboard.press('Space');
      assert.equal(await dialog.getByTestId(`capability-${cap}`).isChecked(), false, `${cap} unticked`);
    }
    await page.keyboard.press('Tab');
    assert.equal(await activeTestid(), 'field-ends_on');
    // Tab walks through the date's parts (month, day, year), then on to the button.
    for (let i = 0; i < 4 && (await activeTestid()) === 'field-ends_on'; i++) await page.keyboard.press('Tab');
    assert.equal(await activeTestid(), 'approve-dialog-submit');
    await expectNoAxeViolations('[data-testid="approve-dialog"]');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await status().filter({ hasText: t('partners.narrowedDone', { organization: NEW.organization }) }).waitFor();
    const row = page.getByTestId('partners-table').getByRole('row', { name: new RegExp(NEW.organization) });
    await row.getByText(t('capability.read'), { exact: true }).waitFor();
    await row.getByText(t('capability.assign'), { exact: true }).waitFor();
    assert.equal(await row.getByText(t('capability.usage'), { exact: true }).count(), 0);
    await row.getByText(t('partners.peopleAll')).waitFor();
    await row.getByText(t('partners.renewsNo')).waitFor();
    assert.equal(await page.getByTestId('partner-requests').count(), 0, 'nothing left to decide');
    await expectNoAxeViolations();
    await signOut();
  });

  step('the partner adds a subscriber, and sees no files, usage, activity or jobs', async () => {
    await signInInLanguage(NEW, `${baseUrl}/home`);
    await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}`);
    await heading().filter({ hasText: t('agreement.title', { number: AGREEMENT.license }) }).waitFor();
    await page.getByTestId('agreement-role').filter({ hasText: t('role.partner') }).waitFor();
    await page.getByTestId('tab-overview').waitFor();
    for (const part of ['usage', 'activity', 'jobs', 'partners', 'admins', 'preferences']) {
      assert.equal(await page.getByTestId(`tab-${part}`).count(), 0, `no ${part} tab`);
    }
    assert.equal(await page.getByTestId('bulk-open').count(), 0, 'no file dialogs');
    await page.getByTestId('add-subscriber').click();
    const dialog = page.getByTestId('add-subscriber-dialog');
    await dialog.getByTestId('field-name').fill(SUBSCRIBER.name);
    await dialog.getByTestId('field-sign_in_email').fill(SUBSCRIBER.email);
    await dialog.getByTestId('field-level').selectOption('enterprise');
    await dialog.getByTestId('add-subscriber-form-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByTestId('subscribers-table').getByText(SUBSCRIBER.email).waitFor();

    const usage = await page.request.get(`${baseUrl}/api/v1/agreements/${AGREEMENT.license}/usage`);
    assert.equal(usage.status(), 403);
    const problem = await usage.json();
    assert.equal(problem.code, 'capability_usage_missing');
    assert.equal(problem.capability, 'usage');

    // Typed in directly, the usage page says it is not part of the access.
    await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}/usage`);
    await page.getByTestId('not-in-access').getByText(t('agreement.notInAccessTitle')).waitFor();
  });

  step('the partner organization page lists the agreement, its access and the people', async () => {
    await page.getByTestId('nav-partner-organization').click();
    await heading().filter({ hasText: t('partnerOrg.title') }).waitFor();
    const row = page.getByTestId('org-relationships-table').getByRole('row', { name: new RegExp(AGREEMENT.license) });
    await row.getByText(t('capability.assign'), { exact: true }).waitFor();
    await row.getByText(t('partners.active'), { exact: true }).waitFor();
    await page.getByTestId('org-people-table').getByText(NEW.email, { exact: true }).waitFor();
    await page.getByTestId('org-people-table').getByText(t('partnerOrg.roleAdmin'), { exact: true }).waitFor();
    await page.getByTestId('invite-person').waitFor();
    await expectNoAxeViolations();
    await signOut();
  });

  step('the customer narrows the access to read only', async () => {
    await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}/partners`);
    await signIn(CAMILLE);
    await page.waitForURL(`${baseUrl}/agreements/${AGREEMENT.license}/partners`);
    const row = page.getByTestId('partners-table').getByRole('row', { name: new RegExp(NEW.organization) });
    await row.getByTestId('change-access').click();
    const dialog = page.getByTestId('change-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getByTestId('capability-assign').isChecked(), true);
    await dialog.getByTestId('capability-assign').uncheck();
    await dialog.getByTestId('change-dialog-submit').click();
    await dialog.waitFor({ state: 'detached' });
    await status().filter({ hasText: t('partners.changedDone', { organization: NEW.organization }) }).waitFor();
    await row.getByText(t('capability.read'), { exact: true }).waitFor();
    assert.equal(await row.getByText(t('capability.assign'), { exact: true }).count(), 0);
    await signOut();
  });

  let endsOn;

  step('after a reload the partner\'s add button is gone', async () => {
    await signIn(NEW);
    await page.waitForURL(`${baseUrl}/home`);
    await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}`);
    await page.getByTestId('subscribers-table').getByText(SUBSCRIBER.email).waitFor();
    assert.equal(await page.getByTestId('add-subscriber').count(), 0, 'no Add button');
    assert.equal(await page.getByTestId('edit-subscriber').count(), 0, 'no Edit buttons');
    assert.equal(await page.getByTestId('remove-selected').count(), 0, 'no removal');
    const organizations = await (await page.request.get(`${baseUrl}/api/v1/partner-organizations`)).json();
    const org = await (await page.request.get(`${baseUrl}/api/v1/partner-organizations/${organizations.organizations[0].id}`)).json();
    endsOn = org.relationships.find((r) => r.agreement.license_number === AGREEMENT.license).ends_on;
    assert.match(endsOn, /^\d{4}-\d{2}-\d{2}$/);
  });

  step('once the last day has passed, the partner no longer sees the agreement', async () => {
    // Time moves the way the API tests move it: the daily pass, run for a day after the last.
    const dayAfter = isoDate(new Date(Date.parse(`${endsOn}T00:00:00Z`) + 2 * 86400000));
    await runOnce(BIN, ['lifecycle', '--today', dayAfter, '--data', env.dataDir]);
    await env.expecting([404], async () => {
      await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}`);
      await heading().filter({ hasText: t('agreement.notFoundTitle') }).waitFor();
    });
    const list = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
    assert.equal(list.agreements.some((a) => a.license_number === AGREEMENT.license), false);
  });

  test('no request left 127.0.0.1', () => {
    assert.deepEqual(env.offsite, []);
  });

  test('no console errors (CSP violations included)', () => {
    assert.deepEqual(env.consoleErrors, []);
  });
}
