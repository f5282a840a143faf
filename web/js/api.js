// Client for the openseat JSON API (/api/v1). Every non-GET request carries the CSRF token the
// server handed out through GET /api/v1/session; the token changes when the session does, so it
// is re-read after signing in or out, and once more when the server says it is stale.

const BASE = '/api/v1';

let csrfToken = null;

/** An API failure. Carries the problem+json fields the UI needs to explain it. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || 'internal';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = Number(problem.retry_after) || 0;
    this.problem = problem;
  }
}

/** GET /api/v1/session: the current user (if any) and a fresh CSRF token. */
export async function refreshSession() {
  const session = await send('GET', '/session');
  csrfToken = session.csrf_token || null;
  return session;
}

/**
 * Calls the API. `path` is relative to /api/v1 (e.g. '/signup'); `headers` adds request headers
 * (e.g. Idempotency-Key). Resolves to the parsed JSON body (null for 204); rejects with an ApiError.
 */
export async function api(method, path, body, { headers = {} } = {}) {
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe && !csrfToken) await refreshSession();
  let result;
  try {
    result = await send(method, path, body, headers);
  } catch (err) {
    // The token goes stale when the session changed elsewhere (another tab signed out, the
    // password was reset): fetch the current one and try exactly once more.
    if (!(unsafe && err instanceof ApiError && err.code === 'csrf')) throw err;
    await refreshSession();
    result = await send(method, path, body, headers);
  }
  if (path === '/session' && unsafe) {
    // Signing in returns the new session's token; signing out leaves none, so ask for one.
    if (result && result.csrf_token) csrfToken = result.csrf_token;
    else await refreshSession();
  }
  return result;
}

async function send(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { code: 'network' });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const problem = data && typeof data === 'object' ? data : {};
  if (!problem.retry_after && response.headers.has('Retry-After')) {
    problem.retry_after = response.headers.get('Retry-After');
  }
  if (!problem.code) problem.code = response.status >= 500 ? 'internal' : 'unexpected';
  throw new ApiError(response.status, problem);
}
