// app.js - the page's entry point: reads the options from the URL, wires the
// modules together, runs searches, and switches between the Search and
// Collection screens.
import * as admin from './admin.js';
import * as api from './api.js';
import * as detail from './detail.js';
import { $, $$, debounce, h, clear } from './dom.js';
import { exportResults } from './exporter.js';
import * as locarno from './locarno.js';
import { announce, notify } from './notify.js';
import * as query from './query.js';
import * as results from './results.js';
import * as shortcuts from './shortcuts.js';
import * as state from './state.js';

let opts = state.fromUrl();
let seq = 0;                 // the latest search; older answers are dropped
let lastParams = null;       // the parameters of the results on screen
let finished = 0;            // searches answered, in <body data-searches> (tests wait on it)

// Form field id -> option name.
const FIELDS = {
  'top-k': 'topK', 'min-score': 'minScore', group: 'group', 'pub-from': 'pubFrom', 'pub-to': 'pubTo',
  'filing-from': 'filingFrom', 'filing-to': 'filingTo', applicant: 'applicant', assignee: 'assignee',
  inventor: 'inventor', country: 'country', 'patent-ids': 'patentIds',
};

async function main() {
  query.init({ change: () => { opts.page = 1; search(true); }, notify });
  locarno.init({ change: (code) => { opts.locClass = code; optionChanged(); } });
  results.init({ open: openDetail, more: moreLike, add: addView, page: turnPage });
  detail.init({
    more: moreLike, add: addView, step: stepDetail, closed: detailClosed,
    views: () => query.list().map((v, i) => ({ label: query.label(v, i), url: () => query.displayUrl(v) })),
  });
  admin.init({ collection: () => opts.collection, imported: () => { locarno.load(opts.collection, opts.locClass); loadNotices(); loadCollections(); } });
  shortcuts.init({
    // From the Collection screen this is a move to the Search screen, so the
    // URL (and history) must follow, as for a click on the Search tab.
    '/': () => { showScreen('search', opts.screen !== 'search'); $('#q').focus(); },
    g: () => { if ($('#group').disabled) return; $('#group').checked = !$('#group').checked; $('#group').dispatchEvent(new Event('change', { bubbles: true })); },
    n: () => turnPage(1),
    p: () => turnPage(-1),
    r: () => results.focusCurrent(),
    compare: () => detail.compareKey(),
  });
  initForm();
  // On a phone the options start folded, so the query and results come first.
  if (matchMedia('(max-width: 860px)').matches && !state.activeFilters(opts)) $('#options-box').open = false;
  for (const b of $$('[data-screen]')) b.addEventListener('click', (e) => { e.preventDefault(); showScreen(b.dataset.screen, true); });
  window.addEventListener('popstate', onHistory);

  fillForm();
  badDatesNotice();
  urlNotice();
  checkHealth();
  await loadCollections();
  query.setImages(opts.images);
  // The class names come with the Locarno list: start it before the screen,
  // whose statistics name the classes (admin.js waits for it).
  const classes = locarno.load(opts.collection, opts.locClass);
  showScreen(opts.screen);
  await Promise.all([classes, loadNotices()]);
  if (searchable()) await search(false);
  else idle();
  if (opts.patent) openPatent(opts.patent);
  document.body.dataset.ready = 'true';
}

// Back or Forward: the entry's options, query and search. An open patent
// belongs to the results being left (its arrows step through them): it
// closes, and the entry's own patent, if it had one open, opens in the
// entry's results once they are in.
async function onHistory() {
  opts = state.fromUrl();
  detailIndex = -1;
  if (!opts.patent) detail.close();
  fillForm();
  badDatesNotice();
  urlNotice();
  query.setImages(opts.images);
  showScreen(opts.screen);
  await search(false);
  if (opts.patent) openPatent(opts.patent);
}

function idle() {
  results.message('idle', 'Search by words, by picture, or both.',
    'Type words in the search box (/), or choose, drop or paste an image (Ctrl+V), then crop it or add more views of the same product. Results appear here.');
}

// Words, views, or both: something to search with.
const searchable = () => query.count() > 0 || state.hasWords(opts);

// ---- the form ------------------------------------------------------------

function initWords() {
  const box = $('#q');
  $('#words-form').addEventListener('submit', (e) => {
    e.preventDefault();
    opts.q = box.value;
    opts.page = 1;
    search(true);
  });
  box.addEventListener('input', () => { $('#q-clear').hidden = !box.value; });
  $('#q-clear').addEventListener('click', () => {
    box.value = '';
    opts.q = '';
    opts.page = 1;
    box.focus();
    search(true);
  });
}

