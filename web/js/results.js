// results.js - the results: a grid of image hits, or (grouped) one card per
// patent with its matching views; the summary line with the time taken;
// paging; keyboard navigation (arrows, Home/End, Enter, m, a).
import { $, $$, clear, count, date, h, ms, score } from './dom.js';
import { fromSnippetHtml, mark } from './highlight.js';
import { className } from './locarno.js';

let hits = [];        // what is shown: image hits or patents
let grouped = false;
let mode = 'image';   // the API's mode: image, words or hybrid
let actions = {};     // open(i), more(fileName), add(fileName), page(delta)
let focusIndex = 0;

export function init(a) {
  actions = a;
  const grid = $('#results');
  grid.addEventListener('keydown', onKey);
  grid.addEventListener('click', onClick);
  grid.addEventListener('focusin', (ev) => {
    const card = ev.target.closest('.card');
    if (card) setFocus(Number(card.dataset.index), false);
  });
  grid.addEventListener('dragstart', (ev) => {
    const card = ev.target.closest('.card');
    if (!card) return;
    ev.dataTransfer.setData('text/x-dinoseek-image', card.dataset.file);
    ev.dataTransfer.effectAllowed = 'copy';
  });
  $('#page-prev').addEventListener('click', () => actions.page(-1));
  $('#page-next').addEventListener('click', () => actions.page(1));
}

export const items = () => hits;
export const isGrouped = () => grouped;
export const focused = () => focusIndex;

// Clear the grid and say something instead (idle, loading, empty, error).
export function message(kind, title, text) {
  const box = $('#results-message');
  box.className = `message ${kind}`;
  box.hidden = false;
  clear(box).append(h('strong', {}, title), text ? h('span', {}, text) : null);
  $('#results').dataset.state = kind;
  if (kind !== 'loading') {
    $('#results').removeAttribute('aria-busy');
    hits = [];
    clear($('#results'));
    $('#pager').hidden = true;
    $('#summary').textContent = '';
    $('#export').hidden = true;
  } else {
    $('#results').setAttribute('aria-busy', 'true');
  }
}

// Show a search response. opts: {page, topK, group, views}
export function show(data, opts) {
  hits = data.results || [];
  grouped = !!opts.group;
  mode = data.mode || (opts.words ? 'words' : 'image');
  const grid = clear($('#results'));
  grid.removeAttribute('aria-busy');
  grid.dataset.state = 'results';
  grid.classList.toggle('grouped', grouped);
  const first = (opts.page - 1) * opts.topK;
  if (!hits.length) {
    message('empty', opts.page > 1 ? 'No more results.' : 'No results.',
      mode === 'words' ? `No patent${opts.filtered ? ' that passes these filters' : ''} holds these words. Try fewer words, a prefix (lamp*), or OR.`
      : opts.filtered
        ? 'Nothing passes these filters and the minimum score. Loosen a filter or lower the minimum score.'
        : 'Nothing reached the minimum score. Lower it, or add images to the collection.');
    if (opts.page > 1) { $('#pager').hidden = false; pager(opts, 0); }
    return;
  }
  $('#results-message').hidden = true;
  hits.forEach((hit, i) => grid.append(grouped ? patentCard(hit, i, first + i + 1) : imageCard(hit, i, first + i + 1)));
  focusIndex = 0;
  roving();
  summary(data, opts, first);
  pager(opts, hits.length);
  $('#export').hidden = false;
}

function summary(data, opts, first) {
  const t = data.timing || {};
  const what = grouped ? 'patents' : 'images';
  const parts = [`${what[0].toUpperCase()}${what.slice(1)} ${count(first + 1)}–${count(first + hits.length)}`];
  if (typeof t.total_ms === 'number') parts.push(`in ${ms(t.total_ms)}`);
  const s = $('#summary');
  clear(s).append(parts.join(' '));
  if (typeof data.text_matches === 'number')
    s.append(' · ', h('span', { class: 'text-matches' }, `${count(data.text_matches)} patent${data.text_matches === 1 ? '' : 's'} match the words`));
  const detail = [];
  if (typeof t.embed_ms === 'number') detail.push(`embedding ${ms(t.embed_ms)}`);
  else if (typeof t.feature_extraction_ms === 'number') detail.push(`features ${ms(t.feature_extraction_ms)}`);
  if (typeof t.text_ms === 'number' && mode === 'hybrid') detail.push(`words ${ms(t.text_ms)}`);
  if (typeof t.search_ms === 'number') detail.push(`search ${ms(t.search_ms)}`);
  else if (typeof t.milvus_search_ms === 'number') detail.push(`search ${ms(t.milvus_search_ms)}`);
  if (detail.length) s.append(h('span', { class: 'timing' }, ` (${detail.join(', ')})`));
  const views = data.views || opts.views;
  if (views > 1) s.append(h('span', { class: 'fusion', title: data.fusion || '' }, ` · ${views} views fused`));
}

