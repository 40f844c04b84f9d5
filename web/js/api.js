// api.js - every call the page makes to dinoseek, and the words it shows
// when one fails. Each function resolves to the envelope's `data`, or throws
// an ApiError whose `message` is ready to show a user.

export class ApiError extends Error {
  constructor(message, status, detail) {
    super(message);
    this.status = status;     // HTTP status, 0 when the server was unreachable
    this.detail = detail;     // the server's own message, when it sent one
  }
}

// What a user should read for a failed call: the server's message, with a
// sentence saying what to do for the statuses where one helps.
export function explain(status, serverMessage) {
  let msg = serverMessage || `The server answered HTTP ${status}.`;
  if (!/[.!?]$/.test(msg)) msg += '.';
  switch (status) {
    case 0: return 'Cannot reach the dinoseek server. Check that it is running, then try again.';
    case 401: return `${msg} This server needs an API key for this action (Collection › Import › API key).`;
    case 403: return `${msg} Imports run only from the folders the server was started with (--import-roots).`;
    case 404: return msg;
    case 409: return `${msg} Wait for the running import to finish.`;
    case 413: return `Too large: ${msg}${tooLargeAdvice(msg)}`;
    case 415: return `${msg} Use a JPEG, PNG, TIFF, WebP, GIF or BMP image.`;
    case 503: return `${msg} The server is not ready: the model or the index may be missing.`;
    case 500: return `${msg} Something failed on the server; its log says more.`;
    default: return msg;
  }
}

// What helps with a 413. The pixel limits apply to the whole image before any
// crop, so a crop drawn here changes nothing: only a smaller image does.
function tooLargeAdvice(msg) {
  if (/pixel/.test(msg))
    return ' The server checks the whole image before it applies a crop, so cropping here does not help:'
      + ' scale the image down (export or save it with fewer pixels), or save the part you need as a new image, and search with that.';
  if (/byte/.test(msg)) return ' Save the image smaller (fewer pixels, or as a JPEG) and try again.';
  return '';
}

let apiKey = sessionStorage.getItem('dinoseek.apiKey') || '';
export function setApiKey(key) {
  apiKey = key || '';
  if (apiKey) sessionStorage.setItem('dinoseek.apiKey', apiKey);
  else sessionStorage.removeItem('dinoseek.apiKey');
}
export function getApiKey() { return apiKey; }

async function request(url, init = {}) {
  const headers = new Headers(init.headers || {});
  if (apiKey) headers.set('X-API-Key', apiKey);
  let res;
  try {
    res = await fetch(url, { ...init, headers });
  } catch (e) {
    throw new ApiError(explain(0), 0);
  }
  return res;
}

async function envelope(res) {
  let body = null;
  const type = res.headers.get('content-type') || '';
  // The body is always read, so no answer is left half-received.
  const text = await res.text().catch(() => '');
  if (type.includes('json')) {
    try { body = JSON.parse(text); } catch { body = null; }
  }
  if (!res.ok || !body || body.code !== 0) {
    const status = res.ok ? 500 : res.status;
    const detail = body && typeof body.message === 'string' ? body.message : '';
    throw new ApiError(explain(status, detail), status, detail);
  }
  return body.data;
}

async function getJson(url) {
  return envelope(await request(url));
}

const q = (params) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const str = s.toString();
  return str ? `?${str}` : '';
};

const seg = encodeURIComponent;

export const health = async () => {
  const res = await request('/health');
  try { return JSON.parse(await res.text()); } catch { throw new ApiError(explain(res.status), res.status); }
};
export const collections = () => getJson('/api/collections');
export const stats = (collection) => getJson(`/api/collection/stats${q({ collection })}`);
export const locarno = (collection) => getJson(`/api/locarno${q({ collection })}`);
export const patent = (id, collection) => getJson(`/api/patent/${seg(id)}${q({ collection })}`);
export const batchRoots = () => getJson('/api/batch/roots');
export const batchJobs = (limit = 20) => getJson(`/api/batch/jobs${q({ limit })}`);
export const batchStatus = (job) => getJson(`/api/batch/status/${seg(job)}`);
export const batchEventsUrl = (job) => `/api/batch/events/${seg(job)}`;

export async function batchStart(path, collection) {
  return envelope(await request('/api/batch/start', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ path, collection }),
  }));
}

// An image of a collection (a bare name is looked up in the server's default
// collection, which may not hold it).
export const thumbUrl = (fileName, collection) => `/api/image/${seg(fileName)}${q({ collection })}`;
export const largeUrl = (fileName, collection) => `/api/image/${seg(fileName)}${q({ size: 'large', collection })}`;

// Does the collection hold an image of this name? (its thumbnail answers)
export async function imageExists(fileName, collection) {
  const res = await request(thumbUrl(fileName, collection), { method: 'GET' });
  if (res.ok) { await res.arrayBuffer().catch(() => null); return true; }
  if (res.status === 404) { await res.text().catch(() => ''); return false; }
  await envelope(res);
  return false;
}

// POST /api/search. form: a FormData built by query.js + the options.
export async function search(form) {
  return envelope(await request('/api/search', { method: 'POST', body: form }));
}

// The same search as CSV text (format=csv).
export async function searchCsv(form) {
  form.set('format', 'csv');
  const res = await request('/api/search', { method: 'POST', body: form });
  if (!res.ok) await envelope(res);
  return res.text();
}

// POST /api/preview: a JPEG (at most 1600 px, same aspect ratio) of an upload
// the browser cannot show itself (TIFF drawings), as a Blob.
export async function preview(file) {
  const form = new FormData();
  form.append('file', file, file.name || 'image');
  const res = await request('/api/preview', { method: 'POST', body: form });
  if (!res.ok || !/^image\//.test(res.headers.get('content-type') || '')) await envelope(res);
  return res.blob();
}