// The box shows opts.q; grouping is implied by words (the API groups them).
function fillWords() {
  $('#q').value = opts.q || '';
  $('#q-clear').hidden = !opts.q;
  const words = state.hasWords(opts);
  $('#group').checked = !!opts.group || words;
  $('#group').disabled = words;
  $('#group-note').hidden = !words;
}

// The server's 400 for words it cannot read, next to the box; '' clears it.
function wordsError(text) {
  const p = $('#q-error');
  p.textContent = text;
  p.hidden = !text;
  if (text) $('#q').setAttribute('aria-invalid', 'true');
  else $('#q').removeAttribute('aria-invalid');
}

function initForm() {
  initWords();
  const form = $('#search-form');
  form.addEventListener('submit', (e) => { e.preventDefault(); readForm(); opts.page = 1; search(true); });
  form.addEventListener('change', (e) => {
    if (e.target.id === 'loc-class' || e.target.id === 'loc-sub') return; // locarno.js reports
    if (e.target.id === 'collection') { opts.collection = e.target.value; collectionChanged(); return; }
    if (e.target.type === 'date') setNotice('dates', ''); // the user has set the dates now
    setNotice('link', ''); // the user's own options now, not the link's
    readForm();
    optionChanged();
  });
  $('#clear-filters').addEventListener('click', () => {
    for (const k of state.FILTER_KEYS) opts[k] = '';
    setNotice('dates', '');
    fillForm();
    locarno.set('');
    optionChanged();
  });
  $('#export-csv').addEventListener('click', () => runExport('csv'));
  $('#export-json').addEventListener('click', () => runExport('json'));
}

function readForm() {
  opts.q = $('#q').value; // searched with whatever starts the search (Enter, a view, a filter)
  if (!$('#collection').options.length) return; // not filled yet
  for (const [id, key] of Object.entries(FIELDS)) {
    const el = $(`#${id}`);
    if (el.disabled) continue; // Group by patent, implied by words: the user's own choice is kept
    if (el.type === 'checkbox') opts[key] = el.checked;
    else if (key === 'topK') readTopK(el);
    else if (key === 'minScore') readMinScore(el);
    else if (el.type === 'date') readDate(el, key);
    else opts[key] = el.value.trim();
  }
  opts.locClass = locarno.value();
}

// Per page: the number searched with, shown in the field, so that 0, -3 or
// 5000 do not stay there while 1 or 1000 is used.
function readTopK(el) {
  opts.topK = state.clampTopK(el.value);
  if (el.value === String(opts.topK)) return;
  if (el.value.trim() !== '') notify(`Per page is 1 to ${state.TOP_K_MAX}: showing ${opts.topK}.`, 'info');
  el.value = String(opts.topK);
}

// Min. score: -1 to 1 (the API refuses anything else with a 400), shown
// as used, as Per page is.
function readMinScore(el) {
  const v = state.clampMinScore(el.value) ?? '';
  if (!state.minScoreInRange(el.value)) notify(`Min. score is -1 to 1: searching with ${v === '' ? 'none' : v}.`, 'info');
  opts.minScore = v;
  el.value = v;
}

// A date input takes any year; the API only from MIN_YEAR (400 before):
// such a date is cleared, and said so, rather than fail the search.
function readDate(el, key) {
  const v = el.value.trim();
  if (v && !state.isoDate(v)) {
    notify(`Dates start in ${state.MIN_YEAR}: “${v}” is left out of the search.`, 'info');
    el.value = '';
  }
  opts[key] = el.value.trim();
}

function fillForm() {
  for (const [id, key] of Object.entries(FIELDS)) {
    const el = $(`#${id}`);
    if (el.type === 'checkbox') el.checked = !!opts[key];
    else el.value = opts[key] ?? '';
  }
  if ($('#collection').options.length) $('#collection').value = opts.collection || $('#collection').value;
  locarno.set(opts.locClass);
  fillWords();
  filterBadge();
}

// A link's date that is not a date (the API takes yyyy-mm-dd or YYYYMMDD)
// cannot be searched with: say so, rather than search without it silently.
function badDatesNotice() {
  const bad = opts.badDates || [];
  setNotice('dates', bad.length ? `This link’s ${bad.map((b) => `“${state.DATE_KEYS[b.key]}” date “${b.value}” (${b.name})`).join(' and ')} ${bad.length > 1 ? 'are not dates' : 'is not a date'}: use yyyy-mm-dd or YYYYMMDD, from ${state.MIN_YEAR} on. The search runs without ${bad.length > 1 ? 'them' : 'it'}; set the dates under Filters.` : '');
}

