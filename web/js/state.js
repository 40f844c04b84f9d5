// state.js - the search options and the URL, kept in step, so that a search
// can be bookmarked or shared. Uploaded images cannot travel in a URL; images
// already in the collection do, as `image=<file_name>` (repeatable, with an
// optional `crop<k>=x,y,w,h` for the k-th of them).

// Option name -> [URL/API parameter, default]. The URL uses the API's names.
const FIELDS = {
  collection: ['collection', ''],
  q: ['q', ''],         // the words searched (issue 18)
  topK: ['top_k', 24],
  minScore: ['min_score', ''],
  group: ['group_by_patent', false],
  locClass: ['loc_class', ''],
  pubFrom: ['pub_date_from', ''],
  pubTo: ['pub_date_to', ''],
  filingFrom: ['filing_date_from', ''],
  filingTo: ['filing_date_to', ''],
  applicant: ['applicant', ''],
  assignee: ['assignee', ''],
  inventor: ['inventor', ''],
  country: ['applicant_country', ''],
  patentIds: ['patent_ids', ''],
  page: ['page', 1],
};

export const FILTER_KEYS = ['locClass', 'pubFrom', 'pubTo', 'filingFrom', 'filingTo', 'applicant',
  'assignee', 'inventor', 'country', 'patentIds'];

export function defaults() {
  const o = {};
  for (const [k, [, d]] of Object.entries(FIELDS)) o[k] = d;
  o.images = [];        // [{name, crop: 'x,y,w,h'|null}]
  o.screen = 'search';
  o.patent = '';        // the patent whose detail is open
  o.badDates = [];      // [{key, name, value}]: URL dates that are not dates
  return o;
}

// A whole number from a field or a link: what a number input takes (1e3 is
// 1000, 2.5 is 2), else the digits it starts with ("24abc" is 24); NaN for
// none.
function whole(v) {
  const t = String(v ?? '').trim();
  const n = t === '' ? NaN : Number(t);
  return Number.isNaN(n) ? parseInt(t, 10) : Math.trunc(n); // 1e400: Infinity
}

// Results per page, as the API takes them: 1 to 1000, 24 for no number.
export const TOP_K_MAX = 1000;
export function clampTopK(v) {
  const n = whole(v);
  return !Number.isNaN(n) ? Math.min(TOP_K_MAX, Math.max(1, n)) : FIELDS.topK[1];
}

// Min. score, as the API and a number input take it: -1 to 1 in plain
// decimals (JavaScript's 0b1 or 0x1 are not the API's syntax), '' for none
// (the page's 0); null when the text is no number at all.
export function clampMinScore(v) {
  const t = String(v ?? '').trim();
  if (t === '') return '';
  const n = Number(t);
  if (!Number.isFinite(n)) return null;
  return String(Math.min(1, Math.max(-1, n)));
}
export const minScoreInRange = (v) => { const n = Number(String(v ?? '').trim() || 0); return n >= -1 && n <= 1; };

// The API pages no further than offset 9000: the last page it serves.
export const MAX_OFFSET = 9000;
export const lastPage = (topK) => Math.floor(MAX_OFFSET / topK) + 1;

const CROP_RE = /^(0|1|0?\.\d+|1\.0*)(,(0|1|0?\.\d+|1\.0*)){3}$/;

// The date options, and the words the page uses for them.
export const DATE_KEYS = { pubFrom: 'published from', pubTo: 'published to', filingFrom: 'filed from', filingTo: 'filed to' };

// The first year the API filters by (it refuses earlier dates with a 400).
export const MIN_YEAR = 1790;

