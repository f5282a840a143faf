// /agreements/{license}/jobs: for the agreement's super admins, every file being processed in the
// background (or processed in the last days), whoever sent it — who, what, which file, how far it
// got, when — with "Cancel" for the queued and running ones. A queued job is cancelled at once; a
// running one stops at its next checkpoint with nothing applied, so its line says "Stopping…"
// until then ("Refresh" shows where it is).

import { ApiError, api } from '../api.js';
import { JOB_STATE, PROBLEM } from '../constants.js';
import { h } from '../dom.js';
import { whilePending } from '../form.js';
import { notify } from '../notice.js';
import { dataTable, fetchJson, formatNumber, moment } from '../present.js';
import { reportProblem } from '../problems.js';
import { agreementTab } from './agreement.js';

const KIND = { add: 'jobs.kindAdd', edit: 'jobs.kindEdit', remove: 'jobs.kindRemove' };
const STATE = {
  [JOB_STATE.QUEUED]: 'jobs.stateQueued',
  [JOB_STATE.RUNNING]: 'jobs.stateRunning',
  [JOB_STATE.DONE]: 'jobs.stateDone',
  [JOB_STATE.FAILED]: 'jobs.stateFailed',
  [JOB_STATE.CANCELLED]: 'jobs.stateCancelled',
};

export default {
  title: 'jobs.pageTitle',
  access: 'user',
  agreementContext: true,
  view({ param }) {
    return agreementTab({
      param,
      part: 'jobs',
      title: 'jobs.title',
      show: (agreement, base) => jobsCard(base),
    });
  },
};

function jobsCard(base) {
  const body = h('div', { class: 'loading-section', 'data-testid': 'jobs-body' });
  const heading = h('h2', { id: 'jobs-list-title', class: 'card__title', tabindex: '-1', t: 'jobs.listTitle' });

  async function reload() {
    body.setAttribute('aria-busy', 'true');
    try {
      const data = await fetchJson(`${base}/jobs`);
      body.replaceChildren(list(data.jobs || [], base, reload));
    } catch (err) {
      reportProblem(err);
    } finally {
      body.removeAttribute('aria-busy');
    }
  }

  const refresh = h('button', {
    type: 'button',
    class: 'button button--small',
    t: 'jobs.refresh',
    'data-testid': 'jobs-refresh',
    onclick: () => whilePending(refresh, reload),
  });
  reload();
  return h('section', { class: 'card', 'aria-labelledby': 'jobs-list-title', 'data-testid': 'jobs-list' },
    heading,
    h('p', { class: 'card__text', t: 'jobs.intro' }),
    h('div', { class: 'form__actions' }, refresh),
    body);
}

function list(jobs, base, reload) {
  if (!jobs.length) return h('p', { class: 'muted', t: 'jobs.none', 'data-testid': 'jobs-none' });
  return dataTable({
    labelledBy: 'jobs-list-title',
    testid: 'jobs-table',
    rowTestid: (j) => `job-${j.id}`,
    rows: jobs,
    columns: [
      {
        key: 'jobs.colWho',
        cell: (j) => h('span', { class: 'person' },
          h('span', { class: 'person__name' }, j.user?.name ?? ''),
          h('span', { class: 'person__email' }, j.user?.email ?? '')),
      },
      { key: 'jobs.colWhat', cell: (j) => h('span', { t: j.check_only ? 'jobs.checkOnly' : KIND[j.kind] ?? 'jobs.kindAdd' }) },
      { key: 'jobs.colFile', cell: (j) => h('span', { class: j.file_name ? null : 'muted', t: j.file_name ? null : 'jobs.noFileName' }, j.file_name ?? '') },
      { key: 'jobs.colState', cell: (j) => state(j) },
      { key: 'jobs.colWhen', cell: (j) => h('span', { class: 'nowrap' }, moment(j.created_at)) },
      { key: 'jobs.colActions', cell: (j) => (j.state === JOB_STATE.QUEUED || j.state === JOB_STATE.RUNNING ? cancelButton(j, base, reload) : h('span', {})) },
    ],
  });
}

function state(job) {
  const count = (value) => (lang) => formatNumber(lang, Number(value) || 0);
  let detail = null;
  if (job.state === JOB_STATE.RUNNING && job.cancel_requested) {
    detail = { t: 'jobs.stopping' };
  } else if (job.state === JOB_STATE.RUNNING) {
    const writing = job.phase === 'writing';
    detail = { t: writing ? 'jobs.progressWriting' : 'jobs.progressChecking',
      params: { done: count(writing ? job.rows_written : job.rows_checked), rows: count(job.rows) } };
  } else if (job.state === JOB_STATE.CANCELLED && job.cancelled_by) {
    detail = { t: 'jobs.cancelledBy', params: { name: job.cancelled_by.name || job.cancelled_by.email || '' } };
  } else if (job.state === JOB_STATE.FAILED && job.result?.code === PROBLEM.ACCESS_REMOVED) {
    detail = { t: 'problem.access_removed' };
  }
  return h('span', { class: 'status-cell' },
    h('span', { class: `badge badge--${job.state === JOB_STATE.DONE ? 'active' : 'other'}`, t: STATE[job.state], 'data-testid': 'job-state' }),
    detail && h('span', { class: 'status-cell__detail', ...detail }));
}

function cancelButton(job, base, reload) {
  const button = h('button', {
    type: 'button',
    class: 'button button--small button--danger',
    'data-testid': 'cancel-job',
    onclick: () => whilePending(button, async () => {
      try {
        const after = await api('POST', `${base}/jobs/${encodeURIComponent(job.id)}/cancel`);
        notify({ kind: 'success', key: after.state === JOB_STATE.CANCELLED ? 'jobs.cancelled' : 'jobs.stopAsked' });
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === PROBLEM.JOB_FINISHED || err.status === 404))) {
          reportProblem(err);
          return;
        }
        notify({ kind: 'info', key: 'jobs.alreadyFinished' });
      }
      await reload();
      document.getElementById('jobs-list-title')?.focus();
    }),
  },
  h('span', { t: 'jobs.cancel' }),
  ' ',
  h('span', { class: 'visually-hidden', t: 'jobs.cancelWhich', params: { file: job.file_name ?? '', name: job.user?.name ?? '' } }));
  return button;
}
