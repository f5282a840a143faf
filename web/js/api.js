// Client for the openseat JSON API (/api/v1). Every non-GET request carries the CSRF token the
// server handed out through GET /api/v1/session; the token changes when the session does, so it
// is re-read after signing in or out, and once more when the server says it is stale.

import { PROBLEM } from './constants.js';

const BASE = '/api/v1';

let csrfToken = null;

// The last answer to a GET that carried an ETag, per path (the subscribers list, a
// subscription, the overview): sent back as If-None-Match when the page refreshes or polls,
// so an unchanged answer comes back as 304 with no body and the one kept here is used again.
// At most REVALIDATE_MAX paths, the least recently used dropped first; forgotten when the
// session changes.
const REVALIDATE_MAX = 32;
const lastAnswers = new Map();

function remember(path, etag, data) {
  lastAnswers.delete(path);
  lastAnswers.set(path, { etag, data });
  while (lastAnswers.size > REVALIDATE_MAX) lastAnswers.delete(lastAnswers.keys().next().value);
}

/** Forgets every kept answer (the session changed: what they showed may not be this person's). */
export function forgetAnswers() {
  lastAnswers.clear();
}

/** An API failure. Carries the problem+json fields the UI needs to explain it. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || PROBLEM.INTERNAL;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = Number(problem.retry_after) || 0;
    this.problem = problem;
    this.headers = null; // the response's headers (e.g. the current ETag of a 412), when there was one
  }
}

/** GET /api/v1/session: the current user (if any) and a fresh CSRF token. */
export async function refreshSession() {
  const session = (await send('GET', '/session')).data;
  csrfToken = session.csrf_token || null;
  return session;
}

/**
 * Calls the API. `path` is relative to /api/v1 (e.g. '/signup'); `headers` adds request headers
 * (e.g. Idempotency-Key, If-Match); `signal` (an AbortSignal) cancels it, rejecting with the
 * browser's AbortError. Resolves to the parsed JSON body (null for 204); rejects with an ApiError.
 */
export async function api(method, path, body, options = {}) {
  return (await apiResponse(method, path, body, options)).data;
}

/** Like `api`, resolving to `{ data, headers }`, for answers whose headers matter (ETag). */
export async function apiResponse(method, path, body, { headers = {}, signal } = {}) {
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe && !csrfToken) await refreshSession();
  let result;
  try {
    result = await send(method, path, body, headers, signal);
  } catch (err) {
    // The token goes stale when the session changed elsewhere (another tab signed out, the
    // password was reset): fetch the current one and try exactly once more.
    if (!(unsafe && err instanceof ApiError && err.code === PROBLEM.CSRF)) throw err;
    await refreshSession();
    result = await send(method, path, body, headers, signal);
  }
  // Signing in (either step) or out changes the session, and with it the token.
  if ((path === '/session' || path === '/session/mfa') && unsafe) {
    forgetAnswers();
    // Signing in returns the new session's token; signing out leaves none, so ask for one.
    if (result.data && result.data.csrf_token) csrfToken = result.data.csrf_token;
    else await refreshSession();
  }
  return result;
}

/** True for the rejection of a request that was cancelled on purpose (AbortController). */
export function isAbort(err) {
  return err instanceof DOMException && err.name === 'AbortError';
}

async function send(method, path, body, extraHeaders = {}, signal = undefined) {
  const headers = { ...extraHeaders, Accept: 'application/json' };
  // A File (an upload) goes as it is, with its own type; anything else as JSON.
  const file = typeof File !== 'undefined' && body instanceof File;
  if (body !== undefined) headers['Content-Type'] = file ? (body.type || 'application/octet-stream') : 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const kept = method === 'GET' ? lastAnswers.get(path) : undefined;
  if (kept && !headers['If-None-Match']) headers['If-None-Match'] = kept.etag;
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined || file ? body : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(0, { code: 'network' });
  }
  if (response.status === 204) return { data: null, headers: response.headers };
  if (response.status === 304 && kept) {
    remember(path, kept.etag, kept.data);
    // A copy: the caller may change what it is given, the kept answer stays as it came.
    return { data: structuredClone(kept.data), headers: response.headers };
  }
  const data = await response.json().catch((err) => {
    if (isAbort(err)) throw err;
    return null;
  });
  if (response.ok) {
    const etag = method === 'GET' ? response.headers.get('ETag') : null;
    if (etag) remember(path, etag, structuredClone(data));
    else if (method === 'GET') lastAnswers.delete(path);
    return { data, headers: response.headers };
  }
  const problem = data && typeof data === 'object' ? data : {};
  if (!problem.retry_after && response.headers.has('Retry-After')) {
    problem.retry_after = response.headers.get('Retry-After');
  }
  if (!problem.code) problem.code = response.status >= 500 ? PROBLEM.INTERNAL : 'unexpected';
  const err = new ApiError(response.status, problem);
  err.headers = response.headers;
  throw err;
}
