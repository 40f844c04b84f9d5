// detail.js - a patent in full: every drawing, its bibliographic fields and
// claim, a link to the USPTO, and the compare screen (query vs drawing).
// Images without a patent (imported from a folder whose file names give no
// patent number) open the same way, from the search's own answer: their
// drawings, shown large and compared, with nothing to fetch.
// Opens as a modal dialog; Escape leaves compare, then closes.
import * as api from './api.js';
import * as compare from './compare.js';
import { $, clear, date, h, score, usptoUrl } from './dom.js';
import { mark } from './highlight.js';
import { className } from './locarno.js';

let dlg;
let ctx = {};        // {patentId, collection, hits: Map file_name -> score, selected, index}
let actions = {};    // more(name), add(name), step(delta) -> bool, views() -> [{label, url()}], closed()
let current = null;  // the loaded patent
let token = 0;

export function init(a) {
  actions = a;
  dlg = $('#detail');
  compare.init();
  $('#detail-close').addEventListener('click', () => close());
  $('#detail-prev').addEventListener('click', () => actions.step(-1));
  $('#detail-next').addEventListener('click', () => actions.step(1));
  $('#cmp-back').addEventListener('click', () => showCompare(false));
  $('#cmp-view').addEventListener('change', () => runCompare());
  dlg.addEventListener('cancel', (ev) => {
    if (!$('#compare').hidden) { ev.preventDefault(); showCompare(false); }
  });
  dlg.addEventListener('close', () => { ctx = {}; actions.closed(); });
  dlg.addEventListener('click', (ev) => { if (ev.target === dlg) close(); });
  dlg.addEventListener('keydown', (ev) => {
    if (!$('#compare').hidden || ev.target instanceof HTMLInputElement || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === 'ArrowLeft' && !$('#detail-prev').disabled) { ev.preventDefault(); actions.step(-1); }
    if (ev.key === 'ArrowRight' && !$('#detail-next').disabled) { ev.preventDefault(); actions.step(1); }
  });
}

export const isOpen = () => dlg?.open;
export const patentId = () => (dlg?.open ? ctx.patentId : '');

export function close() { if (dlg.open) dlg.close(); }

// Open a patent. opts: {collection, hits: [{file_name, score}], select: file_name,
// position: 'n of N' or '', hasPrev, hasNext, compare: bool, matched: the
// words a search by words found in it, marked in its title and claim}. A null or empty
// patentId opens the images in opts.hits (search results: file_name,
// thumbnail_url, page_num, image_index) as they are.
export async function open(patentId, opts) {
  const my = ++token;
  ctx = { patentId: patentId || '', collection: opts.collection, hits: new Map((opts.hits || []).filter((x) => typeof x.score === 'number').map((x) => [x.file_name, x.score])), selected: opts.select, matched: opts.matched || [] };
  $('#detail-prev').disabled = !opts.hasPrev;
  $('#detail-next').disabled = !opts.hasNext;
  $('#detail-pos').textContent = opts.position || '';
  $('#detail-title').textContent = patentId || opts.select || '';
  clear($('#detail-fields'));
  clear($('#drawings')).append(h('li', { class: 'loading' }, 'Loading…'));
  showCompare(false);
  if (!dlg.open) dlg.showModal();
  $('#detail-close').focus();
  if (!patentId) {
    current = { patent_id: '', images: opts.hits || [] };
    fillUnpatented(current);
    if (opts.compare && ctx.selected) showCompare(true);
    return;
  }
  try {
    const p = await api.patent(patentId, opts.collection);
    if (my !== token) return;
    current = p;
    fill(p);
    if (opts.compare && ctx.selected) showCompare(true);
  } catch (e) {
    if (my !== token) return;
    // The server's 404 names the collection by its internal number
    // ("collection 1"): the page names it as the user knows it.
    const msg = e.status === 404
      ? `No patent “${patentId}” in ${opts.collection ? `collection “${opts.collection}”` : 'this collection'}: it may be in another collection, or the number may be mistyped.`
      : e.message;
    clear($('#drawings')).append(h('li', { class: 'message error', role: 'alert' }, msg));
  }
}

function fill(p) {
  $('#detail-title').textContent = `${p.patent_id}${p.title ? ` · ${p.title}` : ''}`;
  const f = clear($('#detail-fields'));
  const row = (k, v) => (v === null || v === undefined || v === '' ? null : [h('dt', {}, k), h('dd', {}, v)]);
  const cls = p.loc_class ? `${p.loc_class}${className(p.loc_class) ? ` · ${className(p.loc_class)}` : ''}${p.loc_edition ? ` (edition ${p.loc_edition})` : ''}` : '';
  const link = usptoUrl(p.patent_id);
  const marked = (text) => (text ? mark(text, ctx.matched) : text);
  f.append(h('dl', {},
    row('Patent', p.patent_id), row('Kind', p.kind), row('Title', marked(p.title)), row('Locarno class', cls),
    row('Published', date(p.pub_date_iso, p.pub_date)), row('Filed', date(p.filing_date_iso, p.filing_date)),
    row('Term', p.grant_term ? `${p.grant_term} years` : ''),
    row('Applicant', p.applicant_name ? marked(`${p.applicant_name}${p.applicant_country ? ` (${p.applicant_country})` : ''}`) : ''),
    row('Inventors', marked(p.inventor_names)), row('Assignee', marked(p.assignee_name)),
    row('Drawings', String(p.image_count ?? (p.images || []).length))),
  p.claim_text ? h('section', { class: 'claim' }, h('h3', {}, 'Claim'), h('p', {}, marked(p.claim_text))) : null,
  link ? h('p', {}, h('a', { href: link, target: '_blank', rel: 'noopener noreferrer', id: 'uspto-link' }, `${p.patent_id} on the USPTO's Patent Public Search ↗`)) : null);
  drawings(p);
}

