// Files processed in the background: a bulk upload is sent with background=true and answered at
// once with a job, which the dialog then asks about until it has finished — showing how far the
// server got — and whose result is the very answer the request would have given by itself. The
// job outlives the page: reloaded, the subscribers page finds it again (latestJob), and it stays
// until the user has seen its result and closed the dialog (dismissJob). A result seen but not
// closed (the page reloaded or left with it on screen) is remembered in this browser (markSeen)
// so that it is not shown again by itself.

import { ApiError, api, isAbort } from './api.js';
import { JOB_STATE, PROBLEM } from './constants.js';
import { h } from './dom.js';
import { formatNumber } from './present.js';
import { currentUser } from './session.js';

// Polling: at once, then every 300 ms, slowing to once a second for long files.
const FIRST_WAIT_MS = 300;
const LONGEST_WAIT_MS = 1000;
const SLOWER = 1.5;

const jobsPath = (license) => `/agreements/${encodeURIComponent(license)}/jobs`;

/** True once a job has its answer (done, or failed or cancelled with a problem). */
export function isFinished(job) {
  return job.state === JOB_STATE.DONE || job.state === JOB_STATE.FAILED || job.state === JOB_STATE.CANCELLED;
}

/**
 * The caller's newest job on the agreement, or null; quiet when the list cannot be had. A super
 * admin's list holds everyone's jobs: only the caller's own is followed here.
 */
export async function latestJob(license) {
  try {
    const data = await api('GET', jobsPath(license));
    const me = currentUser()?.id;
    const jobs = Array.isArray(data?.jobs) ? data.jobs : [];
    return jobs.find((job) => !job.user || job.user.id === me) ?? null;
  } catch (err) {
    if (isAbort(err) || err instanceof ApiError) return null;
    throw err;
  }
}

/** Forgets a finished job (and its file): its result is not shown again. Best effort. */
export function dismissJob(license, job) {
  return api('DELETE', `${jobsPath(license)}/${encodeURIComponent(job.id)}`).catch(() => {});
}

// The finished jobs whose result this browser has shown, per person: a few ids are enough, since
// the page forgets such a job on the server as soon as it finds it again.
const SEEN_PREFIX = 'openseat.seenJobs.';
const SEEN_KEPT = 20;

const seenKey = () => `${SEEN_PREFIX}${currentUser()?.id ?? 'anonymous'}`;

function readSeen() {
  try {
    const ids = JSON.parse(localStorage.getItem(seenKey()) || '[]');
    return Array.isArray(ids) ? ids.filter((id) => typeof id === 'string') : [];
  } catch {
    return []; // storage unavailable (private modes): the result is shown again, as before
  }
}

/** Remembers that the user has seen the result of `job` (finished): it is not reopened. */
export function markSeen(job) {
  if (!job?.id || !isFinished(job)) return;
  const ids = readSeen().filter((id) => id !== job.id);
  ids.push(job.id);
  try {
    localStorage.setItem(seenKey(), JSON.stringify(ids.slice(-SEEN_KEPT)));
  } catch {
    /* see readSeen */
  }
}

/** True when the user has seen the result of `job` (a finished job) in this browser. */
export function wasSeen(job) {
  return Boolean(job?.id) && isFinished(job) && readSeen().includes(job.id);
}

/** The address of the uploaded file again, with a first column naming each row's problems. */
export function annotatedHref(license, job) {
  return `/api/v1${jobsPath(license)}/${encodeURIComponent(job.id)}/annotated`;
}

/**
 * The job of one dialog: `start` sends a file (resolving to the report, or rejecting with the
 * ApiError the synchronous request would have thrown), `follow` does the same for a job already
 * under way (a reloaded page), and `element` is the progress bar with its text. Closing the
 * dialog (`closed`) stops asking; a finished job is then dismissed, a running one kept for the
 * next visit (the page's status line says so).
 */
export function jobTracker({ license, onLeftRunning }) {
  const progress = progressView();
  let current = null;           // the job on screen
  let stop = new AbortController();

  async function start(path, query, file) {
    // The result on screen is being replaced: the older job has been seen.
    const previous = current;
    current = null;
    if (previous && isFinished(previous)) dismissJob(license, previous);
    progress.sending();
    const name = encodeURIComponent(file.name || '');
    let job;
    try {
      job = await api('POST', `${path}?${query}&background=true&file_name=${name}`, file, { signal: stop.signal });
    } catch (err) {
      progress.hide(); // refused at once (empty, too large, read-only…): no job to show
      throw err;
    }
    return follow(job);
  }

  async function follow(job) {
    current = job;
    progress.show(job);
    let wait = 0;
    while (!isFinished(current)) {
      if (wait) await pause(wait, stop.signal);
      wait = wait ? Math.min(LONGEST_WAIT_MS, wait * SLOWER) : FIRST_WAIT_MS;
      const now = await poll(current);
      if (now) {
        current = now;
        progress.show(now);
      }
    }
    return outcome(current);
  }

  // One look at the job. A lost connection or a restarting server is waited out (the job itself
  // then says whether it was interrupted); anything else ends the watch.
  async function poll(job) {
    try {
      return await api('GET', `${jobsPath(license)}/${encodeURIComponent(job.id)}`, undefined, { signal: stop.signal });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 0 || err.status === 502 || err.status === 503)) return null;
      if (!isAbort(err)) {
        // E.g. dismissed from another tab (404): there is nothing more to show of it.
        current = null;
        progress.hide();
      }
      throw err;
    }
  }

  /** The finished job on screen is forgotten now (e.g. its dialog closes after a success). */
  async function dismiss() {
    const job = current;
    current = null;
    if (job && isFinished(job)) await dismissJob(license, job);
  }

  function closed() {
    stop.abort();
    stop = new AbortController();
    const job = current;
    current = null;
    if (!job) return;
    if (isFinished(job)) dismissJob(license, job);
    else onLeftRunning?.(job);
  }

  return { element: progress.element, start, follow, dismiss, closed, current: () => current };
}

