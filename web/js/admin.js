// admin.js - the Collection screen: statistics, starting an import from an
// allowed root with a live progress bar (Server-Sent Events), and the recent
// jobs with their failures.
import * as api from './api.js';
import { $, bytes, clear, count, duration, h } from './dom.js';
import { className, ready as classesReady } from './locarno.js';

let collection = () => '';
let onImported = () => {};
let source = null;     // the EventSource of the job being watched
let watching = 0;      // the id of the job being followed, 0 when none
let noRoots = true;    // the server allows no import from this page

export function init(opts) {
  collection = opts.collection;
  onImported = opts.imported;
  $('#import-form').addEventListener('submit', start);
  $('#jobs-refresh').addEventListener('click', () => jobs());
  $('#api-key').value = api.getApiKey();
  $('#api-key').addEventListener('change', (e) => api.setApiKey(e.target.value.trim()));
}

export async function load() {
  $('#import-collection').placeholder = collection() || 'patent_images';
  const [, , list] = await Promise.all([stats(), roots(), jobs(), collectionNames()]);
  // A reload (or another tab) during an import: follow it again, so its
  // progress is live and Start stays off until it ends.
  const running = (list || []).find((j) => j.status === 'running');
  if (running && !watching) {
    // Named with its collection: it may be another than the one shown.
    $('#import-status').textContent = `Import ${running.job} into “${running.collection || 'the default collection'}” is running: ${running.source || ''}`;
    watch(running.job);
    return;
  }
  // A job shown as running that is no longer followed (the server could
  // not be reached): how it ended, in place of the old error and numbers.
  const box = $('#import-progress');
  const shown = (list || []).find((j) => String(j.job) === box.dataset.job);
  if (!watching && !box.hidden && box.dataset.status === 'running' && shown && shown.status !== 'running') {
    $('#import-error').hidden = true;
    progress(shown, true);
  }
}

// Start is on when the server allows imports and none is being followed.
function startEnabled() {
  $('#import-start').disabled = noRoots || watching !== 0;
}

// The collections an import can go into (the API answers 404 for others),
// offered as suggestions for the field and checked before starting.
async function collectionNames() {
  try {
    const data = await api.collections();
    const list = (Array.isArray(data) ? data : data.collections || []).map((c) => c.name || c.collection_name).filter(Boolean);
    clear($('#import-collections')).append(...list.map((n) => h('option', { value: n })));
    return list;
  } catch {
    return null; // unknown: the server's answer to the start decides
  }
}

export async function stats() {
  const box = $('#stats');
  try {
    const s = await api.stats(collection());
    const card = (label, value, sub, text) => h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), h('span', { class: text ? 'stat-value text' : 'stat-value' }, value), sub ? h('span', { class: 'stat-sub' }, sub) : null);
    const idx = s.index || {};
    clear(box).append(
      card('Patents', count(s.patents)),
      card('Images', count(s.images)),
      card('Model', s.model || '–', `${s.dimension || '?'} dimensions${s.generated_weights ? ' · generated weights' : ''}`, true),
      card('Index', idx.kind || '–', `${count(idx.count)} vectors · ${bytes(idx.bytes)}${idx.f16 ? ' · f16' : ''}`),
      card('Catalog', bytes(s.db_bytes)));
    await classesReady(); // the names of the classes (a direct load asks for both at once)
    const top = clear($('#top-classes'));
    const max = Math.max(1, ...(s.top_loc_classes || []).map((c) => c.images));
    for (const c of s.top_loc_classes || []) {
      top.append(h('li', {},
        h('span', { class: 'bar-label' }, `${c.loc_class}${className(c.loc_class) ? ` ${className(c.loc_class)}` : ''}`),
        h('span', { class: 'bar' }, h('span', { style: { width: `${(100 * c.images) / max}%` } })),
        h('span', { class: 'bar-n' }, count(c.images))));
    }
    if (!(s.top_loc_classes || []).length) top.append(h('li', { class: 'muted' }, 'No classified images yet.'));
    $('#stats-title').textContent = `Collection “${s.collection_name || collection()}”`;
    return s;
  } catch (e) {
    clear(box).append(h('p', { class: 'message error', role: 'alert' }, e.message));
    return null;
  }
}

