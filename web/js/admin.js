// admin.js - the Collection screen: statistics, starting an import from an
// allowed root with a live progress bar (Server-Sent Events), and the recent
// jobs with their failures.
import * as api from './api.js';
import { $, bytes, clear, count, duration, h } from './dom.js';
import { className } from './locarno.js';

let collection = () => '';
let onImported = () => {};
let source = null;     // the EventSource of the job being watched

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
  await Promise.all([stats(), roots(), jobs()]);
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
    $('#import-start').disabled = none;
    note.textContent = none ? 'Imports from this page are off: start the server with --import-roots DIR to allow them.' : 'Choose a weekly archive, a folder or a file under the server’s import roots.';
  } catch (e) {
    sel.disabled = true;
    $('#import-start').disabled = true;
    note.textContent = e.message;
  }
}

async function start(ev) {
  ev.preventDefault();
  const status = $('#import-status');
  const path = $('#import-path').value;
  const coll = $('#import-collection').value.trim() || collection() || undefined;
  $('#import-start').disabled = true;
  try {
    const job = await api.batchStart(path, coll);
    status.textContent = `Import ${job.job} started: ${job.path}`;
    watch(job.job, job.events_url);
  } catch (e) {
    status.textContent = '';
    progressError(e.message);
    $('#import-start').disabled = false;
  }
}

function progressError(msg) {
  const box = $('#import-progress');
  box.hidden = false;
  $('#import-error').hidden = false;
  $('#import-error').textContent = msg;
}

// Follow a job's events until it is done.
export function watch(jobId, url) {
  if (source) source.close();
  const box = $('#import-progress');
  box.hidden = false;
  $('#import-error').hidden = true;
  box.dataset.job = jobId;
  box.dataset.status = 'running';
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
    $('#import-start').disabled = false;
    jobs();
    stats();
    onImported(job);
  });
  es.onerror = () => {
    es.close();
    if (source === es) source = null;
    if (finished) return;
    // The stream ended without a done event (the server stopped): ask once.
    api.batchStatus(jobId).then((job) => { progress(job, job.status !== 'running'); jobs(); }).catch((e) => progressError(e.message));
    $('#import-start').disabled = false;
  };
}

function progress(job, final = false) {
  const bar = $('#import-bar');
  const p = typeof job.progress === 'number' ? job.progress : null;
  const finished = final || job.status !== 'running';
  if (finished && job.status === 'done') bar.value = 1;
  else if (p !== null) bar.value = p;
  else bar.removeAttribute('value');
  const pct = Math.round((bar.value || 0) * 100);
  $('#import-pct').textContent = finished ? job.status : `${pct}%`;
  const box = $('#import-progress');
  box.dataset.status = finished ? job.status : 'running';
  const parts = [`${count(job.done)} stored`, `${count(job.skipped)} skipped`, `${count(job.failed)} failed`];
  if (!finished && job.items_per_s > 0) parts.push(`${job.items_per_s.toFixed(1)} images/s`);
  if (!finished && job.eta_s >= 0) parts.push(`about ${duration(job.eta_s)} left`);
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
  } catch (e) {
    body.append(h('tr', {}, h('td', { colspan: 7, class: 'message error' }, e.message)));
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

