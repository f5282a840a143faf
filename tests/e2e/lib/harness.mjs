// What every browser test needs, all on 127.0.0.1 and started and stopped by the test: an SMTP
// sink that stores mail in a Maildir, the openseat server, and Debian's Chromium, plus a record
// of requests that left 127.0.0.1 and of console errors.
//
//   OPENSEAT_BIN=/path/to/openseat    the server binary (default: ../../build/openseat-test)
//   OPENSEAT_WEB_DIR=../../web         serve web/ from disk instead of the embedded copy
//   OPENSEAT_E2E_KEEP=1                keep the temporary directory (data, mail, profile)

import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort, portOpen, startProcess, waitFor } from './processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.OPENSEAT_BIN ? path.resolve(process.env.OPENSEAT_BIN) : path.resolve(here, '../../../build/openseat-test');
export const WEB_DIR = process.env.OPENSEAT_WEB_DIR ? path.resolve(process.env.OPENSEAT_WEB_DIR) : null;
export const ARTIFACTS = path.resolve(here, '../artifacts');

// Cheap password hashing: the tests sign in many times and measure nothing about hashing.
const FAST_HASHING = ['--argon2-ops', '1', '--argon2-mem-kib', '8'];

/**
 * Starts everything. `prepare(bin, dataDir)` runs before the server starts (e.g. `openseat demo`);
 * `serverArgs` are added to the server's command line (e.g. a flag a test needs); `port` is the
 * server's when the test must know it first (e.g. to register its address with a peer).
 * Returns the environment; `env.stop()` ends it all and reports sanitizer output as a failure.
 */
export async function startEnvironment({ prepare, locale = 'en-US', permissions = [], serverArgs = [], port: serverPort } = {}) {
  await fs.access(BIN).catch(() => {
    throw new Error(`server binary ${BIN} not found: build it (make build/openseat-test) or set OPENSEAT_BIN`);
  });
  const env = {
    tmp: await fs.mkdtemp(path.join(os.tmpdir(), 'openseat-e2e-')),
    offsite: [], // requests that went anywhere but 127.0.0.1
    consoleErrors: [], // console errors, uncaught exceptions (CSP violations show up here)
    // Chromium logs every 4xx answer (and every failed request) as a console error. Steps that
    // provoke one on purpose say so (expecting()); those lines, and only those, are not errors.
    expected: [],
  };
  env.maildir = path.join(env.tmp, 'mail');
  env.dataDir = path.join(env.tmp, 'data');
  await fs.mkdir(ARTIFACTS, { recursive: true });

  if (prepare) await prepare(BIN, env.dataDir);

  const smtpPort = await freePort();
  env.smtp = startProcess('smtp sink', '/usr/bin/python3',
    ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Mailbox', env.maildir]);
  await waitFor('the SMTP sink', () => portOpen(smtpPort), { process: env.smtp });

  const port = serverPort ?? await freePort();
  env.baseUrl = `http://127.0.0.1:${port}`;
  const args = ['serve', '--port', String(port), '--data', env.dataDir,
    '--smtp-url', `smtp://127.0.0.1:${smtpPort}`, '--base-url', env.baseUrl,
    ...FAST_HASHING, '--mail-poll-ms', '100', ...serverArgs];
  if (WEB_DIR) args.push('--web-dir', WEB_DIR);
  env.server = startProcess('openseat', BIN, args);
  await waitFor(`${env.baseUrl}/healthz`, async () => (await fetch(`${env.baseUrl}/healthz`)).ok, { process: env.server });

  env.context = await chromium.launchPersistentContext(path.join(env.tmp, 'profile'), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    locale, // the UI follows the browser language when nothing was chosen yet
    viewport: { width: 1100, height: 760 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  if (permissions.length) await env.context.grantPermissions(permissions, { origin: env.baseUrl });
  env.context.setDefaultTimeout(10000);
  env.context.on('request', (request) => {
    const url = new URL(request.url());
    if (['data:', 'blob:', 'about:'].includes(url.protocol)) return;
    if (url.hostname !== '127.0.0.1') env.offsite.push(request.url());
  });
  env.page = env.context.pages()[0] || await env.context.newPage();
  env.page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const status = /^Failed to load resource: the server responded with a status of (\d{3})/.exec(text);
    if (env.expected.some((e) => (typeof e === 'number' ? status && Number(status[1]) === e : e.test(text)))) return;
    env.consoleErrors.push(`${text} (${message.location().url})`);
  });
  env.page.on('pageerror', (error) => env.consoleErrors.push(`uncaught: ${error.message}`));

  /** Runs `fn` while the listed HTTP statuses (numbers) or console messages (RegExps) are expected. */
  env.expecting = async (expected, fn) => {
    env.expected = expected;
    try {
      return await fn();
    } finally {
      env.expected = [];
    }
  };

  /** Screenshots of the current page at desktop width and at 320 px, into artifacts/. */
  env.screenshots = async (name) => {
    const { page } = env;
    const size = page.viewportSize();
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    await page.setViewportSize({ width: 320, height: 720 });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-320.png`), fullPage: true });
    // Nothing may stick out sideways at 320 px (wide tables scroll inside their own box).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.setViewportSize(size);
    if (overflow > 0) throw new Error(`${name}: the page is ${overflow} px wider than a 320 px screen`);
  };

  env.stop = async () => {
    await env.context?.close();
    const status = await env.server?.stop();
    await env.smtp?.stop();
    if (env.server) {
      // The test binary is built with sanitizers: a report at exit is a server bug worth seeing.
      const output = env.server.output();
      if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(output)) {
        process.exitCode = 1;
        console.error(`openseat sanitizer report (exit ${JSON.stringify(status)}):\n${output}`);
      }
    }
    if (!process.env.OPENSEAT_E2E_KEEP) await fs.rm(env.tmp, { recursive: true, force: true });
  };
  return env;
}

/** Runs the server binary once with `args` (e.g. demo), with the test's fast hashing. */
/** startEnvironment with the demo data (`openseat demo`): the agreements and people the README
 * lists, which most browser tests start from. */
export function demoEnvironment(options = {}) {
  return startEnvironment({ prepare: (bin, dataDir) => runOnce(bin, ['demo', '--data', dataDir]), ...options });
}

export async function runOnce(bin, args) {
  const { stdout } = await promisify(execFile)(bin, [...args, ...FAST_HASHING], { timeout: 60000 });
  return stdout;
}

/**
 * `step(name, fn)`: a test that shares the browser session with the ones before it, so once one
 * fails the rest are skipped rather than adding noise.
 */
export function stepper() {
  let failed = false;
  return function step(name, fn) {
    test(name, async (t) => {
      if (failed) return t.skip('an earlier step failed');
      try {
        await fn(t);
      } catch (err) {
        failed = true;
        throw err;
      }
    });
  };
}