function pager(opts, n) {
  const nav = $('#pager');
  const hasNext = n === opts.topK && opts.page * opts.topK <= 9000;
  nav.hidden = opts.page === 1 && !hasNext;
  $('#page-prev').disabled = opts.page <= 1;
  $('#page-next').disabled = !hasNext;
  $('#page-label').textContent = `Page ${opts.page}`;
}

function meta(hit) {
  const cls = hit.loc_class ? `${hit.loc_class}${className(hit.loc_class) ? ` ${className(hit.loc_class)}` : ''}` : '';
  return h('p', { class: 'meta' },
    cls && h('span', { class: 'loc', title: 'Locarno class' }, cls),
    h('span', { class: 'date', title: 'Publication date' }, date(hit.pub_date_iso, hit.pub_date)));
}

// What a result's score is, by the search's mode.
const SCORE_KIND = { image: 'Cosine similarity', words: 'BM25 score of the words (higher is better)', hybrid: 'Fused score of the picture and the words' };

function scoreEl(s) {
  // A BM25 or fused score is no fraction: the bar then shows nothing.
  const pct = mode === 'image' ? Math.max(0, Math.min(1, typeof s === 'number' ? s : 0)) * 100 : 0;
  return h('span', { class: 'score', title: SCORE_KIND[mode] || SCORE_KIND.image },
    h('span', { class: 'score-bar', style: { width: `${pct}%` } }), h('span', { class: 'score-n' }, score(s)));
}

function thumb(url, alt) {
  return h('img', { src: url, alt, loading: 'lazy', decoding: 'async', width: 300, height: 300, draggable: 'false' });
}

function imageCard(hit, i, rank) {
  const title = hit.title || hit.file_name;
  const label = `${rank}. score ${score(hit.score)}, ${hit.patent_id || hit.file_name}${hit.title ? `, ${hit.title}` : ''}${hit.loc_class ? `, class ${hit.loc_class}` : ''}${hit.pub_date_iso ? `, ${hit.pub_date_iso}` : ''}`;
  return h('li', {
    class: 'card', tabindex: '-1', draggable: 'true', 'aria-label': label,
    dataset: { index: i, file: hit.file_name, patent: hit.patent_id || '' },
  },
  h('div', { class: 'thumb' }, thumb(hit.thumbnail_url, hit.patent_id ? `Drawing ${hit.page_num || ''} of ${hit.patent_id}` : hit.file_name), scoreEl(hit.score), h('span', { class: 'rank' }, rank),
    h('div', { class: 'card-actions' },
      h('button', { type: 'button', class: 'btn small', tabindex: '-1', dataset: { act: 'more' }, title: 'Search with this drawing (m)' }, 'More like this'),
      h('button', { type: 'button', class: 'btn small', tabindex: '-1', dataset: { act: 'add' }, title: 'Add this drawing to the query as another view (a)' }, '+ View'))),
  h('div', { class: 'card-body' },
    h('p', { class: 'pid' }, hit.patent_id || 'no patent', hit.page_num && h('span', { class: 'page' }, ` · ${hit.page_num}`)),
    h('p', { class: 'title', title }, title),
    meta(hit)));
}

// The words a search by words found in the patent: the server's snippet,
// its matched words marked.
function snippet(p) {
  // A snippet that is the title (marked already) is not said twice.
  if (!p.text || p.text.snippet === p.title) return null;
  const body = typeof p.text.snippet_html === 'string' ? fromSnippetHtml(p.text.snippet_html) : mark(p.text.snippet, p.text.matched);
  return h('p', { class: 'snippet', title: `Matched: ${(p.text.matched || []).join(', ')}` }, body);
}

// A hybrid result: where each leg ranked it (explain=true).
function why(p) {
  const e = p.explain;
  if (!e) return null;
  const leg = (x) => (x && typeof x.rank === 'number' ? `#${x.rank}` : 'not found');
  return h('p', { class: 'why', title: `Fusion: ${e.fusion}` }, `picture ${leg(e.image)} · words ${leg(e.text)}`);
}