// A link's other values the API would refuse, and what the page did instead.
function urlNotice() {
  const notes = opts.urlNotes || [];
  setNotice('link', notes.length ? `This link’s ${notes.join('; ')}.` : '');
}

function filterBadge() {
  const n = state.activeFilters(opts);
  $('#filter-count').textContent = n ? `${n} active` : '';
  $('#filter-summary').textContent = n ? `${n} filter${n > 1 ? 's' : ''} on` : '';
  $('#clear-filters').disabled = !n;
}

const optionChanged = debounce(() => {
  opts.page = 1;
  filterBadge();
  if (searchable()) search(true);
  else state.save(opts);
}, 60);

async function collectionChanged() {
  opts.page = 1;
  await Promise.all([locarno.load(opts.collection, opts.locClass), loadNotices()]);
  if ($('#admin').hidden === false) admin.load();
  if (searchable()) search(true); else state.save(opts);
}

// ---- collections, health, notices ------------------------------------------

async function loadCollections() {
  const sel = $('#collection');
  try {
    const data = await api.collections();
    const list = Array.isArray(data) ? data : data.collections || [];
    clear(sel);
    for (const c of list) {
      const name = c.name || c.collection_name;
      sel.append(h('option', { value: name }, `${name}${typeof c.images === 'number' ? ` (${c.images.toLocaleString('en-US')} images)` : ''}`));
    }
    if (!list.length) sel.append(h('option', { value: '' }, 'default'));
    if (opts.collection && ![...sel.options].some((o) => o.value === opts.collection)) sel.append(h('option', { value: opts.collection }, opts.collection));
    sel.value = opts.collection || sel.options[0].value;
    if (!opts.collection && list.length > 1) opts.collection = sel.value;
  } catch (e) {
    clear(sel).append(h('option', { value: opts.collection }, opts.collection || 'default'));
    notify(e.message, 'error');
  }
}

