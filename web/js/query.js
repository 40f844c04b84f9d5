// query.js - the query: up to 8 views (images of one product), each an upload
// (file picker, drag and drop, paste) or an image already in the collection,
// each with an optional crop. Renders the list of views and builds the
// multipart body of POST /api/search.
import * as api from './api.js';
import { $, clear, h } from './dom.js';
import { cropOutline, cropString, editCrop, parseCrop } from './crop.js';

export const MAX_VIEWS = 8;
const SHOWABLE = /^image\/(jpeg|png|gif|webp|bmp|svg\+xml|avif)$/;

// {id, kind: 'file'|'image', file, name, url, crop, showable, preview}
// url: what the page shows (for an upload the browser cannot decode, TIFF or
// any file whose <img> fails, the server's JPEG preview once it has come);
// preview: the promise of that preview, or its failure {error}.
let views = [];
let nextId = 1;
let listeners = { change: () => {}, notify: () => {} };

export function init(opts) {
  listeners = { ...listeners, ...opts };
  const input = $('#file-input');
  const pick = $('#add-files');
  pick.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    addFiles([...input.files]);
    input.value = '';
  });
  $('#add-by-name').addEventListener('submit', onAddByName);
  $('#clear-views').addEventListener('click', () => { setViews([]); changed(); });
  initDrop();
  document.addEventListener('paste', onPaste);
  window.addEventListener('online', retryPreviews); // the network is back
  render();
}

export const list = () => views;
export const count = () => views.length;
export const hasUploads = () => views.some((v) => v.kind === 'file');

// The collection searched, where the views named by file name are looked up.
const collection = () => $('#collection').value;

// The views in the API's order: uploads first, then collection images.
function sorted() {
  return [...views.filter((v) => v.kind === 'file'), ...views.filter((v) => v.kind === 'image')];
}

function changed() {
  views = sorted();
  render();
  listeners.change(views);
}

function room(n) {
  const free = MAX_VIEWS - views.length;
  if (n > free) listeners.notify(`A query holds at most ${MAX_VIEWS} views; ${n > 1 && free > 0 ? `only ${free} added` : 'remove one first'}.`, 'warn');
  return Math.max(0, Math.min(n, free));
}

export function addFiles(files, { replace = false } = {}) {
  const images = files.filter((f) => f && (f.type.startsWith('image/') || /\.(tiff?|jpe?g|png|webp|gif|bmp)$/i.test(f.name)));
  if (files.length && !images.length) {
    // Let the server judge (and explain) what this is: it may still be an image.
    images.push(...files);
  }
  if (replace) setViews([]);
  const n = room(images.length);
  for (const file of images.slice(0, n)) {
    const showable = SHOWABLE.test(file.type);
    const v = { id: nextId++, kind: 'file', file, name: file.name || 'pasted image', url: showable ? URL.createObjectURL(file) : null, crop: null, showable };
    views.push(v);
    if (!showable) fetchPreview(v);
  }
  if (n) changed();
  return n;
}

// Add an image of the collection by its file name.
export function addImage(name, { replace = false, crop = null } = {}) {
  if (replace) setViews([]);
  if (views.some((v) => v.kind === 'image' && v.name === name && !v.crop)) {
    listeners.notify(`${name} is already a view of this query.`, 'info');
    return 0;
  }
  if (!room(1)) return 0;
  views.push({ id: nextId++, kind: 'image', name, url: api.thumbUrl(name, collection()), crop: parseCrop(crop), showable: true });
  changed();
  return 1;
}

// Replace the collection-image views (from the URL); uploads are kept.
export function setImages(images) {
  views.filter((v) => v.kind === 'image').forEach(release);
  views = views.filter((v) => v.kind === 'file');
  for (const img of images.slice(0, MAX_VIEWS - views.length))
    views.push({ id: nextId++, kind: 'image', name: img.name, url: api.thumbUrl(img.name, collection()), crop: parseCrop(img.crop), showable: true });
  views = sorted();
  render();
}

function setViews(v) {
  views.forEach(release);
  views = v;
}

function release(v) {
  clearTimeout(v.retryTimer);
  if (v.kind === 'file' && v.url) URL.revokeObjectURL(v.url);
  v.url = null;
  v.gone = true;
}

// A failure that says nothing about the file: the server was unreachable, or
// a proxy in front of it answered for it.
const transient = (status) => status === 0 || status === 502 || status === 503 || status === 504;
const RETRY_MAX_MS = 30000;