async function roots() {
  const sel = $('#import-path');
  const note = $('#import-note');
  try {
    const data = await api.batchRoots();
    const list = data.roots || [];
    clear(sel);
    for (const r of list) {
      const g = h('optgroup', { label: r.path });
      g.append(h('option', { value: r.path }, `${r.path} (everything)`));
      for (const e of r.entries || []) g.append(h('option', { value: `${r.path.replace(/\/$/, '')}/${e.name}` }, `${e.name} · ${e.kind}`));
      sel.append(g);
    }
    const none = !list.length;
    sel.disabled = none;
    noRoots = none;
    startEnabled();
    note.textContent = none ? 'Imports from this page are off: start the server with --import-roots DIR to allow them.' : 'Choose a weekly archive, a folder or a file under the server’s import roots.';
  } catch (e) {
    sel.disabled = true;
    noRoots = true;
    startEnabled();
    note.textContent = e.message;
  }
}

async function start(ev) {
  ev.preventDefault();
  const status = $('#import-status');
  const path = $('#import-path').value;
  const typed = $('#import-collection').value.trim();
  const coll = typed || collection() || undefined;
  startError('');
  $('#import-start').disabled = true;
  // The server imports only into a collection it has (404 otherwise): say
  // so here, before anything starts, with the names it does have.
  const names = typed ? await collectionNames() : null;
  if (names && !names.includes(typed)) {
    startError(`There is no collection named “${typed}” on this server. ${names.length ? `Import into ${names.map((n) => `“${n}”`).join(', ')}, or leave the field empty for the one searched.` : 'Leave the field empty for the default collection.'}`);
    startEnabled();
    return;
  }
  try {
    const job = await api.batchStart(path, coll);
    status.textContent = `Import ${job.job} into “${coll || 'the default collection'}” started: ${job.path}`;
    watch(job.job, job.events_url);
  } catch (e) {
    // Nothing started: the reason, and no progress bar standing at 0%.
    status.textContent = '';
    startError(`The import did not start: ${e.message}`);
    startEnabled();
  }
}

// The reason an import could not start ('' clears it), beside the form.
function startError(msg) {
  const el = $('#import-start-error');
  el.hidden = !msg;
  el.textContent = msg;
  if (msg) $('#import-progress').hidden = true;
  $('#import-collection').setAttribute('aria-invalid', msg && /no collection/i.test(msg) ? 'true' : 'false');
}

function progressError(msg) {
  const box = $('#import-progress');
  box.hidden = false;
  $('#import-error').hidden = false;
  $('#import-error').textContent = msg;
}

// Follow a job's events until it is done. again: the same job's stream
// once more, whose last numbers stay until the next event.
export function watch(jobId, url, again = false) {
  if (source) source.close();
  watching = jobId;
  startEnabled();
  const box = $('#import-progress');
  box.hidden = false;
  $('#import-error').hidden = true;
  box.dataset.job = jobId;
  box.dataset.status = 'running';
  if (!again) progress({ job: jobId, status: 'running', progress: null, eta_s: -1 }); // until the first event
  const es = new EventSource(url || api.batchEventsUrl(jobId));
  source = es;
  let finished = false;
  es.addEventListener('progress', (ev) => progress(JSON.parse(ev.data)));
  es.addEventListener('done', (ev) => {
    // The server ends the stream after this event; closing it here would
    // abort the request, so it is closed when the stream ends (onerror).
    finished = true;
    const job = JSON.parse(ev.data);
    progress(job, true);
    stopped(jobId);
    jobs();
    stats();
    onImported(job);
  });
  es.onerror = () => {
    es.close();
    if (source === es) source = null;
    if (finished || watching !== jobId) return;
    // The stream ended without a done event (the server stopping drains
    // it, a proxy cut it): ask how the job is. Still running, it is
    // followed again (a frozen bar with Start on would say nothing);
    // otherwise it has ended; unreachable, the page says so and stops.
    api.batchStatus(jobId).then((job) => {
      if (watching !== jobId) return;
      if (job.status === 'running') {
        progress(job);
        setTimeout(() => { if (watching === jobId && !source) watch(jobId, url, true); }, 1000);
        return;
      }
      progress(job, true);
      stopped(jobId);
      jobs();
    }).catch((e) => {
      if (watching !== jobId) return;
      progressError(e.message);
      stopped(jobId);
    });
  };
}