// A date as the API takes it (yyyy-mm-dd, or the seed's YYYYMMDD) in the
// form a date input holds (yyyy-mm-dd); null when it is not a calendar day
// from MIN_YEAR on.
// The date inputs empty themselves for anything else, so a shared link's
// YYYYMMDD would otherwise be dropped without a word.
export function isoDate(text) {
  const t = String(text).trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t) || /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (y < MIN_YEAR || day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

export function fromUrl(search = location.search) {
  const p = new URLSearchParams(search);
  const o = defaults();
  for (const [k, [name, d]] of Object.entries(FIELDS)) {
    const v = p.get(name);
    if (v === null) continue;
    if (typeof d === 'boolean') o[k] = v === 'true' || v === '1';
    else if (typeof d === 'number') {
      const n = whole(v);
      if (!Number.isNaN(n) && n > 0) o[k] = n; // Infinity is clamped below
    } else o[k] = v;
  }
  // Dates: normalised for the date inputs; one that is not a date is left
  // out of the search and listed in o.badDates, for the page to say so.
  o.badDates = [];
  for (const k of Object.keys(DATE_KEYS)) {
    if (!o[k]) continue;
    const iso = isoDate(o[k]);
    if (!iso) o.badDates.push({ key: k, name: FIELDS[k][0], value: o[k] });
    o[k] = iso || '';
  }
  o.topK = clampTopK(o.topK);
  // Values the API would refuse with a 400 (and the page would show only
  // "The search failed"): used as near as they can be, and listed in
  // o.urlNotes for the page to say what it did.
  o.urlNotes = [];
  const score = clampMinScore(o.minScore);
  if (score === null) o.urlNotes.push(`min_score “${o.minScore}” is not a number from -1 to 1: the search runs without it`);
  else if (!minScoreInRange(o.minScore)) o.urlNotes.push(`min_score ${o.minScore} is outside -1 to 1: the search uses ${score}`);
  o.minScore = score ?? '';
  if (o.page > lastPage(o.topK)) {
    o.urlNotes.push(`page ${p.get('page')} is past the last page the server serves at ${o.topK} per page: showing page ${lastPage(o.topK)}`);
    o.page = lastPage(o.topK);
  }
  o.images = p.getAll('image').filter(Boolean).slice(0, 8).map((name, i) => {
    const c = p.get(`crop${i}`);
    return { name, crop: c && CROP_RE.test(c) ? c : null };
  });
  o.screen = p.get('screen') === 'admin' ? 'admin' : 'search';
  o.patent = p.get('patent') || '';
  return o;
}

export function toUrl(o) {
  const p = new URLSearchParams();
  if (o.screen === 'admin') p.set('screen', 'admin');
  o.images.forEach((img, i) => {
    p.append('image', img.name);
    if (img.crop) p.set(`crop${i}`, img.crop);
  });
  for (const [k, [name, d]] of Object.entries(FIELDS)) {
    const v = o[k];
    if (v === d || v === '' || v === null || v === undefined) continue;
    p.set(name, String(v));
  }
  if (o.patent) p.set('patent', o.patent);
  const s = p.toString();
  return s ? `/?${s}` : '/';
}

// Write the options into the address bar: push makes a history entry (a new
// search), otherwise the current one is replaced (an option changed).
export function save(o, push = false) {
  const url = toUrl(o);
  if (url === location.pathname + location.search) return;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

// The search parameters for the API (everything but the views).
export function apiParams(o) {
  const p = {};
  const put = (k, v) => { if (v !== '' && v !== null && v !== undefined) p[k] = String(v); };
  put('collection', o.collection);
  put('top_k', o.topK);
  put('offset', (o.page - 1) * o.topK || '');
  // Empty means 0 here (the field's placeholder): the API's own default is
  // the seed's 0.5, which would hide what the page promises to show.
  put('min_score', o.minScore === '' ? 0 : o.minScore);
  // Words are always searched by patent (the API implies it): said here
  // too, so that the exporter pages as grouped results page.
  const q = String(o.q || '').trim();
  put('q', q);
  put('group_by_patent', o.group || q ? 'true' : '');
  for (const k of FILTER_KEYS) put(FIELDS[k][0], typeof o[k] === 'string' ? o[k].trim() : o[k]);
  return p;
}

// Is this a search by words (alone or with a picture)?
export const hasWords = (o) => String(o.q || '').trim() !== '';

export function activeFilters(o) {
  return FILTER_KEYS.filter((k) => String(o[k] || '').trim() !== '').length;
}
