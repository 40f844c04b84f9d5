// exporter.js - the current search's results, every page of them (up to the
// API's 10,000 images, or 1,000 patents when grouped), as CSV (the server's
// format=csv rows) or JSON (the result objects), downloaded as a file.

const PAGE = 1000;
const MAX_OFFSET = 9000;
const MAX_GROUPED_OFFSET = 0; // grouped: offset + top_k at most 1000

// form(params) builds the multipart body for the given API parameters.
export async function exportResults(kind, form, params, api, progress) {
  const pages = [];
  let rows = 0;
  const last = params.group_by_patent === 'true' ? MAX_GROUPED_OFFSET : MAX_OFFSET;
  for (let offset = 0; offset <= last; offset += PAGE) {
    const p = { ...params, top_k: String(PAGE) };
    delete p.offset;
    if (offset) p.offset = String(offset);
    progress(`Exporting… ${rows} rows`);
    if (kind === 'csv') {
      const text = await api.searchCsv(form(p));
      const lines = splitCsv(text, params.group_by_patent === 'true');
      pages.push(offset ? lines.rows : text.replace(/\s+$/, ''));
      rows += lines.count;
      if (lines.results < PAGE) break;
    } else {
      const data = await api.search(form(p));
      const results = data.results || [];
      pages.push(...results);
      rows += results.length;
      if (results.length < PAGE) break;
    }
  }
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  if (kind === 'csv') {
    const text = `${pages.filter(Boolean).join('\r\n')}\r\n`;
    download(new Blob([text], { type: 'text/csv' }), `dinoseek-results-${stamp}.csv`);
  } else {
    const doc = { exported_at: new Date().toISOString(), query: params, results: pages };
    delete doc.query.offset;
    delete doc.query.top_k;
    download(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }), `dinoseek-results-${stamp}.json`);
  }
  return rows;
}

// Split CSV text into the header and the rest, counting records (quoted
// fields may hold newlines) and distinct results (patents when grouped:
// the rows are per image, so the page is full when its results are).
function splitCsv(text, grouped) {
  const records = [];
  let i = 0;
  let start = 0;
  let quoted = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '\n') {
      records.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (start < text.length && text.slice(start).trim()) records.push(text.slice(start).replace(/\r$/, ''));
  const body = records.slice(1);
  const header = parseLine(records[0] || '');
  const pid = header.indexOf('patent_id');
  const results = grouped && pid >= 0 ? new Set(body.map((r) => parseLine(r)[pid])).size : body.length;
  return { rows: body.join('\r\n'), count: body.length, results };
}

function parseLine(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
