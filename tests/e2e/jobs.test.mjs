// Browser test of the agreement's background jobs page: Alex (a partner, from the demo data)
// orders a large agreement for Camille's company and sends two files to be processed in the
// background — a long one, then one that waits behind it — and Camille, its super admin, finds
// both on the agreement's "Background jobs" tab, with who sent them, and cancels them from the keyboard: the waiting one at once, the
// running one stopping with nothing applied. Camille reads French; the page is then read in English.
//
//   cd tests/e2e && npm ci && node --test jobs.test.mjs

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { runOnce, startEnvironment, stepper } from './lib/harness.mjs';

const ALEX = { email: 'alex@fabrikam-partner.example', password: 'demo-password-1', name: 'Alex Morgan' };
const CAMILLE = { email: 'camille@contoso.example', password: 'demo-password-1' };

let env;
let page;
let baseUrl;
let license;
const sent = {};
let alex;

before(async () => {
  env = await startEnvironment({ prepare: (bin, dataDir) => runOnce(bin, ['demo', '--data', dataDir]) });
  ({ page, baseUrl } = env);
});

after(() => env?.stop());

const step = stepper();

/** A signed-in API client outside the browser (Alex, while Camille uses the page). */
async function apiClient(user) {
  const cookies = {};
  const keep = (res) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      cookies[pair.slice(0, at)] = pair.slice(at + 1);
    }
  };
  const cookie = () => Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
  let csrf = (await (async () => {
    const res = await fetch(`${baseUrl}/api/v1/session`);
    keep(res);
    return res.json();
  })()).csrf_token;
  const call = async (method, path, body, type = 'application/json') => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { cookie: cookie(), 'X-CSRF-Token': csrf, ...(body !== undefined ? { 'Content-Type': type } : {}) },
      body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : body,
    });
    keep(res);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const signedIn = await call('POST', '/api/v1/session', { email: user.email, password: user.password });
  assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
  csrf = signedIn.body.csrf_token;
  return call;
}

function people(n, from) {
  const rows = ['Name,Sign-in Email,Subscription Level,Country,Language'];
  for (let i = from; i < from + n; i += 1) rows.push(`Person ${i},person${i}@contoso.example,enterprise,FR,en`);
  return `${rows.join('\n')}\n`;
}

const row = (id) => page.getByTestId(`job-${id}`);

step('Alex orders a large agreement for Camille’s company', async () => {
  alex = await apiClient(ALEX);
  const order = await alex('POST', '/api/v1/lsc/orders', {
    customer_name: 'Contoso Labs', customer_email: CAMILLE.email, customer_country: 'FR',
    lines: [{ level: 'enterprise', quantity: 100000 }],
  });
  assert.equal(order.status, 201, JSON.stringify(order.body));
  license = order.body.agreement.license_number;
});

step('Camille signs in (and so becomes its super admin)', async () => {
  await page.goto(`${baseUrl}/signin`);
  await page.getByTestId('field-email').fill(CAMILLE.email);
  await page.getByTestId('field-password').fill(CAMILLE.password);
  await page.getByTestId('signin-form-submit').click();
  await page.waitForURL(/\/home|\/agreements\//);
  const agreements = await (await page.request.get(`${baseUrl}/api/v1/agreements`)).json();
  assert.ok(agreements.agreements.some((a) => a.license_number === license && a.role === 'super_admin'), JSON.stringify(agreements));
});

step('Camille reaches the jobs from the agreement’s tabs', async () => {
  await page.goto(`${baseUrl}/agreements/${license}`);
  await page.getByTestId('tab-jobs').click();
  await page.waitForURL(`${baseUrl}/agreements/${license}/jobs`);
  await page.getByTestId('jobs-none').waitFor();
});

step('Alex sends a long file, then one that waits behind it', async () => {
  const base = `/api/v1/agreements/${license}/subscriptions`;
  // An addition checked only: every row checked and written, then rolled back.
  const long = await alex('POST', `${base}/bulk?background=true&check_only=true&file_name=everyone.csv`, people(60000, 0), 'text/csv');
  assert.equal(long.status, 202, JSON.stringify(long.body));
  const waiting = await alex('POST', `${base}/bulk?background=true&file_name=team.csv`, people(3, 900000), 'text/csv');
  assert.equal(waiting.status, 202, JSON.stringify(waiting.body));
  sent.long = long.body.id;
  sent.waiting = waiting.body.id;
});

step('Camille sees who sent what', async () => {
  await page.getByTestId('jobs-refresh').click();
  await page.getByTestId('jobs-table').waitFor();
  const waiting = row(sent.waiting);
  await waiting.getByTestId('job-state').getByText('En attente').waitFor();
  assert.match(await waiting.innerText(), /Alex Morgan[\s\S]*alex@fabrikam-partner\.example[\s\S]*Ajout d’abonnés[\s\S]*team\.csv/);
  assert.match(await row(sent.long).innerText(), /Vérification seule[\s\S]*everyone\.csv/);
});

step('the waiting job is cancelled from the keyboard and never starts', async () => {
  const button = row(sent.waiting).getByRole('button', { name: /Annuler.*team\.csv.*Alex Morgan/ });
  await button.focus();
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/jobs/${sent.waiting}/cancel`)),
    page.keyboard.press('Enter'),
  ]);
  assert.equal(answer.status(), 200, await answer.text());
  await row(sent.waiting).getByTestId('job-state').getByText('Annulé').waitFor();
  await row(sent.waiting).getByText('Annulé par Camille Martin').waitFor();
  assert.equal(await page.locator('#jobs-list-title').evaluate((el) => el === document.activeElement), true,
    'the focus goes back to the list’s heading');
  const job = await (await page.request.get(`${baseUrl}/api/v1/agreements/${license}/jobs/${sent.waiting}`)).json();
  assert.equal(job.state, 'cancelled');
  assert.equal(job.rows_checked, 0);
});

step('the running job stops with nothing applied', async () => {
  const button = row(sent.long).getByRole('button', { name: /Annuler/ });
  await button.focus();
  await page.keyboard.press('Enter');
  const deadline = Date.now() + 60000;
  for (;;) {
    const job = await (await page.request.get(`${baseUrl}/api/v1/agreements/${license}/jobs/${sent.long}`)).json();
    if (job.state !== 'running' && job.state !== 'queued') {
      assert.equal(job.state, 'cancelled', JSON.stringify(job));
      assert.equal(job.result.code, 'job_cancelled');
      break;
    }
    assert.ok(Date.now() < deadline, 'the job stops');
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.getByTestId('jobs-refresh').click();
  await row(sent.long).getByTestId('job-state').getByText('Annulé').waitFor();
});

step('in English too', async () => {
  await page.getByTestId('lang-en').click();
  await page.getByRole('heading', { level: 1, name: /Background jobs of agreement/ }).waitFor();
  await row(sent.waiting).getByTestId('job-state').getByText('Cancelled').waitFor();
  await row(sent.waiting).getByText('Cancelled by Camille Martin').waitFor();
});