async function checkHealth() {
  try {
    const hl = await api.health();
    const model = hl.components?.model;
    setNotice('model', model && model !== 'ok'
      ? `No model is loaded (${model}): searching by picture is unavailable. Start the server with --model DIR, or run “dinoseek model fetch facebook/dinov2-small”.` : '');
    if (hl.status && hl.status !== 'ok' && (!model || model === 'ok')) setNotice('health', `The server reports “${hl.status}”: ${Object.entries(hl.components || {}).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  } catch (e) {
    setNotice('health', e.message);
  }
}

async function loadNotices() {
  try {
    const s = await api.stats(opts.collection);
    setNotice('generated', s.generated_weights
      ? `This server runs on generated weights (${s.model || 'test model'}): results are ranked, but similarity between images is not meaningful. Use “dinoseek model fetch facebook/dinov2-small” for real search.` : '');
    setNotice('empty', s.images === 0 ? 'This collection is empty: import drawings from the Collection screen, or with “dinoseek import”.' : '');
    $('#brand-stats').textContent = `${(s.patents ?? 0).toLocaleString('en-US')} patents · ${(s.images ?? 0).toLocaleString('en-US')} images`;
  } catch (e) {
    setNotice('empty', e.message);
  }
}

function setNotice(id, text) {
  const box = $('#notices');
  let el = $(`#notice-${id}`);
  if (!text) { el?.remove(); return; }
  if (!el) { el = h('p', { id: `notice-${id}`, class: `notice ${id}` }); box.append(el); }
  el.textContent = text;
}

// ---- search ----------------------------------------------------------------

async function search(push) {
  optionChanged.cancel(); // this search already has every option
  readForm();
  filterBadge();
  opts.images = query.imageState();
  fillWords();
  state.save(opts, push);
  wordsError('');
  if (!searchable()) { ++seq; lastParams = null; idle(); return; }
  const my = ++seq;
  const words = state.hasWords(opts);
  const params = state.apiParams(opts);
  // A search by words and a picture says why each patent ranks where it does.
  if (words && query.count()) params.explain = 'true';
  const what = [words && `“${opts.q.trim()}”`, query.count() && `${query.count()} view${query.count() > 1 ? 's' : ''}`].filter(Boolean);
  results.message('loading', 'Searching…', what.join(' and '));
  $('#search-btn').disabled = true;
  const t0 = performance.now();
  try {
    const data = await api.search(query.formData(params));
    if (my !== seq) return;
    query.retryPreviews(); // the server is reachable again
    lastParams = params;
    results.show(data, { page: opts.page, topK: opts.topK, group: opts.group || words, views: query.count(), words, filtered: state.activeFilters(opts) > 0 || opts.minScore !== '' });
    const n = (data.results || []).length;
    announce(`${n} ${opts.group || words ? 'patents' : 'images'} found in ${Math.round(data.timing?.total_ms ?? performance.now() - t0)} ms.`);
  } catch (e) {
    if (my !== seq) return;
    lastParams = null;
    if (words && e.status === 400 && /^query:/.test(e.detail || '')) {
      // Words the server cannot read: its own message, where they were typed.
      wordsError(e.detail);
      results.message('error', 'These words cannot be searched.', 'The results are cleared: correct the words in the search box (see the message there) and press Enter.');
      announce(`The words cannot be searched: ${e.detail}`);
    } else if (words && e.status === 501) {
      wordsError(e.detail || e.message);
      results.message('error', 'This server cannot search by words.', e.detail || e.message);
      announce(`This server cannot search by words: ${e.detail || e.message}`);
    } else {
      results.message('error', 'The search failed.', e.message);
      announce(`The search failed: ${e.message}`);
    }
  } finally {
    if (my === seq) {
      $('#search-btn').disabled = false;
      document.body.dataset.searches = String(++finished);
    }
  }
}

function turnPage(delta) {
  if (!lastParams) return;
  const next = opts.page + delta;
  if (next < 1 || (delta > 0 && $('#page-next').disabled)) return;
  opts.page = next;
  search(true).then(() => results.focusFirst());
}

function moreLike(name) {
  if (!name) return;
  detail.close();
  showScreen('search');
  query.addImage(name, { replace: true });
}

function addView(name) {
  if (name && query.addImage(name)) notify(`Added ${name} as view ${query.count()}.`, 'info');
}

async function runExport(kind) {
  if (!lastParams) return;
  const btns = [$('#export-csv'), $('#export-json')];
  btns.forEach((b) => { b.disabled = true; });
  try {
    const n = await exportResults(kind, (p) => query.formData(p), lastParams, api, (t) => announce(t));
    notify(`Exported ${n.toLocaleString('en-US')} rows as ${kind.toUpperCase()}.`, 'info');
  } catch (e) {
    notify(`Export failed: ${e.message}`, 'error');
  } finally {
    btns.forEach((b) => { b.disabled = false; });
  }
}

// ---- detail ----------------------------------------------------------------

let detailIndex = -1;

function openDetail(i, compare = false) {
  const list = results.items();
  const hit = list[i];
  if (!hit) return;
  detailIndex = i;
  const grouped = results.isGrouped();
  // A result without a patent (null or "") is its own drawing: nothing to
  // fetch, and nothing for the URL.
  const hits = grouped ? (hit.images || []) : !hit.patent_id ? [hit] : list.filter((x) => x.patent_id === hit.patent_id);
  opts.patent = hit.patent_id || '';
  state.save(opts);
  detail.open(hit.patent_id || '', {
    collection: opts.collection, hits, compare, matched: hit.text?.matched || [],
    select: grouped ? hit.images?.[0]?.file_name : hit.file_name,
    position: `Result ${(opts.page - 1) * opts.topK + i + 1}`, hasPrev: i > 0, hasNext: i < list.length - 1,
  });
}

function openPatent(id) {
  detailIndex = results.items().findIndex((x) => x.patent_id === id);
  if (detailIndex >= 0) { openDetail(detailIndex); return; }
  detail.open(id, { collection: opts.collection, hits: [], position: '', hasPrev: false, hasNext: false });
}

function stepDetail(delta) {
  if (detailIndex < 0) return; // not opened from these results
  const to = detailIndex + delta;
  if (to < 0 || to >= results.items().length) return;
  openDetail(to);
}

function detailClosed() {
  opts.patent = '';
  state.save(opts);
  if (detailIndex >= 0 && $('#admin').hidden) {
    const card = $(`#results > .card[data-index="${detailIndex}"]`);
    if (card) { card.focus(); return; }
  }
}

// ---- screens ---------------------------------------------------------------

function showScreen(name, user = false) {
  opts.screen = name;
  $('#search').hidden = name !== 'search';
  $('#admin').hidden = name !== 'admin';
  for (const b of $$('[data-screen]')) b.setAttribute('aria-current', b.dataset.screen === name ? 'page' : 'false');
  document.title = name === 'admin' ? 'Collection · dinoseek' : 'dinoseek · design patent image search';
  if (name === 'admin') admin.load();
  if (user) { state.save(opts, true); $(name === 'admin' ? '#admin h2' : '#add-files').focus(); }
}

main().catch((e) => notify(`The page could not start: ${e.message}`, 'error'));