/**
 * What a finished job answered, as the synchronous request would have: the report of a 2xx, or
 * the problem (with its report, for bulk_rejected) thrown as an ApiError.
 */
function outcome(job) {
  const status = Number(job.status) || 500;
  if (status >= 200 && status < 300) return job.result;
  const problem = job.result && typeof job.result === 'object' ? { ...job.result } : {};
  if (!problem.code) problem.code = status >= 500 ? PROBLEM.INTERNAL : 'unexpected';
  throw new ApiError(status, problem);
}

/** Waits `ms`, or rejects like a cancelled fetch when `signal` fires first. */
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const stopped = () => {
      clearTimeout(timer);
      reject(new DOMException('stopped', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stopped);
      resolve();
    }, ms);
    if (signal.aborted) stopped();
    else signal.addEventListener('abort', stopped, { once: true });
  });
}

// ---- the progress bar ----------------------------------------------------------------------

/**
 * A <progress> and a line saying what the server is doing. The bar has no value (it moves
 * without one) while the file is sent, waits or is read, since its rows are not known yet; it
 * stays full once the job is done, so the user sees it went through to the end. Its maximum is
 * the file's rows in both counting phases: a count past it (a removed address holding several
 * subscriptions) just shows a full bar. The line is a live region: screen readers hear the
 * phases and counts.
 */
function progressView() {
  const bar = h('progress', { class: 'bulk-progress__bar', 'data-testid': 'bulk-progress', tAttrs: { 'aria-label': 'bulkJob.progressLabel' } });
  const text = h('p', { class: 'bulk-progress__text', 'aria-live': 'polite', 'data-testid': 'bulk-progress-text' });
  const fileName = h('p', { class: 'bulk-progress__file muted', 'data-testid': 'bulk-job-file', hidden: true });
  const element = h('div', { class: 'bulk-progress', 'data-testid': 'bulk-job', hidden: true }, fileName, bar, text);

  const count = (value) => (lang) => formatNumber(lang, Number(value) || 0);
  const say = (key, params) => text.replaceChildren(h('span', { t: key, params }));

  function moving() {
    bar.removeAttribute('value');
    bar.removeAttribute('max');
  }

  function at(value, max) {
    const top = Math.max(1, Number(max) || 0);
    bar.max = top;
    bar.value = Math.min(top, Math.max(0, Number(value) || 0));
  }

  function sending() {
    element.hidden = false;
    element.dataset.state = 'sending';
    fileName.hidden = true;
    moving();
    say('bulkJob.sending');
  }

  function show(job) {
    element.hidden = false;
    element.dataset.state = job.state;
    element.dataset.phase = job.phase;
    fileName.hidden = !job.file_name;
    if (job.file_name) fileName.replaceChildren(h('span', { t: 'bulkJob.file', params: { name: job.file_name } }));
    if (job.state === JOB_STATE.CANCELLED) {
      // Stopped by someone on purpose, with nothing applied.
      at(Math.max(Number(job.rows_checked) || 0, Number(job.rows_written) || 0), job.rows);
      say('bulkJob.cancelled');
    } else if (job.state === JOB_STATE.FAILED) {
      // Left where the server stopped: a full bar would say it went through.
      at(Math.max(Number(job.rows_checked) || 0, Number(job.rows_written) || 0), job.rows);
      say('bulkJob.stopped');
    } else if (isFinished(job)) {
      const all = Math.max(1, Number(job.rows) || 0);
      at(all, all);
      say('bulkJob.finished', { rows: count(job.rows) });
    } else if (job.phase === 'checking') {
      at(job.rows_checked, job.rows);
      say('bulkJob.checking', { done: count(job.rows_checked), rows: count(job.rows) });
    } else if (job.phase === 'writing') {
      at(job.rows_written, job.rows);
      say('bulkJob.writing', { done: count(job.rows_written), rows: count(job.rows) });
    } else if (job.phase === 'reading') {
      moving();
      say('bulk.working');
    } else {
      moving();
      say('bulkJob.queued');
    }
  }

  function hide() {
    element.hidden = true;
  }

  return { element, sending, show, hide };
}
