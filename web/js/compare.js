// compare.js - the query beside a drawing: side by side or overlaid (with an
// opacity slider, or as a difference), zoomed and panned together. Wheel or
// +/- to zoom, drag or the arrow keys to pan, 0 to reset, o to switch mode.
import { $, $$, clear, h } from './dom.js';

const view = { scale: 1, x: 0, y: 0 };
let root;

export function init() {
  root = $('#compare');
  $('#cmp-zoom').addEventListener('input', (e) => zoomTo(Number(e.target.value)));
  $('#cmp-zoom-in').addEventListener('click', () => zoomTo(view.scale * 1.25));
  $('#cmp-zoom-out').addEventListener('click', () => zoomTo(view.scale / 1.25));
  $('#cmp-reset').addEventListener('click', reset);
  $('#cmp-opacity').addEventListener('input', apply);
  $('#cmp-diff').addEventListener('change', apply);
  for (const r of $$('input[name="cmp-mode"]', root)) r.addEventListener('change', () => mode(r.value));
  for (const vp of $$('.viewport', root)) {
    vp.addEventListener('wheel', onWheel, { passive: false });
    vp.addEventListener('pointerdown', onDrag);
  }
  root.addEventListener('keydown', onKey);
}

// Show the pair. query: {url, label} (url null: not displayable); drawing: {url, label}.
export function show(query, drawing) {
  const q = $$('.img-query', root);
  const d = $$('.img-drawing', root);
  for (const img of q) { img.hidden = !query.url; if (query.url) img.src = query.url; img.alt = `Query: ${query.label}`; }
  for (const img of d) { img.src = drawing.url; img.alt = `Drawing: ${drawing.label}`; }
  $('#cmp-query-cap').textContent = `Query · ${query.label}`;
  $('#cmp-drawing-cap').textContent = drawing.label;
  const note = $('#cmp-note');
  note.hidden = !!query.url;
  clear(note).append(query.url ? '' : 'This query view cannot be shown (the server could not make a preview of it): only the drawing is displayed.');
  reset();
}

function mode(m) {
  root.dataset.mode = m;
  $('#cmp-overlay-opts').hidden = m !== 'overlay';
  apply();
}

export function setMode(m) {
  const r = $(`input[name="cmp-mode"][value="${m}"]`, root);
  if (r) { r.checked = true; mode(m); }
}

function reset() {
  Object.assign(view, { scale: 1, x: 0, y: 0 });
  apply();
}

function zoomTo(s) {
  const scale = Math.min(8, Math.max(1, s));
  // keep the centre where it is
  view.x *= scale / view.scale;
  view.y *= scale / view.scale;
  view.scale = scale;
  apply();
}

function apply() {
  const t = `translate(${view.x}px, ${view.y}px) scale(${view.scale})`;
  for (const img of $$('.viewport img', root)) img.style.transform = t;
  const over = $('.overlay .img-drawing', root);
  const op = Number($('#cmp-opacity').value) / 100;
  const diff = $('#cmp-diff').checked;
  over.style.opacity = diff ? 1 : op;
  over.style.mixBlendMode = diff ? 'difference' : 'normal';
  $('#cmp-zoom').value = String(view.scale);
  $('#cmp-zoom-out').disabled = view.scale <= 1;
  $('#cmp-zoom-in').disabled = view.scale >= 8;
  $('#cmp-zoom-label').textContent = `${Math.round(view.scale * 100)}%`;
  $('#cmp-opacity-label').textContent = `${Math.round(op * 100)}%`;
}

function onWheel(ev) {
  ev.preventDefault();
  zoomTo(view.scale * (ev.deltaY < 0 ? 1.15 : 1 / 1.15));
}

function onDrag(ev) {
  if (ev.button !== 0) return;
  const vp = ev.currentTarget;
  vp.setPointerCapture(ev.pointerId);
  const start = { x: ev.clientX - view.x, y: ev.clientY - view.y };
  vp.classList.add('dragging');
  const move = (e) => { view.x = e.clientX - start.x; view.y = e.clientY - start.y; apply(); };
  const up = () => {
    vp.classList.remove('dragging');
    vp.removeEventListener('pointermove', move);
    vp.removeEventListener('pointerup', up);
    vp.removeEventListener('pointercancel', up);
  };
  vp.addEventListener('pointermove', move);
  vp.addEventListener('pointerup', up);
  vp.addEventListener('pointercancel', up);
}

// Keys the focused control works with itself: a select or a slider takes
// them all, a radio group its arrows (Side by side / Overlay).
function ownKey(el, key) {
  if (el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) return true;
  if (!(el instanceof HTMLInputElement)) return false;
  if (el.type === 'radio') return key.startsWith('Arrow');
  return el.type !== 'checkbox';
}

function onKey(ev) {
  if (ev.altKey || ev.ctrlKey || ev.metaKey || ownKey(ev.target, ev.key)) return;
  const pan = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] }[ev.key];
  if (pan) { ev.preventDefault(); view.x += pan[0]; view.y += pan[1]; apply(); }
  else if (ev.key === '+' || ev.key === '=') { ev.preventDefault(); zoomTo(view.scale * 1.25); }
  else if (ev.key === '-') { ev.preventDefault(); zoomTo(view.scale / 1.25); }
  else if (ev.key === '0') { ev.preventDefault(); reset(); }
  else if (ev.key === 'o') { ev.preventDefault(); setMode(root.dataset.mode === 'overlay' ? 'side' : 'overlay'); }
}
