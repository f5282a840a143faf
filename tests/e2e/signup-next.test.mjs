// Browser test of a link that survives sign-up: the customer of a new agreement, who has no
// account yet, opens the "partner added" e-mail's link to the Partners page, creates an account
// on the way, confirms it from the verification mail and, once signed in, lands on that
// Partners page rather than on the start page. Every new link asked for on the way ("Check your
// inbox", a link that no longer works, the sign-in page) keeps that page; so does the sign-in link
// of the mail someone gets who signs up again with an address that has an account.
//
//   cd tests/e2e && npm ci && node --test signup-next.test.mjs

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runOnce, startEnvironment, stepper } from './lib/harness.mjs';
import { readMaildir, textOf } from './lib/mail.mjs';
import { waitFor } from './lib/processes.mjs';

// Created by `openseat demo`.
const ALEX = { email: 'alex@fabrikam-partner.example', password: 'demo-password-1' };
const DANA = { email: 'dana@adventure-works.example', password: 'adventure works one', name: 'Dana Kim' };

const AUTH_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const random = (alphabet, n) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
const isoDate = (date) => date.toISOString().slice(0, 10);
const AGREEMENT = { license: `4${random('0123456789', 7)}`, authorization: random(AUTH_ALPHABET, 14) };

let env;
let page;
let baseUrl;