// Ask the server for a JPEG of an upload the browser cannot show; the view
// then shows it and can be cropped on it (the preview keeps the aspect
// ratio, so fractions of it are fractions of the original, which the server
// crops itself). A transient failure is tried again, ever less often, and at
// once when a search shows the server is back (retryPreviews).
function fetchPreview(v) {
  if (v.preview) return v.preview;
  if (v.url) URL.revokeObjectURL(v.url);
  Object.assign(v, { url: null, showable: false });
  v.preview = api.preview(v.file).then((blob) => {
    if (v.gone) return;
    Object.assign(v, { url: URL.createObjectURL(blob), showable: true, retries: 0 });
    render();
  }, (e) => {
    if (v.gone) return;
    if (transient(e.status)) {
      const why = e.status === 0 ? 'the server cannot be reached' : `the server answered HTTP ${e.status}`;
      v.preview = { error: `No preview yet: ${why}. Trying again…`, retry: true };
      v.retries = (v.retries || 0) + 1;
      v.retryTimer = setTimeout(() => retryPreview(v), Math.min(RETRY_MAX_MS, 1000 * 2 ** (v.retries - 1)));
    } else {
      const why = e.status === 415 ? 'not an image the server can read'
        : e.status === 413 ? 'too large for the server to read' : e.message.replace(/\.$/, '');
      v.preview = { error: `No preview: ${why}.` };
    }
    render();
  });
  render();
  return v.preview;
}

function retryPreview(v) {
  clearTimeout(v.retryTimer);
  if (v.gone || !v.preview?.retry) return;
  v.preview = null;
  fetchPreview(v);
}

// The server answered: ask again at once for the previews it could not make.
export function retryPreviews() {
  views.filter((v) => v.preview?.retry).forEach(retryPreview);
}

// The collection-image views, for the URL.
export function imageState() {
  return views.filter((v) => v.kind === 'image').map((v) => ({ name: v.name, crop: cropString(v.crop) }));
}

// The multipart body: file parts, then image fields, then crop_<i>, then params.
export function formData(params) {
  const form = new FormData();
  const ordered = sorted();
  ordered.forEach((v) => { if (v.kind === 'file') form.append('file', v.file, v.name); });
  ordered.forEach((v) => { if (v.kind === 'image') form.append('image', v.name); });
  ordered.forEach((v, i) => { if (v.crop) form.append(`crop_${i}`, cropString(v.crop)); });
  for (const [k, val] of Object.entries(params)) form.append(k, val);
  return form;
}

// A URL showing the view as searched (cropped), for the compare screen.
export async function displayUrl(v) {
  if (v.kind === 'file' && v.preview?.then) await v.preview;
  const src = v.kind === 'image' ? api.largeUrl(v.name, collection()) : v.url;
  if (!src) return null;
  if (!v.crop) return src;
  const img = new Image();
  img.src = src;
  await img.decode();
  const c = v.crop;
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(img.naturalWidth * c.w));
  canvas.height = Math.max(1, Math.round(img.naturalHeight * c.h));
  canvas.getContext('2d').drawImage(img, img.naturalWidth * c.x, img.naturalHeight * c.y,
    canvas.width, canvas.height, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  return URL.createObjectURL(blob);
}

export const label = (v, i) => `view ${i + 1} (${v.kind === 'file' ? v.name : `${v.name}, from the collection`})`;

