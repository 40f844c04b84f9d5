// dom.js - small helpers shared by the modules: building elements, formatting
// numbers and dates. No state lives here.

// h('div', {class: 'x', onclick: fn}, child, ...): an element. Attributes
// starting with "on" become listeners; `dataset` and `style` objects are
// merged; false/null/undefined attributes and children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function score(s) {
  return typeof s === 'number' ? s.toFixed(3) : '–';
}

export function ms(v) {
  if (typeof v !== 'number') return '';
  return v < 10 ? `${v.toFixed(1)} ms` : v < 10000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`;
}

export function bytes(n) {
  if (typeof n !== 'number') return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

export function count(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : '–';
}

// A date for display: the ISO string when given, else the seed's YYYYMMDD int.
export function date(iso, int) {
  if (iso) return iso;
  if (typeof int === 'number' && int > 0) {
    const s = String(int);
    return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
  }
  return '';
}

export function duration(s) {
  if (typeof s !== 'number' || s < 0) return '–';
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

// True when a keyboard event comes from a place where typing is expected.
export function typing(ev) {
  const t = ev.target;
  if (!(t instanceof HTMLElement)) return false;
  if (t.isContentEditable) return true;
  if (t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return true;
  if (t instanceof HTMLInputElement)
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'range'].includes(t.type);
  return false;
}

// fn, called once `wait` ms after the last call; .cancel() drops a pending call.
export function debounce(fn, wait) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), wait);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

// The USPTO public search link for a design patent: D0701016 -> D701016.
export function usptoUrl(patentId) {
  const m = /^(D|RE|PP)?0*(\d+)$/i.exec(patentId || '');
  if (!m) return null;
  const id = `${(m[1] || '').toUpperCase()}${m[2]}`;
  return `https://ppubs.uspto.gov/pubwebapp/external.html?q=(${id}).pn.&db=USPAT`;
}