before(async () => {
  env = await startEnvironment({
    async prepare(bin, dataDir) {
      await runOnce(bin, ['demo', '--data', dataDir]);
      const now = new Date();
      const end = isoDate(new Date(now.getTime() + 3 * 365 * 86400000));
      const csv = ['license_number,authorization_number,customer_name,customer_country,customer_email,partner_name,start_date,end_date,lines',
        [AGREEMENT.license, AGREEMENT.authorization, 'Adventure Works', 'US', DANA.email, 'Fabrikam Partners', isoDate(now), end, 'enterprise:5'].join(',')];
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

/** The newest mail to `to` whose text matches `pattern`, once it has arrived. */
async function mailTo(to, pattern) {
  return waitFor(`a mail to ${to} matching ${pattern}`, async () => (await readMaildir(env.maildir))
    .filter((m) => (m.headers.get('to') || '').includes(to) && pattern.test(textOf(m))).at(-1), { process: env.server });
}

const linkIn = (mail, pattern) => {
  const found = new RegExp(`(https?://\\S+?${pattern}[^\\s<>"')\\]]*)`).exec(textOf(mail));
  assert.ok(found, `no ${pattern} link in:\n${textOf(mail)}`);
  return found[1];
};

step('the partner registers for the agreement through the API; the customer is e-mailed', async () => {
  // The partner's side is not what this test is about: done over HTTP, outside the page.
  const api = page.context().request;
  const headers = async (session) => ({ 'X-CSRF-Token': session.csrf_token, Origin: baseUrl });
  const anonymous = await (await api.get(`${baseUrl}/api/v1/session`)).json();
  const signedIn = await api.post(`${baseUrl}/api/v1/session`, { data: ALEX, headers: await headers(anonymous) });
  assert.equal(signedIn.status(), 200);
  const registered = await api.post(`${baseUrl}/api/v1/partner-registrations`, {
    data: { authorization_number: AGREEMENT.authorization, license_number: AGREEMENT.license, customer_email: DANA.email, attestation: true },
    headers: await headers(await signedIn.json()),
  });
  assert.equal(registered.status(), 201, await registered.text());
  await api.delete(`${baseUrl}/api/v1/session`, { headers: await headers(await (await api.get(`${baseUrl}/api/v1/session`)).json()) });
  await page.context().clearCookies();
});

step('the customer opens the e-mail\'s link without an account, and signs up from the sign-in page', async () => {
  const mail = await mailTo(DANA.email, new RegExp(`/agreements/${AGREEMENT.license}/partners`));
  const link = linkIn(mail, `/agreements/${AGREEMENT.license}/partners`);
  await page.goto(link);
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.waitForURL(/\/signup\?next=/);
  await page.getByLabel('Name').fill(DANA.name);
  await page.getByLabel('E-mail address').fill(DANA.email);
  await page.getByLabel('Password').fill(DANA.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await heading().filter({ hasText: 'Check your inbox' }).waitFor();
});

/** The verification links mailed to `to` so far, once there are `count` of them. */
async function verifyLinks(to, count) {
  const mails = await waitFor(`${count} verification mails to ${to}`, async () => {
    const found = (await readMaildir(env.maildir))
      .filter((m) => (m.headers.get('to') || '').includes(to) && /\/verify\?token=/.test(textOf(m)));
    return found.length >= count ? found : null;
  }, { process: env.server });
  return mails.map((m) => linkIn(m, '/verify\\?token='));
}

const NEXT = /[?&]next=%2Fagreements%2F\d{8}%2Fpartners(?:&|$)/;

step('asking for the link again from "Check your inbox" keeps the way to the Partners page', async () => {
  await page.getByRole('button', { name: 'Send the link again' }).click();
  await page.getByTestId('status').filter({ hasText: 'a new link is on its way' }).waitFor();
  const links = await verifyLinks(DANA.email, 2);
  assert.equal(links.length, 2);
  for (const link of links) assert.match(link, NEXT);
});

step('so does the new link asked for on the page of a link that no longer works', async () => {
  await page.goto(`${baseUrl}/verify?token=spent-long-ago&next=${encodeURIComponent(`/agreements/${AGREEMENT.license}/partners`)}`);
  await env.expecting([410], async () => {
    await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
    await heading().filter({ hasText: 'This link no longer works' }).waitFor();
  });
  await page.getByLabel('E-mail address').fill(DANA.email);
  await page.getByRole('button', { name: 'Send me a new link' }).click();
  await page.getByTestId('status').filter({ hasText: 'a new link is on its way' }).waitFor();
  const links = await verifyLinks(DANA.email, 3);
  assert.equal(links.length, 3);
  assert.match(links.at(-1), NEXT);
});

step('and the one asked for on the sign-in page before confirming (past the mail limit: the request carries it)', async () => {
  await page.goto(`${baseUrl}/agreements/${AGREEMENT.license}/partners`);
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByLabel('E-mail address').fill(DANA.email);
  await page.getByLabel('Password').fill(DANA.password);
  await env.expecting([403], async () => {
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('status').filter({ hasText: 'Please confirm your e-mail address first' }).waitFor();
  });
  const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/verify/resend') && r.method() === 'POST');
  await page.getByRole('button', { name: 'Send the link again' }).click();
  assert.equal((await sent).postDataJSON().next, `/agreements/${AGREEMENT.license}/partners`);
  await page.getByTestId('status').filter({ hasText: 'a new link is on its way' }).waitFor();
});

step('confirmed and signed in, the customer lands on the Partners page the link pointed to', async () => {
  const mail = await mailTo(DANA.email, /\/verify\?token=/);
  const link = linkIn(mail, '/verify\\?token=');
  assert.match(link, /[?&]next=%2Fagreements%2F\d{8}%2Fpartners/);
  await page.goto(link);
  await page.getByRole('button', { name: 'Confirm my e-mail address' }).click();
  await page.waitForURL(`${baseUrl}/signin`);
  await page.getByLabel('Password').fill(DANA.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/agreements/${AGREEMENT.license}/partners`);
  await heading().filter({ hasText: `Partners of agreement ${AGREEMENT.license}` }).waitFor();
});

step('someone who already has an account and signs up again gets a sign-in link that keeps the way', async () => {
  await page.context().clearCookies();
  await page.goto(`${baseUrl}/signup?next=${encodeURIComponent(`/agreements/${AGREEMENT.license}`)}`);
  await page.getByLabel('Name').fill('Alex again');
  await page.getByLabel('E-mail address').fill(ALEX.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Create account' }).click();
  await heading().filter({ hasText: 'Check your inbox' }).waitFor();
  const mail = await mailTo(ALEX.email, /tried to create a new openseat account/);
  const link = linkIn(mail, '/signin');
  assert.match(link, new RegExp(`/signin\\?next=%2Fagreements%2F${AGREEMENT.license}$`));
  await page.goto(link);
  await page.getByLabel('E-mail address').fill(ALEX.email);
  await page.getByLabel('Password').fill(ALEX.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/agreements/${AGREEMENT.license}`);
});