function render() {
  const ul = clear($('#views'));
  $('#views-empty').hidden = views.length > 0;
  $('#clear-views').hidden = views.length === 0;
  $('#views-count').textContent = views.length ? `${views.length} of ${MAX_VIEWS}` : '';
  views.forEach((v, i) => {
    const failed = v.preview?.error;
    const waiting = v.kind === 'file' && !v.showable && !failed;
    const onerror = (e) => {
      if (v.kind === 'file' && !v.preview) fetchPreview(v); // the browser cannot decode it: ask the server
      else e.target.replaceWith(h('span', { class: 'noprev', title: 'No preview' }, '?'));
    };
    const wrap = h('span', { class: 'thumbwrap' },
      v.showable
        ? h('img', { src: v.url, alt: '', width: 80, height: 80, decoding: 'async', onerror })
        : h('span', { class: 'noprev', title: waiting ? 'Making a preview…' : 'No preview' },
          waiting ? '…' : (v.name.split('.').pop() || '').toUpperCase().slice(0, 4) || 'IMG'),
      v.crop && cropOutline(v.crop));
    ul.append(h('li', { class: 'view', dataset: { kind: v.kind, name: v.name } },
      wrap,
      h('span', { class: 'view-text' },
        h('span', { class: 'view-n' }, `View ${i + 1}`),
        h('span', { class: 'view-name', title: v.name }, v.name),
        h('span', { class: 'view-meta' }, v.kind === 'image' ? 'in the collection' : 'upload',
          v.crop ? ' · cropped' : '', waiting ? ' · making a preview…' : ''),
        failed && h('span', { class: 'view-error', role: 'status' }, failed)),
      h('span', { class: 'view-actions' },
        h('button', {
          type: 'button', class: 'btn small', disabled: !v.showable,
          title: v.showable ? 'Search only a region of this view'
            : failed && !v.preview.retry ? `${failed} It cannot be cropped.` : 'Waiting for the server\'s preview of this file',
          'aria-label': `Crop view ${i + 1}`, onclick: () => crop(v, i),
        }, v.crop ? 'Re-crop' : 'Crop'),
        h('button', {
          type: 'button', class: 'btn small icon', 'aria-label': `Remove view ${i + 1}`, title: 'Remove',
          onclick: () => { release(v); views = views.filter((x) => x !== v); changed(); },
        }, '×'))));
  });
}

async function crop(v, i) {
  const src = v.kind === 'image' ? api.largeUrl(v.name, collection()) : v.url;
  const result = await editCrop(src, v.crop, `view ${i + 1}`);
  if (result === undefined) return;
  v.crop = result;
  changed();
}

async function onAddByName(ev) {
  ev.preventDefault();
  const input = $('#image-name');
  const name = input.value.trim();
  if (!name) return;
  try {
    if (/^(D|RE|PP)?\d{5,8}$/i.test(name) && !/\./.test(name)) {
      // A patent number: its drawings become the views.
      const id = /^\d/.test(name) ? `D${name}` : name.toUpperCase();
      // A drawing already in the query (uncropped) is not added again; what
      // does not fit is said as such (room()), not as a patent without drawings.
      const p = await api.patent(id, collection());
      const all = p.images || [];
      if (!all.length) throw new Error(`${id} has no drawings in this collection.`);
      const fresh = all.filter((img) => !views.some((v) => v.kind === 'image' && v.name === img.file_name && !v.crop));
      if (!fresh.length) {
        listeners.notify(`${all.length > 1 ? `The ${all.length} drawings` : 'The drawing'} of ${id} ${all.length > 1 ? 'are' : 'is'} already in this query.`, 'info');
      } else {
        const n = room(fresh.length);
        fresh.slice(0, n).forEach((img) => views.push({ id: nextId++, kind: 'image', name: img.file_name, url: img.thumbnail_url || api.thumbUrl(img.file_name, collection()), crop: null, showable: true }));
        const had = all.length - fresh.length;
        if (n === fresh.length) listeners.notify(`Added ${n} drawing${n > 1 ? 's' : ''} of ${id}${had ? ` (${had} already in the query)` : ''}.`, 'info');
        if (n) changed();
      }
    } else if (await api.imageExists(name, collection())) {
      addImage(name);
    } else {
      throw new Error(`No image named “${name}” in the collection.`);
    }
    input.value = '';
  } catch (e) {
    listeners.notify(e.message, 'error');
  }
}

function onPaste(ev) {
  const files = [...(ev.clipboardData?.files || [])];
  if (!files.length) return;           // text: let the field have it
  ev.preventDefault();
  if (addFiles(files)) listeners.notify(`Pasted ${files.length > 1 ? `${files.length} images` : 'an image'}.`, 'info');
}

function initDrop() {
  const overlay = $('#drop-overlay');
  let depth = 0;
  const isFiles = (ev) => [...(ev.dataTransfer?.types || [])].some((t) => t === 'Files' || t === 'text/x-dinoseek-image');
  window.addEventListener('dragenter', (ev) => {
    if (!isFiles(ev)) return;
    depth++;
    overlay.hidden = false;
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener('dragover', (ev) => {
    if (isFiles(ev)) { ev.preventDefault(); ev.dataTransfer.dropEffect = 'copy'; }
  });
  window.addEventListener('drop', (ev) => {
    depth = 0;
    overlay.hidden = true;
    if (!isFiles(ev)) return;
    ev.preventDefault();
    const name = ev.dataTransfer.getData('text/x-dinoseek-image');
    if (name) addImage(name);
    else addFiles([...ev.dataTransfer.files]);
  });
}