// Images without a patent: the files, and why there is no more to show.
function fillUnpatented(p) {
  const names = p.images.map((i) => i.file_name);
  $('#detail-title').textContent = names.length === 1 ? `${names[0]} · no patent` : `${names.length} images without a patent`;
  clear($('#detail-fields')).append(h('dl', {},
    h('dt', {}, 'Patent'), h('dd', {}, `None: ${names.length === 1 ? 'its file name gives' : 'their file names give'} no patent number.`),
    h('dt', {}, names.length === 1 ? 'File' : 'Files'), h('dd', {}, names.join(', '))));
  drawings(p);
}

function drawings(p) {
  const ul = clear($('#drawings'));
  const imgs = p.images || [];
  if (!ctx.selected || !imgs.some((i) => i.file_name === ctx.selected)) ctx.selected = imgs[0]?.file_name;
  if (!imgs.length) ul.append(h('li', { class: 'message' }, 'No drawings stored for this patent.'));
  for (const img of imgs) {
    const s = ctx.hits.get(img.file_name);
    const sel = img.file_name === ctx.selected;
    ul.append(h('li', { class: `drawing${sel ? ' selected' : ''}${s !== undefined ? ' hit' : ''}` },
      h('button', {
        type: 'button', class: 'drawing-btn', 'aria-pressed': sel ? 'true' : 'false', dataset: { file: img.file_name },
        'aria-label': `${img.page_num || img.file_name}${s !== undefined ? `, score ${score(s)}` : ''}`,
        onclick: () => select(img.file_name), ondblclick: () => { select(img.file_name); showCompare(true); },
      },
      h('img', { src: img.thumbnail_url || api.thumbUrl(img.file_name, ctx.collection), alt: '', width: 300, height: 300 }),
      h('span', { class: 'cap' }, img.page_num || (p.patent_id ? `#${img.image_index}` : img.file_name), s !== undefined ? h('b', {}, ` ${score(s)}`) : null))));
  }
  actionsBar();
}

function select(name) {
  ctx.selected = name;
  for (const b of dlg.querySelectorAll('.drawing-btn')) {
    const on = b.dataset.file === name;
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
    b.parentElement.classList.toggle('selected', on);
  }
  actionsBar();
}

function actionsBar() {
  const bar = clear($('#drawing-actions'));
  const name = ctx.selected;
  if (!name) return;
  const hasQuery = actions.views().length > 0;
  const img = (current?.images || []).find((i) => i.file_name === name) || {};
  bar.append(
    h('span', { class: 'sel-label' }, `Selected: ${img.page_num || name}`),
    h('button', { type: 'button', class: 'btn primary', id: 'compare-btn', disabled: !hasQuery, title: hasQuery ? 'Compare the query with this drawing (c)' : 'Add a query image first', onclick: () => showCompare(true) }, 'Compare with query'),
    h('button', { type: 'button', class: 'btn', onclick: () => { close(); actions.more(name); } }, 'More like this'),
    h('button', { type: 'button', class: 'btn', onclick: () => actions.add(name) }, 'Add to query'),
    h('a', { class: 'btn', href: api.largeUrl(name, ctx.collection), target: '_blank', rel: 'noopener' }, 'Open large'));
}

function showCompare(on) {
  $('#compare').hidden = !on;
  $('#detail-main').hidden = on;
  if (!on) return;
  const sel = clear($('#cmp-view'));
  actions.views().forEach((v, i) => sel.append(h('option', { value: i }, v.label)));
  $('#cmp-view-wrap').hidden = actions.views().length < 2;
  runCompare();
  $('#compare').focus();
}

async function runCompare() {
  const views = actions.views();
  const v = views[Number($('#cmp-view').value) || 0];
  const img = (current?.images || []).find((i) => i.file_name === ctx.selected) || { file_name: ctx.selected };
  const s = ctx.hits.get(img.file_name);
  let url = null;
  try { url = v ? await v.url() : null; } catch { url = null; }
  const what = [ctx.patentId, img.page_num || img.file_name].filter(Boolean).join(' · ');
  compare.show({ url, label: v ? v.label : 'no query' },
    { url: api.largeUrl(img.file_name, ctx.collection), label: `${what}${s !== undefined ? ` · score ${score(s)}` : ''}` });
}

export function compareKey() {
  if (dlg.open && $('#compare').hidden && actions.views().length) showCompare(true);
}
