// An OpenID Connect provider beside the server, for the browser tests of signing in with one:
// tests/peers/oidc-provider.mjs (the `oidc-provider` package) with its login and consent pages
// as HTML forms, on 127.0.0.1, started and stopped by the test. Its node_modules come from
// tests/peers' lock file (scripts/install-deps.sh).

import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, portOpen, startProcess, waitFor } from './processes.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PEERS = path.resolve(here, '../../peers');
export const CLIENT_ID = 'openseat';
const CLIENT_SECRET = 'openseat-e2e-secret';

/**
 * Starts the provider for an openseat server that will listen on `serverPort`, and writes the
 * server's --sso-config (into `dir`) with one provider per entry of `providers`
 * ({name, domains, required?}), all of them this one. Returns {issuer, configFile,
 * person(account), stop()}.
 */
export async function startProvider({ serverPort, dir, providers }) {
  await fs.access(path.join(PEERS, 'node_modules', 'oidc-provider')).catch(() => {
    throw new Error('tests/peers has no node_modules: run scripts/install-deps.sh');
  });
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const proc = startProcess('oidc provider', process.execPath, [path.join(PEERS, 'oidc-provider.mjs'), String(port),
    CLIENT_ID, CLIENT_SECRET, `http://127.0.0.1:${serverPort}/api/v1/sso/callback`, 'pages']);
  await waitFor('the OpenID provider', () => portOpen(port), { process: proc });
  const configFile = path.join(dir, 'sso.json');
  await fs.writeFile(configFile, JSON.stringify({
    providers: providers.map((p) => ({ issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...p })),
  }));
  return {
    issuer,
    configFile,
    /** Who the provider signs in next: {sub, email, email_verified, name, password?}. */
    async person(account) {
      const answer = await fetch(`${issuer}/control/account`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(account),
      });
      if (answer.status !== 204) throw new Error(`provider control answered ${answer.status}`);
    },
    stop: () => proc.stop(),
  };
}
