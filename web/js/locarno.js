// locarno.js - the Locarno class picker: a class select that shows each
// class's name and how many images the collection has in it, and a
// subclass select filled from the classes present. Also names classes for
// the rest of the page (className).
import * as api from './api.js';
import { $, clear, h } from './dom.js';

let classes = [];     // [{code, name, images}]
let subclasses = [];  // [{code, images}]
let onChange = () => {};
let loading = Promise.resolve(); // the latest load(), for those that need the names

export function init(opts) {
  onChange = opts.change;
  $('#loc-class').addEventListener('change', () => { fillSub(''); onChange(value()); });
  $('#loc-sub').addEventListener('change', () => onChange(value()));
}

export function load(collection, selected) {
  loading = fetchClasses(collection, selected);
  return loading;
}

// Resolves once the latest load() has the classes (names included).
export function ready() {
  return loading;
}

async function fetchClasses(collection, selected) {
  try {
    const data = await api.locarno(collection);
    classes = data.classes || [];
    subclasses = data.subclasses || [];
  } catch (e) {
    classes = [];
    subclasses = [];
  }
  fillClasses();
  set(selected);
}

export function className(code) {
  if (!code) return '';
  const c = classes.find((k) => k.code === code.slice(0, 2));
  return c ? c.name : '';
}


function fillClasses() {
  const sel = clear($('#loc-class'));
  sel.append(h('option', { value: '' }, 'Any class'));
  const present = classes.filter((c) => c.images > 0);
  const absent = classes.filter((c) => !(c.images > 0));
  const opt = (c) => h('option', { value: c.code }, `${c.code} · ${c.name}${c.images > 0 ? ` (${c.images})` : ''}`);
  if (present.length) sel.append(h('optgroup', { label: 'In this collection' }, present.map(opt)));
  if (absent.length) sel.append(h('optgroup', { label: 'Not in this collection' }, absent.map(opt)));
}

function fillSub(selected) {
  const cls = $('#loc-class').value;
  const sel = clear($('#loc-sub'));
  const subs = subclasses.filter((s) => cls && s.code.startsWith(`${cls}-`));
  sel.append(h('option', { value: '' }, cls ? 'Any subclass' : '—'));
  for (const s of subs) sel.append(h('option', { value: s.code }, `${s.code} (${s.images})`));
  sel.disabled = !subs.length;
  sel.value = subs.some((s) => s.code === selected) ? selected : '';
}

// Select a code: "12" or "12-08" (unknown codes are added, so a URL's
// filter is never dropped silently).
export function set(code) {
  const [cls] = (code || '').split('-');
  const sel = $('#loc-class');
  if (cls && ![...sel.options].some((o) => o.value === cls)) sel.append(h('option', { value: cls }, cls));
  sel.value = cls || '';
  fillSub(code && code.includes('-') ? code : '');
  if (code && code.includes('-') && $('#loc-sub').value !== code) {
    $('#loc-sub').append(h('option', { value: code }, code));
    $('#loc-sub').disabled = false;
    $('#loc-sub').value = code;
  }
}

export function value() {
  return $('#loc-sub').value || $('#loc-class').value;
}
