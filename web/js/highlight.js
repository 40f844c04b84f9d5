// highlight.js - the matched words of a search by words, marked in the page
// without ever parsing HTML: the page runs under a CSP with no inline script,
// and text from the server is shown as text, so the marks are built as DOM.

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
const unescape = (s) => s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (e) => ENTITIES[e]);

// The server's snippet_html (HTML-escaped text, <mark>...</mark> its only
// markup) as nodes: the tags become <mark> elements, everything else text.
// Any other tag the server might one day send stays visible text.
export function fromSnippetHtml(html) {
  const frag = document.createDocumentFragment();
  const parts = String(html ?? '').split(/(<mark>|<\/mark>)/);
  let inMark = false;
  for (const p of parts) {
    if (p === '<mark>') { inMark = true; continue; }
    if (p === '</mark>') { inMark = false; continue; }
    if (!p) continue;
    const text = document.createTextNode(unescape(p));
    if (inMark) {
      const m = document.createElement('mark');
      m.append(text);
      frag.append(m);
    } else frag.append(text);
  }
  return frag;
}

// Case and accents do not matter (the server's unicode61 remove_diacritics).
const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

// A light English stem, so that "chairs" marks "chair" as the server's
// Porter stemmer matched it; only the common plural and verb endings.
const stem = (w) => (w.length > 4 ? w.replace(/(ing|ed|es|s)$/, '') : w.replace(/s$/, ''));

// The words of the query's matched terms (as typed: `chair`, `lamp*`,
// `"office chair"`, `title:chair`), each {word, prefix}.
export function terms(matched) {
  const out = [];
  for (const m of matched || []) {
    const bare = String(m).replace(/^[a-z_]+:/i, '');
    for (const raw of bare.split(/[^\p{L}\p{N}*]+/u)) {
      if (!raw || raw === '*') continue;
      const prefix = raw.endsWith('*');
      const word = fold(raw.replace(/\*+$/, ''));
      if (word) out.push({ word, prefix });
    }
  }
  return out;
}

// text as nodes, each word that one of the matched terms finds in a <mark>.
export function mark(text, matched) {
  const frag = document.createDocumentFragment();
  const ts = terms(matched);
  const s = String(text ?? '');
  if (!ts.length) { frag.append(s); return frag; }
  const hits = (w) => {
    const f = fold(w);
    return ts.some((t) => (t.prefix ? f.startsWith(t.word) : f === t.word || stem(f) === stem(t.word)));
  };
  let last = 0;
  for (const m of s.matchAll(/[\p{L}\p{N}]+/gu)) {
    if (!hits(m[0])) continue;
    if (m.index > last) frag.append(s.slice(last, m.index));
    const el = document.createElement('mark');
    el.textContent = m[0];
    frag.append(el);
    last = m.index + m[0].length;
  }
  if (last < s.length) frag.append(s.slice(last));
  return frag;
}
