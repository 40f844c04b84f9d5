// crop.js - the crop editor: a dialog showing one query view, where the user
// draws a rectangle with the pointer (or moves and sizes it with the arrow
// keys). Resolves to {x, y, w, h} in fractions of the image, null to clear
// the crop, or undefined when cancelled.
import { $, h } from './dom.js';

const MIN = 0.02; // the smallest crop side, as a fraction

let dlg, stage, img, rectEl, readout, resolveFn, rect;

function build() {
  dlg = $('#crop-dialog');
  stage = $('.crop-stage', dlg);
  img = $('img', stage);
  rectEl = $('.crop-rect', stage);
  readout = $('#crop-readout', dlg);
  stage.addEventListener('pointerdown', onDown);
  stage.addEventListener('keydown', onKey);
  $('#crop-apply', dlg).addEventListener('click', () => close(rect ? { ...rect } : null));
  $('#crop-clear', dlg).addEventListener('click', () => { rect = null; draw(); });
  $('#crop-cancel', dlg).addEventListener('click', () => close(undefined));
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
}

function close(value) {
  dlg.close();
  const r = resolveFn;
  resolveFn = null;
  if (r) r(value);
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const round = (v) => Math.round(v * 10000) / 10000;

function point(ev) {
  const b = img.getBoundingClientRect();
  return { x: clamp((ev.clientX - b.left) / b.width, 0, 1), y: clamp((ev.clientY - b.top) / b.height, 0, 1) };
}

function onDown(ev) {
  if (ev.button !== 0) return;
  ev.preventDefault();
  stage.focus();
  const start = point(ev);
  const inside = rect && start.x > rect.x && start.x < rect.x + rect.w && start.y > rect.y && start.y < rect.y + rect.h;
  const orig = rect && { ...rect };
  stage.setPointerCapture(ev.pointerId);
  const move = (e) => {
    const p = point(e);
    if (inside) {  // drag the rectangle
      rect = { ...orig, x: clamp(orig.x + p.x - start.x, 0, 1 - orig.w), y: clamp(orig.y + p.y - start.y, 0, 1 - orig.h) };
    } else {       // draw a new one
      rect = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y), w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) };
    }
    draw();
  };
  const up = (e) => {
    move(e);
    stage.removeEventListener('pointermove', move);
    stage.removeEventListener('pointerup', up);
    stage.removeEventListener('pointercancel', up);
    if (rect && (rect.w < MIN || rect.h < MIN)) rect = inside ? orig : null;
    draw();
  };
  stage.addEventListener('pointermove', move);
  stage.addEventListener('pointerup', up);
  stage.addEventListener('pointercancel', up);
}

function onKey(ev) {
  const step = ev.altKey ? 0.002 : 0.01;
  const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[ev.key];
  if (ev.key === 'Enter') { ev.preventDefault(); close(rect ? { ...rect } : null); return; }
  if (!d) return;
  ev.preventDefault();
  if (!rect) rect = { x: 0.25, y: 0.25, w: 0.5, h: 0.5 };
  if (ev.shiftKey) { // size
    rect.w = clamp(rect.w + d[0], MIN, 1 - rect.x);
    rect.h = clamp(rect.h + d[1], MIN, 1 - rect.y);
  } else {           // move
    rect.x = clamp(rect.x + d[0], 0, 1 - rect.w);
    rect.y = clamp(rect.y + d[1], 0, 1 - rect.h);
  }
  draw();
}

function draw() {
  if (rect) for (const k of ['x', 'y', 'w', 'h']) rect[k] = round(rect[k]);
  rectEl.hidden = !rect;
  if (rect) {
    Object.assign(rectEl.style, {
      left: `${rect.x * 100}%`, top: `${rect.y * 100}%`, width: `${rect.w * 100}%`, height: `${rect.h * 100}%`,
    });
  }
  readout.textContent = rect
    ? `Region: from ${pct(rect.x)} across, ${pct(rect.y)} down; ${pct(rect.w)} wide, ${pct(rect.h)} high.`
    : 'No region: the whole image is searched. Drag on the image to draw one.';
}

const pct = (v) => `${Math.round(v * 100)}%`;

// Open the editor on an image URL with an existing crop (or null).
export function editCrop(url, current, label) {
  if (!dlg) build();
  rect = current ? { ...current } : null;
  $('#crop-title', dlg).textContent = `Crop ${label}`;
  img.src = url;
  img.alt = label;
  draw();
  dlg.showModal();
  stage.focus();
  return new Promise((resolve) => { resolveFn = resolve; });
}

export function parseCrop(s) {
  if (!s) return null;
  const [x, y, w, hh] = s.split(',').map(Number);
  if ([x, y, w, hh].some((v) => !Number.isFinite(v))) return null;
  return { x, y, w, h: hh };
}

export const cropString = (c) => (c ? [c.x, c.y, c.w, c.h].map((v) => round(v)).join(',') : null);

// A small element that outlines the crop over a thumbnail.
export function cropOutline(c) {
  return h('span', {
    class: 'crop-outline', 'aria-hidden': 'true',
    style: { left: `${c.x * 100}%`, top: `${c.y * 100}%`, width: `${c.w * 100}%`, height: `${c.h * 100}%` },
  });
}