function patentCard(p, i, rank) {
  const imgs = p.images || [];
  // Words alone score no drawing: the patent's first is shown, not a match.
  const scored = imgs.filter((x) => typeof x.score === 'number');
  const total = p.image_count || imgs.length;
  const best = imgs[0] || {};
  const pid = p.patent_id || 'no patent'; // images from a folder whose names give none
  const label = `${rank}. score ${score(p.score)}, ${pid}${p.title ? `, ${p.title}` : ''}, ${scored.length} of ${total} drawings match${p.text ? `, words ${(p.text.matched || []).join(', ')}` : ''}`;
  return h('li', {
    class: 'card patent', tabindex: '-1', 'aria-label': label, draggable: 'true',
    dataset: { index: i, file: best.file_name || '', patent: p.patent_id || '' },
  },
  h('div', { class: 'thumb' }, thumb(best.thumbnail_url, p.patent_id ? `${scored.length ? 'Best' : 'First'} drawing of ${p.patent_id}` : best.file_name || pid), scoreEl(p.score), h('span', { class: 'rank' }, rank),
    h('div', { class: 'card-actions' },
      h('button', { type: 'button', class: 'btn small', tabindex: '-1', dataset: { act: 'more' }, title: 'Search with the best drawing (m)' }, 'More like this'))),
  h('div', { class: 'card-body' },
    h('p', { class: 'pid' }, pid),
    h('p', { class: 'title', title: p.title || '' }, p.title ? mark(p.title, p.text?.matched) : (p.patent_id ? 'Untitled' : 'Images without a patent')),
    meta(p),
    snippet(p),
    why(p),
    h('p', { class: 'matches' }, scored.length ? `${scored.length} of ${total} drawing${total === 1 ? '' : 's'} match` : `${total} drawing${total === 1 ? '' : 's'}`)),
  scored.length === 0 ? null : h('ul', { class: 'strip', 'aria-label': 'Matching drawings' }, scored.slice(0, 6).map((img) => h('li', { title: `${img.page_num || img.file_name}: ${score(img.score)}` },
    h('img', { src: img.thumbnail_url, alt: `${img.page_num || img.file_name}, score ${score(img.score)}`, loading: 'lazy', width: 64, height: 64, draggable: 'false' }),
    h('span', {}, score(img.score)))),
    scored.length > 6 ? h('li', { class: 'more' }, `+${scored.length - 6}`) : null));
}

function cards() { return $$('#results > .card'); }

function roving() {
  cards().forEach((c, i) => c.setAttribute('tabindex', i === focusIndex ? '0' : '-1'));
}

function setFocus(i, move = true) {
  const all = cards();
  if (!all.length) return;
  focusIndex = Math.max(0, Math.min(all.length - 1, i));
  roving();
  if (move) {
    all[focusIndex].focus();
    all[focusIndex].scrollIntoView({ block: 'nearest' });
  }
}

export function focusFirst() { setFocus(0); }
export function focusCurrent() { setFocus(focusIndex); }

function columns() {
  const all = cards();
  if (all.length < 2) return 1;
  const top = all[0].offsetTop;
  let n = 0;
  while (n < all.length && all[n].offsetTop === top) n++;
  return Math.max(1, n);
}

function onKey(ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const card = ev.target.closest('.card');
  if (!card || ev.target !== card) return;
  const i = Number(card.dataset.index);
  const cols = columns();
  const moves = { ArrowLeft: i - 1, ArrowRight: i + 1, ArrowUp: i - cols, ArrowDown: i + cols, Home: 0, End: cards().length - 1 };
  if (ev.key in moves) {
    ev.preventDefault();
    const to = moves[ev.key];
    if (to >= 0 && to < cards().length) setFocus(to);
  } else if (ev.key === 'Enter' || ev.key === ' ') {
    ev.preventDefault();
    actions.open(i);
  } else if (ev.key === 'm') {
    ev.preventDefault();
    actions.more(card.dataset.file);
  } else if (ev.key === 'a') {
    ev.preventDefault();
    actions.add(card.dataset.file);
  }
}

function onClick(ev) {
  const card = ev.target.closest('.card');
  if (!card) return;
  const act = ev.target.closest('[data-act]');
  const i = Number(card.dataset.index);
  setFocus(i, false);
  if (act?.dataset.act === 'more') actions.more(card.dataset.file);
  else if (act?.dataset.act === 'add') actions.add(card.dataset.file);
  else actions.open(i);
}