// The job being followed has ended (or its stream has): Start is on again.
function stopped(jobId) {
  if (watching === jobId) watching = 0;
  startEnabled();
}

// Show a job's state. The bar follows the job's `progress` (images stored,
// 0..1); while it is unknown the bar is indeterminate. A running job never
// reads 100%, and an unknown ETA (-1, or 0 before the end) reads as unknown.
function progress(job, final = false) {
  const bar = $('#import-bar');
  const p = typeof job.progress === 'number' && job.progress >= 0 ? Math.min(1, job.progress) : null;
  const finished = final || job.status !== 'running';
  if (finished && job.status === 'done') bar.value = 1;
  else if (p !== null) bar.value = finished ? p : Math.min(p, 0.99);
  else bar.removeAttribute('value');
  const known = bar.hasAttribute('value');
  const pct = Math.min(finished ? 100 : 99, Math.round((known ? bar.value : 0) * 100));
  $('#import-pct').textContent = finished ? job.status : known ? `${pct}%` : '…';
  const box = $('#import-progress');
  box.dataset.status = finished ? job.status : 'running';
  const parts = [`${count(job.done)} stored`, `${count(job.skipped)} skipped`, `${count(job.failed)} failed`];
  if (!finished && job.items_per_s > 0) parts.push(`${job.items_per_s.toFixed(1)} images/s`);
  if (!finished) parts.push(job.eta_s > 0 ? `about ${duration(Math.max(1, job.eta_s))} left` : 'time left unknown');
  $('#import-counts').textContent = parts.join(' · ');
  if (finished) $('#import-status').textContent = `Import ${job.job} ${job.status}: ${count(job.done)} stored, ${count(job.skipped)} skipped, ${count(job.failed)} failed.`;
}

export async function jobs() {
  const body = clear($('#jobs tbody'));
  try {
    const data = await api.batchJobs(20);
    const list = data.jobs || [];
    if (!list.length) body.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No imports yet.')));
    for (const j of list) {
      const when = j.started_at ? new Date(j.started_at * 1000).toLocaleString() : '–';
      const took = j.finished_at && j.started_at ? duration(j.finished_at - j.started_at) : j.elapsed_s ? duration(j.elapsed_s) : '–';
      const tr = h('tr', { dataset: { job: j.job, status: j.status } },
        h('td', {}, String(j.job)), h('td', {}, j.collection || ''), h('td', { class: 'src', title: j.source || '' }, j.source || ''),
        h('td', {}, h('span', { class: `badge ${j.status}` }, j.status)),
        h('td', { class: 'num' }, `${count(j.done)} / ${count(j.skipped)} / ${count(j.failed)}`),
        h('td', {}, when, h('br'), h('span', { class: 'muted' }, took)),
        h('td', {}, j.failed > 0 ? h('button', { type: 'button', class: 'btn small', 'aria-expanded': 'false', onclick: (e) => failures(j.job, tr, e.currentTarget) }, 'Failures') : ''));
      body.append(tr);
    }
    return list;
  } catch (e) {
    body.append(h('tr', {}, h('td', { colspan: 7, class: 'message error' }, e.message)));
    return null;
  }
}

async function failures(jobId, tr, btn) {
  const next = tr.nextElementSibling;
  if (next?.classList.contains('failures')) { next.remove(); btn.setAttribute('aria-expanded', 'false'); return; }
  btn.setAttribute('aria-expanded', 'true');
  try {
    const job = await api.batchStatus(jobId);
    const list = job.failures || [];
    tr.after(h('tr', { class: 'failures' }, h('td', { colspan: 7 },
      h('ul', {}, list.map((f) => h('li', {}, h('code', {}, f.item), ': ', f.reason))),
      list.length < job.failed ? h('p', { class: 'muted' }, `The first ${list.length} of ${job.failed}.`) : null)));
  } catch (e) {
    tr.after(h('tr', { class: 'failures' }, h('td', { colspan: 7, class: 'message error' }, e.message)));
  }
}

