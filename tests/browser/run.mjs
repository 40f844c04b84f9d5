// run.mjs - the web UI in a real browser: Debian's chromium, headless, driven
// by playwright-core, against a dinoseek server someone else started.
//
//   node tests/browser/run.mjs URL OUTDIR [SCENARIO...]
//   (or DINOSEEK_URL, DINOSEEK_BROWSER_OUT, DINOSEEK_BROWSER_ONLY=a,b)
//
// The server must hold the demo data: `dinoseek sample generate` (12 patents)
// imported into patent_images; a second collection, plain_folder, of two
// images imported from a plain folder whose names give no patent
// (chair-sketch.png, a copy of quad_gray.png, and lamp-photo.jpg, a copy of
// parity_photo.jpg); generated weights; and --import-roots naming a folder
// with a second weekly archive (the import scenario imports it).
// Each scenario runs in a fresh browser context and fails on any console
// error, uncaught exception, failed request, or HTTP status >= 400 that it
// did not announce with expectHttp() (a request it makes fail on purpose,
// as an unreachable server would, with expectFailure()). One line per scenario: "ok NAME" or
// "FAIL NAME: reason"; screenshots go to OUTDIR; exit status 1 on failure.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const FIXTURES = resolve(here, '../fixtures/images');
const args = process.argv.slice(2);
const BASE = (args[0] || process.env.DINOSEEK_URL || '').replace(/\/$/, '');
const OUT = resolve(args[1] || process.env.DINOSEEK_BROWSER_OUT || 'browser-out');
const ONLY = args.slice(2).concat((process.env.DINOSEEK_BROWSER_ONLY || '').split(',').filter(Boolean));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 20000;       // the longest any single wait may take
const SCENARIO_MS = 120000;  // and a whole scenario

if (!BASE) {
  console.error('usage: node run.mjs URL OUTDIR [SCENARIO...]');
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });

const img = (name) => join(FIXTURES, name);
const QUAD = img('quad.png');
const PHOTO = img('parity_photo.jpg');
const TIFF = img('drawing_g4.tif'); // a 1-bit CCITT G4 drawing
// Two views of one chair from the collection, as JPEGs a user might have
// (written by prepare()).
const VIEW1 = join(OUT, 'query-view1.jpg');
const VIEW2 = join(OUT, 'query-view2.jpg');

// ---- the harness ------------------------------------------------------------

const scenarios = [];
const scenario = (name, fn) => scenarios.push({ name, fn });

class Fail extends Error {}
function check(cond, what) {
  if (!cond) throw new Fail(what);
}

// A check of what an event handler does. Chromium does not promise when a
// dialog's `close` (or a control's `change`) handler runs: since 156 a
// closed <dialog> dispatches `close` a task after the click that closed it.
// So whatever such a handler sets (the URL, focus) is polled for, up to
// `ms`, instead of read once right after the action.
async function eventually(probe, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Fail(`${what} (still not so after ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function runOne(browser, s) {
  const problems = [];
  const expected = [];  // [{status, re}]
  const failing = [];   // URLs (RegExps) whose requests may fail outright
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 }, acceptDownloads: true, colorScheme: 'light', locale: 'en-US',
  });
  context.setDefaultTimeout(STEP_MS);
  // Keep the fields of each search the page sends (playwright does not
  // expose multipart bodies with files).
  await context.addInitScript(() => {
    window.__forms = [];
    window.__inflight = 0;
    const orig = window.fetch;
    window.fetch = (url, init) => {
      if (String(url).startsWith('/api/search') && init?.body instanceof FormData)
        window.__forms.push([...init.body.entries()].map(([k, v]) => [k, v instanceof File ? `file:${v.name}` : v]));
      window.__inflight++;
      const p = orig(url, init);
      // done when the body has been read too (the page always reads it)
      p.then((res) => { const t = res.clone(); t.arrayBuffer().finally(() => { window.__inflight--; }); },
        () => { window.__inflight--; });
      return p;
    };
  });
  const page = await context.newPage();
  const isExpected = (status, url) => expected.some((e) => e.status === status && e.re.test(url));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    const st = /status of (\d{3})/.exec(text);
    if (st && expected.some((e) => e.status === Number(st[1]))) return; // the browser's echo of an expected answer
    if (/net::ERR_/.test(text) && failing.some((re) => re.test(m.location()?.url || ''))) return; // and of an expected failure
    problems.push(`console error: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => failing.some((re) => re.test(r.url())) || problems.push(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !isExpected(r.status(), r.url())) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  const t = {
    page, context,
    expectHttp: (status, re) => expected.push({ status, re }),
    expectFailure: (re) => failing.push(re),
    shot: (name) => page.screenshot({ path: join(OUT, `${name}.png`) }),
  };
  const t0 = Date.now();
  let error = null;
  try {
    await Promise.race([
      s.fn(t),
      new Promise((_, rej) => setTimeout(() => rej(new Fail(`took over ${SCENARIO_MS / 1000} s`)), SCENARIO_MS)),
    ]);
    await settle(page); // the last step's calls, and their errors
  } catch (e) {
    error = e;
    await page.screenshot({ path: join(OUT, `FAIL-${s.name}.png`) }).catch(() => {});
  }
  const reason = error ? (error instanceof Fail ? error.message : String(error.message || error).split('\n')[0])
    : problems.length ? problems.slice(0, 3).join('; ') : null;
  if (process.env.DINOSEEK_BROWSER_VERBOSE && problems.length) console.error(problems.join('\n'));
  await context.close(); // what closing cuts short is not the page's fault
  console.log(reason ? `FAIL ${s.name}: ${reason}` : `ok ${s.name}`);
  if (process.env.DINOSEEK_BROWSER_VERBOSE) console.error(`  ${s.name}: ${Date.now() - t0} ms`);
  return !reason;
}

// ---- helpers ------------------------------------------------------------------

async function open(t, path = '/') {
  await t.page.goto(BASE + path);
  await t.page.waitForSelector('body[data-ready]', { state: 'attached' });
}

// Searches the page has finished, and which document it is (a navigation
// starts the count again).
const searches = (page) => page.evaluate(() => [Number(document.body?.dataset.searches || 0), performance.timeOrigin]);

// Do something that starts a search; resolve to the answer's JSON (or the
// error envelope) once the page has shown it.
async function searched(page, action) {
  const before = await searches(page);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${BASE}/api/search`) && r.request().method() === 'POST'),
    action(),
  ]);
  const body = await res.json().catch(() => null);
  await page.waitForFunction(([n, origin]) => {
    const done = Number(document.body?.dataset.searches || 0);
    return performance.timeOrigin === origin ? done > n : done > 0;
  }, before);
  const form = await page.evaluate(() => window.__forms.at(-1) || []);
  return { status: res.status(), body, data: body?.data, form };
}

// Leave the page only when none of its calls is under way (navigating
// would abort it, which counts as a failed request).
async function settle(page) {
  await page.waitForTimeout(100); // a debounced search may be about to start
  await page.waitForFunction(() => window.__inflight === 0);
}

async function goto(page, path) {
  await settle(page);
  return page.goto(BASE + path);
}

const cards = (page) => page.$$eval('#results > .card', (els) => els.map((e) => ({
  file: e.dataset.file, patent: e.dataset.patent, label: e.getAttribute('aria-label'), text: e.innerText,
})));

async function upload(t, files) {
  return searched(t.page, () => t.page.setInputFiles('#file-input', files));
}

// The multipart fields the page sent with a search (files as "file:NAME").
const parts = (r) => r.form;

function fileInPage(page, path, name, type) {
  const b64 = readFileSync(path).toString('base64');
  return page.evaluateHandle(([b, n, ty]) => {
    const bytes = Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], n, { type: ty }));
    return dt;
  }, [b64, name, type]);
}

async function apiJson(path, init) {
  const res = await fetch(BASE + path, init);
  const body = await res.json();
  check(body.code === 0, `${path}: ${body.message}`);
  return body.data;
}

// The first result's file name for a search by QUAD (an image in the collection).
async function someImage() {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(QUAD)], { type: 'image/png' }), 'quad.png');
  form.append('top_k', '5');
  const data = await apiJson('/api/search', { method: 'POST', body: form });
  return data.results[0];
}

// ---- the scenarios ------------------------------------------------------------

scenario('home', async (t) => {
  const { page } = t;
  await open(t);
  check(await page.title() === 'dinoseek · design patent image search', 'title');
  const notice = await page.textContent('#notice-generated').catch(() => '');
  check(/not meaningful/.test(notice), 'a notice says generated weights are not meaningful');
  check(/12 patents/.test(await page.textContent('#brand-stats')), 'the header shows the collection size');
  await page.waitForFunction(() => document.querySelectorAll('#loc-class option').length >= 33);
  const opts = await page.$$eval('#loc-class option', (o) => o.map((x) => x.textContent));
  check(opts.some((o) => /^06 · Furnishing \(\d+\)$/.test(o)), `the class picker names classes (${opts.slice(0, 3)})`);
  check(await page.isVisible('#results-message'), 'an idle message says what to do');
  await t.shot('home');
});

scenario('upload', async (t) => {
  const { page } = t;
  await open(t);
  const r = await upload(t, [VIEW1]);
  check(r.status === 200, `search answered ${r.status}`);
  const n = r.data.results.length;
  check(n === 24, `24 results per page by default (got ${n})`);
  const cs = await cards(page);
  check(cs.length === n, `${n} cards shown (got ${cs.length})`);
  const first = r.data.results[0];
  check(cs[0].file === first.file_name, 'cards in the API order');
  check(cs[0].text.includes(first.patent_id) && cs[0].text.includes(first.score.toFixed(3)), 'a card shows the patent and score');
  check(first.title && cs[0].text.includes(first.title), 'a card shows the title');
  check(cs[0].text.includes(first.loc_class) && cs[0].text.includes(first.pub_date_iso), 'a card shows class and date');
  check(/Images 1–24 in \d/.test(await page.textContent('#summary')), 'the summary gives the time taken');
  await page.waitForFunction(() => [...document.querySelectorAll('#results img')].slice(0, 8).every((i) => i.complete && i.naturalWidth > 0));
  check(await page.textContent('#views') !== '' && (await page.$$('#views .view')).length === 1, 'one view listed');
  await t.shot('results');
});

scenario('drop', async (t) => {
  const { page } = t;
  await open(t);
  const dt = await fileInPage(page, QUAD, 'dropped.png', 'image/png');
  const r = await searched(page, async () => {
    for (const type of ['dragenter', 'dragover', 'drop'])
      await page.dispatchEvent('#results-area', type, { dataTransfer: dt });
  });
  check(r.status === 200 && r.data.results.length > 0, 'the dropped image was searched');
  check(parts(r).some(([k, v]) => k === 'file' && v === 'file:dropped.png'), 'the dropped file was sent');
  await eventually(() => page.isHidden('#drop-overlay'), 'the drop overlay went away');
});

scenario('paste', async (t) => {
  const { page } = t;
  await open(t);
  const b64 = readFileSync(PHOTO).toString('base64');
  const r = await searched(page, () => page.evaluate((b) => {
    const bytes = Uint8Array.from(atob(b), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'image.jpg', { type: 'image/jpeg' }));
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, b64));
  check(r.status === 200 && r.data.results.length > 0, 'the pasted image was searched');
  check((await page.$$('#views .view')).length === 1, 'the pasted image is a view');
  check(/Pasted/.test(await page.textContent('#toast')), 'the page says an image was pasted');
});

scenario('crop', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [VIEW1]);
  await page.click('#views .view button:has-text("Crop")');
  await page.waitForSelector('#crop-dialog[open]');
  const img = await page.waitForSelector('.crop-stage img');
  await page.waitForFunction(() => document.querySelector('.crop-stage img').naturalWidth > 0);
  const box = await img.boundingBox();
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4, { steps: 5 });
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.7, { steps: 5 });
  await page.mouse.up();
  check(/50% wide, 50% high/.test(await page.textContent('#crop-readout')), `the region is read out (${await page.textContent('#crop-readout')})`);
  await t.shot('crop');
  const r = await searched(page, () => page.click('#crop-apply'));
  check(r.status === 200 && r.data.results.length > 0, 'the cropped query was searched');
  const crop = parts(r).find(([k]) => k === 'crop_0');
  check(crop, 'crop_0 was sent');
  const [x, y, w, hh] = crop[1].split(',').map(Number);
  const near = (a, b) => Math.abs(a - b) < 0.02;
  check(near(x, 0.1) && near(y, 0.2) && near(w, 0.5) && near(hh, 0.5), `crop_0 is the drawn region (${crop[1]})`);
  check(await page.isVisible('#views .crop-outline'), 'the view shows its crop');
  // Keyboard: the region moves with the arrow keys.
  await page.click('#views .view button:has-text("Re-crop")');
  await page.focus('.crop-stage');
  await page.keyboard.press('ArrowRight');
  const r2 = await searched(page, () => page.keyboard.press('Enter'));
  const crop2 = parts(r2).find(([k]) => k === 'crop_0');
  check(crop2 && near(Number(crop2[1].split(',')[0]), 0.11), `the arrow key moved the region (${crop2?.[1]})`);
  // A crop of a collection image travels in the URL.
  const hit = await someImage();
  const r3 = await searched(page, () => goto(page, `/?image=${encodeURIComponent(hit.file_name)}&crop0=0.25,0.25,0.5,0.5`));
  check(r3.status === 200 && parts(r3).some(([k, v]) => k === 'crop_0' && v === '0.25,0.25,0.5,0.5')
    && parts(r3).some(([k, v]) => k === 'image' && v === hit.file_name), 'a bookmarked crop is searched');
  check(await page.isVisible('#views .crop-outline'), 'and shown');
  // A TIFF upload (a 1-bit CCITT G4 drawing, as the USPTO's): the browser
  // cannot show it, so the page shows, crops and compares the server's JPEG
  // preview; the crop goes to the server as fractions of the original.
  await settle(page);
  await open(t);
  const [pres, r4] = await Promise.all([
    page.waitForResponse((x) => x.url() === `${BASE}/api/preview` && x.request().method() === 'POST'),
    upload(t, [TIFF]),
  ]);
  check(pres.status() === 200 && /image\/jpeg/.test(pres.headers()['content-type']), `a JPEG preview of the TIFF (HTTP ${pres.status()})`);
  check(r4.status === 200 && r4.data.results.length > 0, 'the TIFF was searched');
  await page.waitForFunction(() => document.querySelector('#views .view img')?.naturalWidth > 0);
  check(await page.isEnabled('#views .view button:has-text("Crop")'), 'the TIFF view can be cropped');
  await page.click('#views .view button:has-text("Crop")');
  await page.waitForSelector('#crop-dialog[open]');
  await page.waitForFunction(() => document.querySelector('.crop-stage img').naturalWidth > 0);
  const tbox = await (await page.$('.crop-stage img')).boundingBox();
  await page.mouse.move(tbox.x + tbox.width * 0.1, tbox.y + tbox.height * 0.2);
  await page.mouse.down();
  await page.mouse.move(tbox.x + tbox.width * 0.6, tbox.y + tbox.height * 0.7, { steps: 5 });
  await page.mouse.up();
  await t.shot('crop-tiff');
  const r5 = await searched(page, () => page.click('#crop-apply'));
  check(r5.status === 200 && r5.data.results.length > 0, `the cropped TIFF was searched (HTTP ${r5.status})`);
  check(parts(r5).some(([k, v]) => k === 'file' && v === 'file:drawing_g4.tif'), 'the original TIFF was sent');
  const tcrop = parts(r5).find(([k]) => k === 'crop_0');
  const tc = (tcrop?.[1] || '').split(',').map(Number);
  check(tcrop && near(tc[0], 0.1) && near(tc[1], 0.2) && near(tc[2], 0.5) && near(tc[3], 0.5), `crop_0 is the region drawn on the preview (${tcrop?.[1]})`);
  check(await page.isVisible('#views .crop-outline'), 'the TIFF view shows its crop');
  // Compare shows the (cropped) preview as the query.
  await page.focus('#results > .card[data-index="0"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawings .drawing');
  await page.click('#compare-btn');
  await page.waitForSelector('#compare:not([hidden])');
  await page.waitForFunction(() => [...document.querySelectorAll('#compare .side img')].every((i) => !i.hidden && i.complete && i.naturalWidth > 0));
  check(await page.isHidden('#cmp-note'), 'no "cannot be shown" note for a TIFF query');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
});

scenario('views', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [VIEW1, VIEW2]);
  const hit = await someImage();
  await page.fill('#image-name', hit.file_name);
  const r = await searched(page, () => page.click('#add-by-name button[type=submit]'));
  const p = parts(r);
  check(p.filter(([k]) => k === 'file').length === 2 && p.filter(([k]) => k === 'image').length === 1,
    `two uploads and one collection image sent (${p.map(([k]) => k)})`);
  check(r.status === 200 && r.data.views === 3, `the server fused 3 views (views=${r.data?.views})`);
  check(/3 views fused/.test(await page.textContent('#summary')), 'the summary says how many views were fused');
  check((await page.$$('#views .view')).length === 3, 'three views listed');
  check(new URL(page.url()).searchParams.get('image') === hit.file_name, 'the collection image is in the URL');
  // "More like this" from a result replaces the query with that drawing.
  const first = (await cards(page))[1];
  await page.focus('#results > .card[data-index="1"]');
  const r2 = await searched(page, () => page.keyboard.press('m'));
  const p2 = parts(r2);
  check(p2.length && p2.filter(([k]) => k === 'image').length === 1 && p2.find(([k]) => k === 'image')[1] === first.file
    && !p2.some(([k]) => k === 'file'), 'more like this searches with that drawing alone');
  check(r2.data.results[0].file_name === first.file, 'a drawing is its own best match');
  // The URL is a bookmark: opening it runs the same search.
  const url = page.url();
  check(new URL(url).searchParams.getAll('image').length === 1, `the URL holds the query image (${url})`);
  const r3 = await searched(page, () => goto(page, url.slice(BASE.length)));
  check(r3.data.results.map((x) => x.file_name).join() === r2.data.results.map((x) => x.file_name).join(), 'the bookmark gives the same results');
  // A patent number adds its drawings as views.
  await page.fill('#image-name', hit.patent_id);
  await searched(page, () => page.press('#image-name', 'Enter'));
  check((await page.$$('#views .view')).length > 1, 'a patent number adds its drawings');
});

scenario('filters', async (t) => {
  const { page } = t;
  const hit = await someImage();
  await open(t, `/?image=${encodeURIComponent(hit.file_name)}&top_k=100`);
  await page.waitForFunction(() => Number(document.body.dataset.searches || 0) >= 1);
  const base = await searched(page, () => page.click('#search-btn'));
  const all = base.data.results;
  check(all.length > 10, 'an unfiltered search');
  const url = () => new URL(page.url()).searchParams;

  // Locarno class, then subclass.
  const cls = all.find((x) => x.loc_class).loc_class;
  let r = await searched(page, () => page.selectOption('#loc-class', cls.slice(0, 2)));
  check(r.data.results.length > 0 && r.data.results.every((x) => x.loc_class.startsWith(`${cls.slice(0, 2)}-`)), `class ${cls.slice(0, 2)} filters`);
  check(url().get('loc_class') === cls.slice(0, 2), 'the class is in the URL');
  check(/Locarno|·/.test(await page.textContent('#loc-class option:checked')), 'the class shows its name');
  r = await searched(page, () => page.selectOption('#loc-sub', cls));
  check(r.data.results.length > 0 && r.data.results.every((x) => x.loc_class === cls), `subclass ${cls} filters`);
  check((await cards(page)).every((c) => c.text.includes(cls)), 'the cards show the class');
  r = await searched(page, () => page.selectOption('#loc-class', ''));
  check(r.data.results.length === all.length, 'any class again');

  // Publication date range.
  const day = all[0].pub_date_iso;
  const next = new Date(Date.parse(day) + 86400000).toISOString().slice(0, 10);
  r = await searched(page, () => page.fill('#pub-from', next).then(() => page.dispatchEvent('#pub-from', 'change')));
  check(r.data.results.every((x) => x.pub_date_iso >= next), `published from ${next}`);
  check(url().get('pub_date_from') === next, 'the date is in the URL');
  r = await searched(page, () => page.fill('#pub-from', day).then(() => page.fill('#pub-to', day)).then(() => page.dispatchEvent('#pub-to', 'change')));
  check(r.data.results.length > 0 && r.data.results.every((x) => x.pub_date_iso === day), `published on ${day}`);
  await searched(page, () => page.click('#clear-filters'));

  // Applicant, assignee (case-insensitive substrings), country.
  const withApp = all.find((x) => x.applicant_name);
  const word = withApp.applicant_name.split(/\s+/)[0].toLowerCase();
  r = await searched(page, () => page.fill('#applicant', word).then(() => page.press('#applicant', 'Enter')));
  check(r.data.results.length > 0 && r.data.results.every((x) => x.applicant_name.toLowerCase().includes(word)), `applicant “${word}”`);
  check(url().get('applicant') === word, 'the applicant is in the URL');
  await searched(page, () => page.fill('#applicant', '').then(() => page.press('#applicant', 'Enter')));
  const withAsg = all.find((x) => x.assignee_name) || withApp;
  const aword = (withAsg.assignee_name || withAsg.applicant_name).split(/\s+/)[0].toUpperCase();
  if (withAsg.assignee_name) {
    r = await searched(page, () => page.fill('#assignee', aword).then(() => page.press('#assignee', 'Enter')));
    check(r.data.results.length > 0 && r.data.results.every((x) => (x.assignee_name || '').toUpperCase().includes(aword)), `assignee “${aword}”`);
    await searched(page, () => page.fill('#assignee', '').then(() => page.press('#assignee', 'Enter')));
  }
  const country = all.find((x) => x.applicant_country).applicant_country;
  r = await searched(page, () => page.fill('#country', country).then(() => page.press('#country', 'Enter')));
  check(r.data.results.length > 0 && r.data.results.every((x) => x.applicant_country === country), `country ${country}`);
  check(url().get('applicant_country') === country, 'the country is in the URL');
  check(/1 active/.test(await page.textContent('#filter-count')), 'the active filters are counted');
  await t.shot('filters');
  // Reloading keeps every option.
  const r2 = await searched(page, () => settle(page).then(() => page.reload()));
  check(r2.data.results.length === r.data.results.length && await page.inputValue('#country') === country, 'a reload keeps the filters');
});

scenario('grouped', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [VIEW1]);
  const r = await searched(page, () => page.check('#group'));
  check(r.status === 200, 'grouped search answered');
  const res = r.data.results;
  const ids = res.map((x) => x.patent_id);
  check(res.length > 0 && new Set(ids).size === ids.length, 'each patent once');
  check(res.every((x) => Array.isArray(x.images) && x.images.length > 0), 'each with its matching drawings');
  const cs = await cards(page);
  check(cs.length === res.length && cs.every((c, i) => c.patent === ids[i]), 'one card per patent');
  const strip = await page.$$eval('#results > .card', (els) => els.map((e) => e.querySelectorAll('.strip img').length));
  check(strip.every((n, i) => n === Math.min(6, res[i].images.length)), 'cards show the matching drawings');
  check(/patents? 1–/i.test(await page.textContent('#summary')), 'the summary counts patents');
  check(new URL(page.url()).searchParams.get('group_by_patent') === 'true', 'grouping is in the URL');
  await t.shot('grouped');
  await page.focus('#results > .card');
  const r2 = await searched(page, () => page.keyboard.press('g'));
  check(!r2.data.results[0].images, 'g turns grouping off');
});

scenario('keyboard', async (t) => {
  const { page } = t;
  await open(t);
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement.id) === 'q', '/ focuses the search box');
  // In the box "?" is a character: leave it first.
  await page.evaluate(() => document.activeElement.blur());
  await page.keyboard.press('?');
  check(await page.isVisible('#help-dialog'), '? shows the shortcuts');
  await page.keyboard.press('Escape');
  await eventually(() => page.isHidden('#help-dialog'), 'Escape closes them');
  await upload(t, [QUAD]);
  await page.keyboard.press('r');
  const focused = () => page.evaluate(() => document.activeElement?.dataset?.index);
  check(await focused() === '0', 'r focuses the first result');
  await page.keyboard.press('ArrowRight');
  check(await focused() === '1', 'ArrowRight moves to the next result');
  const cols = await page.evaluate(() => {
    const c = [...document.querySelectorAll('#results > .card')];
    return c.filter((x) => x.offsetTop === c[0].offsetTop).length;
  });
  await page.keyboard.press('ArrowDown');
  check(await focused() === String(1 + cols), `ArrowDown moves a row (${cols} columns)`);
  await page.keyboard.press('End');
  check(await focused() === '23', 'End goes to the last');
  await page.keyboard.press('Home');
  check(await focused() === '0', 'Home to the first');
  check(await page.evaluate(() => document.querySelectorAll('#results [tabindex="0"]').length) === 1, 'one tab stop in the grid');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail[open]');
  await page.waitForSelector('#drawings .drawing');
  await page.keyboard.press('Escape');
  await eventually(() => page.isHidden('#detail'), 'Escape closes the detail');
  await eventually(async () => await focused() === '0', 'focus returns to the result');
  const r = await searched(page, () => page.keyboard.press('n'));
  check(parts(r).some(([k, v]) => k === 'offset' && v === '24'), 'n turns the page');
});

scenario('detail', async (t) => {
  const { page } = t;
  await open(t);
  const r = await upload(t, [VIEW1]);
  const hit = r.data.results[0];
  const [pres] = await Promise.all([
    page.waitForResponse((x) => x.url().includes(`/api/patent/${hit.patent_id}`)),
    page.click('#results > .card[data-index="0"] .card-body'),
  ]);
  const p = (await pres.json()).data;
  await page.waitForSelector('#drawings .drawing');
  check((await page.$$('#drawings .drawing')).length === p.images.length && p.images.length === hit.image_count, 'every drawing of the patent');
  const title = await page.textContent('#detail-title');
  check(title.includes(hit.patent_id) && title.includes(hit.title), 'the title names the patent');
  const fields = await page.textContent('#detail-fields');
  for (const k of ['title', 'loc_class', 'pub_date_iso', 'filing_date_iso', 'applicant_name', 'inventor_names'])
    if (p[k]) check(fields.includes(String(p[k]).split(',')[0]), `the detail shows ${k}`);
  if (p.claim_text) check(fields.includes(p.claim_text.slice(0, 30)), 'the detail shows the claim');
  const href = await page.getAttribute('#uspto-link', 'href');
  const num = hit.patent_id.replace(/^D0*/, 'D');
  check(href === `https://ppubs.uspto.gov/pubwebapp/external.html?q=(${num}).pn.&db=USPAT`, `the USPTO link (${href})`);
  check(await page.$eval(`#drawings .drawing-btn[data-file="${hit.file_name}"]`, (b) => b.getAttribute('aria-pressed')) === 'true', 'the matching drawing is selected');
  await page.waitForFunction(() => [...document.querySelectorAll('#drawings img')].every((i) => i.complete && i.naturalWidth > 0));
  check(new URL(page.url()).searchParams.get('patent') === hit.patent_id, 'the open patent is in the URL');
  await t.shot('detail');
  // Next result with the arrow key.
  const next = r.data.results[1];
  await page.focus('#detail-close');
  await Promise.all([page.waitForResponse((x) => x.url().includes(`/api/patent/${next.patent_id}`)), page.keyboard.press('ArrowRight')]);
  await page.waitForFunction((id) => document.querySelector('#detail-title').textContent.startsWith(id), next.patent_id);
  await page.click('#detail-close');
  await eventually(() => !new URL(page.url()).searchParams.get('patent'), 'closing removes the patent from the URL');
});

scenario('compare', async (t) => {
  const { page } = t;
  await open(t);
  const r = await upload(t, [VIEW1, PHOTO]);
  await page.focus('#results > .card[data-index="0"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawings .drawing');
  await page.click('#compare-btn');
  await page.waitForSelector('#compare:not([hidden])');
  const loaded = () => page.waitForFunction(() => [...document.querySelectorAll('#compare .side img')].every((i) => i.complete && i.naturalWidth > 0));
  await loaded();
  check(await page.isVisible('#cmp-view'), 'a query view can be chosen with several views');
  check((await page.$$eval('#cmp-view option', (o) => o.length)) === 2, 'both views offered');
  const src = await page.getAttribute('#compare .side .img-drawing', 'src');
  check(src.includes(encodeURIComponent(r.data.results[0].file_name)) && src.includes('size=large'), 'the drawing at the large size');
  await page.click('#cmp-zoom-in');
  await page.keyboard.press('+');
  check(await page.textContent('#cmp-zoom-label') === '156%', `zoom in (${await page.textContent('#cmp-zoom-label')})`);
  const tf = await page.$$eval('#compare .side img', (els) => els.map((e) => e.style.transform));
  check(tf[0] === tf[1] && tf[0].includes('scale(1.5625)'), 'both sides zoom together');
  await t.shot('compare');
  await page.check('input[name="cmp-mode"][value="overlay"]');
  check(await page.isVisible('#compare .overlay .viewport'), 'overlay mode');
  await page.fill('#cmp-opacity', '30');
  await page.dispatchEvent('#cmp-opacity', 'input');
  check(await page.$eval('#compare .overlay .img-drawing', (e) => e.style.opacity) === '0.3', 'the opacity slider');
  await page.selectOption('#cmp-view', '1');
  await page.waitForFunction(() => document.querySelector('#compare .overlay .img-query').src.startsWith('blob:'));
  await t.shot('compare-overlay');
  await page.keyboard.press('Escape');
  check(await page.isVisible('#drawings') && await page.isVisible('#detail'), 'Escape leaves compare first');
  await page.keyboard.press('Escape');
  await eventually(() => page.isHidden('#detail'), 'then closes the detail');
});

scenario('paging', async (t) => {
  const { page } = t;
  await open(t, '/?top_k=5');
  await upload(t, [QUAD]);
  const page1 = (await cards(page)).map((c) => c.file);
  check(page1.length === 5, 'five per page');
  const r = await searched(page, () => page.click('#page-next'));
  check(parts(r).some(([k, v]) => k === 'offset' && v === '5'), 'offset 5 asked');
  const page2 = (await cards(page)).map((c) => c.file);
  check(page2.length === 5 && page2.every((f) => !page1.includes(f)), 'the next five');
  check(/Images 6–10/.test(await page.textContent('#summary')), 'ranks 6–10');
  check(new URL(page.url()).searchParams.get('page') === '2', 'the page is in the URL');
  await searched(page, () => page.click('#page-prev'));
  check((await cards(page)).map((c) => c.file).join() === page1.join(), 'back to the first page');
});

scenario('export', async (t) => {
  const { page } = t;
  await open(t, '/?top_k=5');
  const r = await upload(t, [QUAD]);
  // Every result of the query, not just this page: what the API returns at top_k 1000.
  const form = new FormData();
  form.append('file', new Blob([readFileSync(QUAD)], { type: 'image/png' }), 'quad.png');
  form.append('top_k', '1000');
  form.append('min_score', '0'); // as the page sends it (the API's default is the seed's 0.5)
  const all = (await apiJson('/api/search', { method: 'POST', body: form })).results;
  check(all.length > 5, 'more results than one page');
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  check(/\.csv$/.test(dl.suggestedFilename()), 'a .csv file');
  const csv = readFileSync(await dl.path(), 'utf8');
  writeFileSync(join(OUT, 'export.csv'), csv);
  const rows = parseCsv(csv);
  const head = rows[0];
  for (const col of ['score', 'file_name', 'patent_id', 'title', 'loc_class'])
    check(head.includes(col), `the CSV has a ${col} column (${head})`);
  const body = rows.slice(1);
  check(body.length === all.length, `one row per result: ${body.length} rows for ${all.length} results`);
  const fi = head.indexOf('file_name');
  const pi = head.indexOf('patent_id');
  const si = head.indexOf('score');
  check(body.every((row, i) => row[fi] === all[i].file_name && row[pi] === all[i].patent_id), 'the rows are the results, in order');
  check(Math.abs(Number(body[0][si]) - r.data.results[0].score) < 1e-3, 'with their scores');
  const [dj] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const json = JSON.parse(readFileSync(await dj.path(), 'utf8'));
  check(json.results.length === all.length && json.results[0].file_name === all[0].file_name, 'the JSON export too');
});

function parseCsv(text) {
  const rows = [];
  let row = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cur); cur = ''; } else if (c === '\n') { row.push(cur.replace(/\r$/, '')); rows.push(row); row = []; cur = ''; } else cur += c;
  }
  if (cur || row.length) { row.push(cur); rows.push(row); }
  return rows;
}

scenario('errors', async (t) => {
  const { page } = t;
  await open(t);
  // Not an image: 415 and a message saying what is accepted.
  t.expectHttp(415, /\/api\/search$/);
  t.expectHttp(415, /\/api\/preview$/); // the browser cannot show it either, and asks for a preview
  let r = await searched(page, () => page.setInputFiles('#file-input', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('this is not an image\n') }));
  check(r.status === 415, `a text file is refused with 415 (got ${r.status})`);
  let msg = await page.textContent('#results-message');
  check(/failed/.test(msg) && /JPEG, PNG, TIFF/.test(msg) && msg.includes(r.body.message), `the message explains (${msg})`);
  await page.waitForSelector('#views .view-error');
  msg = await page.textContent('#views .view-error');
  check(/not an image the server can read/.test(msg), `the view says why it has no preview (${msg})`);
  check(await page.isDisabled('#views .view button:has-text("Crop")'), 'and cannot be cropped');
  await t.shot('error');
  // Over the pixel limit: 413.
  t.expectHttp(413, /\/api\/search$/);
  t.expectHttp(413, /\/api\/preview$/); // if the browser cannot decode it either
  await page.click('#clear-views');
  r = await searched(page, () => page.setInputFiles('#file-input', img('bomb.png')));
  check(r.status === 413, `a pixel bomb is refused with 413 (got ${r.status})`);
  msg = await page.textContent('#results-message');
  check(/Too large/.test(msg), `the message says too large (${msg})`);
  // An empty result.
  await page.click('#clear-views');
  await page.fill('#min-score', '0.9999');
  await page.locator('#min-score').blur();
  r = await searched(page, () => page.setInputFiles('#file-input', QUAD));
  check(r.status === 200 && r.data.results.length === 0, 'nothing reaches 0.9999');
  msg = await page.textContent('#results-message');
  check(/No results/.test(msg) && /minimum score/.test(msg), `an empty result is explained (${msg})`);
  // An image that is not in the collection.
  t.expectHttp(404, /\/api\/image\/no-such-image\.png/);
  await page.fill('#image-name', 'no-such-image.png');
  await page.click('#add-by-name button[type=submit]');
  await page.waitForSelector('#toast.error');
  check(/No image named/.test(await page.textContent('#toast')), 'an unknown image name is reported');
  // A bookmark naming a missing image: the server's 404 message is shown.
  t.expectHttp(404, /\/api\/search$/);
  t.expectHttp(404, /\/api\/image\/gone\.png/); // its thumbnail in the query list
  r = await searched(page, () => goto(page, '/?image=gone.png'));
  check(r.status === 404, `a missing image in the URL: 404 (got ${r.status})`);
  msg = await page.textContent('#results-message');
  check(msg.includes(r.body.message), `the server's message is shown (${msg})`);
});

scenario('phone', async (t) => {
  const { page } = t;
  await page.setViewportSize({ width: 360, height: 740 });
  const hit = await someImage();
  await open(t, `/?image=${encodeURIComponent(hit.file_name)}&top_k=6`);
  await page.waitForFunction(() => document.querySelectorAll('#results > .card').length === 6);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(await overflow() <= 0, `no sideways scrolling at 360 px (${await overflow()} px too wide)`);
  await t.shot('phone');
  await page.evaluate(() => document.querySelector('#results-area').scrollIntoView());
  await t.shot('phone-results');
  await page.focus('#results > .card');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawings .drawing');
  const box = await page.$eval('#detail', (d) => d.getBoundingClientRect().width);
  check(box <= 360, 'the detail fits the screen');
  await page.keyboard.press('Escape');
  await page.click('[data-screen="admin"]');
  await page.waitForSelector('#stats .stat');
  check(await overflow() <= 0, 'the collection screen fits too');
});

// Labels, names, alt text, and text contrast (WCAG AA) of what is on screen.
const audit = () => {
    const out = [];
    const name = (el) => (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby'))?.textContent
      || (el.labels && [...el.labels].map((l) => l.textContent).join(' ')) || el.textContent || el.title || '').trim();
    for (const el of document.querySelectorAll('input:not([type=hidden]):not([hidden]), select, textarea')) {
      if (el.type === 'file' || el.type === 'radio') continue;
      if (!name(el)) out.push(`unlabelled ${el.tagName.toLowerCase()}#${el.id}`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) if (!name(el)) out.push(`nameless ${el.tagName.toLowerCase()}#${el.id}`);
    for (const el of document.querySelectorAll('img')) if (!el.hasAttribute('alt')) out.push(`img without alt: ${el.src}`);
    if (!document.documentElement.lang) out.push('no lang');
    // Contrast of text against its background (WCAG AA: 4.5, large text 3).
    const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
      .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
    const bg = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const seen = new Set();
    for (const el of document.querySelectorAll('body *')) {
      if (!el.offsetParent || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || Number(cs.opacity) < 1) continue;
      if (el.closest(':disabled, [disabled], .score')) continue; // disabled controls are exempt; .score sits on its bar (checked below)
      const fg = rgb(cs.color);
      const L1 = lum(fg.slice(0, 3));
      const L2 = lum(bg(el));
      const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
      const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
      const key = `${el.tagName}.${el.className}`;
      if (ratio < (large ? 3 : 4.5) && !seen.has(key)) { seen.add(key); out.push(`contrast ${ratio.toFixed(2)} for ${key}: “${el.textContent.trim().slice(0, 30)}”`); }
    }
    return out;
  };

scenario('accessibility', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [QUAD]);
  const issues = await page.evaluate(audit);
  check(!issues.length, `light theme: ${issues.slice(0, 4).join('; ')}`);
  await page.emulateMedia({ colorScheme: 'dark' });
  const dark = await page.evaluate(audit);
  check(!dark.length, `dark theme: ${dark.slice(0, 4).join('; ')}`);
  await page.emulateMedia({ colorScheme: 'light' });
  // Tab order: from the top, the query comes before the options, and the results after.
  const order = [];
  await page.focus('body');
  for (let i = 0; i < 60 && order.length < 60; i++) {
    await page.keyboard.press('Tab');
    order.push(await page.evaluate(() => document.activeElement.id || document.activeElement.className));
  }
  const at = (id) => order.indexOf(id);
  check(at('add-files') >= 0 && at('add-files') < at('collection') && at('collection') < at('search-btn'), `focus order: query, options, search (${order.slice(0, 12)})`);
  check(await page.$eval('#live', (e) => e.getAttribute('aria-live')) === 'polite' && /found/.test(await page.textContent('#live')), 'results are announced');
  // Focus is visible.
  await page.focus('#search-btn');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Tab');
  const ring = await page.$eval('#search-btn', (e) => getComputedStyle(e).outlineStyle);
  check(ring !== 'none', 'a focus ring on buttons');
});

scenario('import', async (t) => {
  const { page } = t;
  await page.addInitScript(() => {
    window.__events = [];
    const ES = window.EventSource;
    window.EventSource = class extends ES {
      constructor(...a) {
        super(...a);
        this.addEventListener('progress', (e) => window.__events.push(['progress', JSON.parse(e.data).progress]));
        this.addEventListener('done', (e) => window.__events.push(['done', JSON.parse(e.data).status]));
      }
    };
  });
  const before = await apiJson('/api/collection/stats');
  await open(t, '/?screen=admin');
  await page.waitForSelector('#stats .stat');
  check((await page.textContent('#stats')).includes(String(before.patents)), 'the stats show the patents');
  const options = await page.$$eval('#import-path option', (o) => o.map((x) => x.value));
  const tar = options.find((v) => /I\d{8}\.tar$/.test(v));
  check(tar, `a weekly archive is offered (${options})`);
  await page.selectOption('#import-path', tar);
  const [start] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/batch/start')),
    page.click('#import-start'),
  ]);
  check(start.status() === 200, `the import started (${start.status()})`);
  await page.waitForSelector('#import-progress:not([hidden])');
  await t.shot('import-running');
  await page.waitForSelector('#import-progress[data-status="done"]', { timeout: 90000 });
  const events = await page.evaluate(() => window.__events);
  check(events.some(([k]) => k === 'progress') && events.at(-1)[0] === 'done', `progress events, then done (${JSON.stringify(events).slice(0, 120)})`);
  check(await page.$eval('#import-bar', (b) => b.value) === 1, 'the bar is full');
  check(/stored/.test(await page.textContent('#import-counts')), 'the counts are shown');
  await page.waitForFunction(() => document.querySelector('#jobs tbody tr')?.dataset.status === 'done');
  const after = await apiJson('/api/collection/stats');
  check(after.patents > before.patents, 'the collection grew');
  await page.waitForFunction((n) => document.querySelector('#stats').textContent.includes(String(n)), after.patents);
  await t.shot('admin');
});

// ---- issue 17: the Collection screen and URLs

// An EventSource the test drives: the page's import progress without an
// import (a real one of the demo week is over before it can be watched).
// window.__emit(type, data) sends an event to the latest stream.
const fakeEventSource = () => {
  window.__sources = [];
  window.EventSource = class extends EventTarget {
    constructor(url) { super(); this.url = String(url); this.readyState = 1; this.onerror = null; window.__sources.push(this); }
    close() { this.readyState = 2; }
  };
  window.__emit = (type, data) => window.__sources.at(-1).dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
};
const envelope = (data) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ code: 0, message: 'success', data }) });
const fakeJob = (job, more = {}) => ({ job, collection: 'patent_images', kind: 'import', status: 'running', source: '/srv/week/I20221101.tar',
  done: 0, skipped: 0, failed: 0, started_at: Math.floor(Date.now() / 1000), ...more });

async function openAdmin(t) {
  await open(t, '/?screen=admin');
  await t.page.waitForSelector('#stats .stat');
  await t.page.waitForFunction(() => document.querySelectorAll('#import-path option').length > 0);
}

// Item 3: an unknown ETA (-1, or 0 before the end) reads as unknown, never
// "about 0 s left"; the bar follows the job's progress and a running job
// never reads 100%.
scenario('import-eta-unknown', async (t) => {
  const { page } = t;
  await page.addInitScript(fakeEventSource);
  await page.route('**/api/batch/start', (r) => r.fulfill(envelope({ ...fakeJob(901), path: '/srv/week/I20221101.tar', events_url: '/api/batch/events/901' })));
  await openAdmin(t);
  await page.click('#import-start');
  await page.waitForFunction(() => window.__sources.length === 1);
  check((await page.evaluate(() => window.__sources[0].url)).endsWith('/api/batch/events/901'), 'the page follows the started job');
  const shown = () => page.evaluate(() => ({ pct: document.querySelector('#import-pct').textContent, counts: document.querySelector('#import-counts').textContent,
    bar: document.querySelector('#import-bar').value, start: document.querySelector('#import-start').disabled }));
  await page.evaluate((j) => window.__emit('progress', j), fakeJob(901, { progress: 0.4, eta_s: -1, done: 40, items_per_s: 0 }));
  let s = await shown();
  check(s.pct === '40%' && Math.abs(s.bar - 0.4) < 1e-6, `the bar follows progress 0.4 (${s.pct}, ${s.bar})`);
  await t.shot('import-eta-unknown');
  check(/unknown/.test(s.counts) && !/left/.test(s.counts.replace('time left unknown', '')), `eta_s -1 reads as unknown (${s.counts})`);
  check(s.start, 'Start is off while the import runs');
  await page.evaluate((j) => window.__emit('progress', j), fakeJob(901, { progress: 1, eta_s: 0, done: 160, items_per_s: 8 }));
  s = await shown();
  check(!/about 0 s/.test(s.counts) && /unknown/.test(s.counts), `no "about 0 s left" before the end (${s.counts})`);
  check(s.pct !== '100%' && s.bar < 1, `a running job is not at 100% (${s.pct})`);
  await page.evaluate((j) => window.__emit('progress', j), fakeJob(901, { progress: 0.5, eta_s: 12.4, done: 150, items_per_s: 8 }));
  s = await shown();
  check(/about 12 s left/.test(s.counts) && s.pct === '50%', `a known ETA is shown (${s.counts}, ${s.pct})`);
  await page.evaluate((j) => window.__emit('done', j), fakeJob(901, { status: 'done', progress: 1, eta_s: 0, done: 300, finished_at: Math.floor(Date.now() / 1000) }));
  s = await shown();
  check(s.pct === 'done' && s.bar === 1 && !/unknown|left/.test(s.counts) && !s.start, `done: a full bar, Start on again (${JSON.stringify(s)})`);
});

// Item 4: reloading the Collection screen during an import follows the
// running job again, and Start stays off until it ends.
scenario('import-reattach', async (t) => {
  const { page } = t;
  await page.addInitScript(fakeEventSource);
  let running = true;
  await page.route('**/api/batch/jobs*', async (r) => {
    const real = await (await r.fetch()).json();
    if (running) real.data.jobs.unshift(fakeJob(902, { done: 30, progress: 0.3 }));
    await r.fulfill(envelope(real.data));
  });
  for (const how of ['a direct load', 'a reload']) {
    if (how === 'a direct load') await openAdmin(t);
    else { await settle(page); await page.reload(); await page.waitForSelector('body[data-ready]', { state: 'attached' }); await page.waitForSelector('#stats .stat'); }
    await eventually(() => page.evaluate(() => window.__sources.some((e) => e.url.endsWith('/api/batch/events/902'))), `after ${how}, the page follows the running job`);
    await page.waitForFunction(() => document.querySelectorAll('#import-path option').length > 0);
    check(await page.isVisible('#import-progress') && await page.getAttribute('#import-progress', 'data-job') === '902', `after ${how}, its progress is shown`);
    check(await page.isDisabled('#import-start'), `after ${how}, Start is off while it runs`);
    await page.evaluate((j) => window.__emit('progress', j), fakeJob(902, { progress: 0.5, eta_s: 30, done: 50 }));
    check(await page.textContent('#import-pct') === '50%' && /50 stored/.test(await page.textContent('#import-counts')), `after ${how}, the progress is live`);
  }
  // Leaving the screen and coming back neither opens a second stream nor turns Start on.
  await page.click('[data-screen="search"]');
  await page.click('[data-screen="admin"]');
  await page.waitForSelector('#stats .stat');
  await settle(page);
  check(await page.evaluate(() => window.__sources.length) === 1, 'one stream for the job');
  check(await page.isDisabled('#import-start'), 'Start is still off');
  running = false;
  await page.evaluate((j) => window.__emit('done', j), fakeJob(902, { status: 'done', done: 100, progress: 1 }));
  await eventually(() => page.isEnabled('#import-start'), 'Start is on once the job is done');
  check(await page.textContent('#import-pct') === 'done', 'the job reads done');
});

// Item 5: a shared link's dates in the seed's YYYYMMDD form filter (the
// date inputs hold yyyy-mm-dd); a date that is not one is reported.
scenario('url-dates', async (t) => {
  const { page } = t;
  const hit = await someImage();
  const day = hit.pub_date_iso; // every demo patent is published that day
  const compact = day.replaceAll('-', '');
  const r = await searched(page, () => open(t, `/?image=${encodeURIComponent(hit.file_name)}&pub_date_from=${compact}&pub_date_to=${compact}&top_k=100`));
  check(await page.inputValue('#pub-from') === day && await page.inputValue('#pub-to') === day, `the date inputs show ${day} (${await page.inputValue('#pub-from')}, ${await page.inputValue('#pub-to')})`);
  const sent = (k) => parts(r).find(([n]) => n === k)?.[1];
  check([day, compact].includes(sent('pub_date_from')) && [day, compact].includes(sent('pub_date_to')), `the search has the dates (${sent('pub_date_from')}, ${sent('pub_date_to')})`);
  check(r.status === 200 && r.data.results.length > 0 && r.data.results.every((x) => x.pub_date_iso === day), 'and they filter');
  const url = new URL(page.url()).searchParams;
  check([day, compact].includes(url.get('pub_date_from')) && [day, compact].includes(url.get('pub_date_to')), `the URL keeps the dates (${page.url()})`);
  check(/2 active/.test(await page.textContent('#filter-count')), 'they count as filters');
  // The next day alone filters everything out: the date really is applied.
  // (Only that day: the import scenario may have added a later week.)
  const next = new Date(Date.parse(day) + 86400000).toISOString().slice(0, 10);
  const r2 = await searched(page, () => goto(page, `/?image=${encodeURIComponent(hit.file_name)}&pub_date_from=${next.replaceAll('-', '')}&pub_date_to=${next.replaceAll('-', '')}`));
  check(r2.data.results.length === 0 && await page.inputValue('#pub-from') === next, `from ${next}: no results (${r2.data.results.length})`);
  // Not a date: said so, not dropped in silence.
  const r3 = await searched(page, () => goto(page, `/?image=${encodeURIComponent(hit.file_name)}&filing_date_to=20221399`));
  const notice = await page.textContent('#notices').catch(() => '');
  check(/20221399/.test(notice) && /not a date/.test(notice), `a notice names the bad date (${notice})`);
  check(r3.status === 200, 'the search still runs');
  // Setting the date by hand clears the notice.
  await page.click('.more-filters summary');
  await searched(page, () => page.fill('#filing-to', '2022-12-31').then(() => page.dispatchEvent('#filing-to', 'change')));
  check(!/20221399/.test(await page.textContent('#notices')), 'the notice goes once the date is set');
});

// Item 7: "/" on the Collection screen goes to Search, and so does the URL.
scenario('slash-from-collection', async (t) => {
  const { page } = t;
  await openAdmin(t);
  await page.focus('#admin h2');
  await page.keyboard.press('/');
  check(await page.isVisible('#search') && await page.isHidden('#admin'), 'the Search screen is shown');
  check(await page.evaluate(() => document.activeElement.id) === 'q', '/ focuses the search box');
  await eventually(() => !new URL(page.url()).searchParams.has('screen'), `the URL leaves the Collection screen (${page.url()})`);
  await settle(page);
  await page.goBack();
  await eventually(() => page.isVisible('#admin'), 'Back returns to the Collection screen');
});

// Item 7: a direct load of the Collection screen names the Locarno classes,
// also when the class list answers after the statistics (on a large
// collection it counts every class; here its answer is held back).
scenario('collection-class-names', async (t) => {
  const { page } = t;
  const stats = await apiJson('/api/collection/stats');
  check(stats.top_loc_classes.length > 0, 'the demo data has classes');
  await page.route('**/api/locarno*', async (r) => {
    const res = await r.fetch();
    await new Promise((ok) => setTimeout(ok, 700));
    await r.fulfill({ response: res });
  });
  await openAdmin(t);
  await page.waitForSelector('#top-classes .bar-label');
  const labels = await page.$$eval('#top-classes .bar-label', (els) => els.map((e) => e.textContent));
  check(labels.length === stats.top_loc_classes.length && labels.every((l) => /^\d{2}(-\d{2})? \S/.test(l)), `every class is named (${labels})`);
  check(labels.some((l) => /^06-01 Furnishing/.test(l)) || !stats.top_loc_classes.some((c) => c.loc_class === '06-01'), `06-01 reads Furnishing (${labels})`);
});

// Item 7: "Into collection" with a name the server does not have is refused
// before anything starts; a refused start shows the server's reason, with
// no progress bar standing at 0%.
scenario('import-unknown-collection', async (t) => {
  const { page } = t;
  let starts = 0;
  page.on('request', (r) => { if (r.url().endsWith('/api/batch/start')) starts++; });
  await openAdmin(t);
  await page.fill('#import-collection', 'no_such_collection');
  await page.click('#import-start');
  await page.waitForSelector('#import-start-error:not([hidden]), #import-error:not([hidden])');
  check(await page.isHidden('#import-progress'), 'no progress bar');
  const msg = await page.textContent('#import-start-error');
  check(/no_such_collection/.test(msg) && /patent_images/.test(msg), `the message names the collection and those there are (${msg})`);
  check(starts === 0, 'nothing was started');
  const names = await page.$$eval('#import-collections option', (o) => o.map((x) => x.value));
  check(names.includes('patent_images'), `the field suggests the collections (${names})`);
  check(await page.isEnabled('#import-start'), 'Start is on again');
  check(await page.getAttribute('#import-collection', 'aria-invalid') === 'true', 'the field is marked invalid');
  await t.shot('import-unknown-collection');
  // The server refuses (an import already running): its reason, no bar.
  t.expectHttp(409, /\/api\/batch\/start$/);
  await page.route('**/api/batch/start', (r) => r.fulfill({ status: 409, contentType: 'application/json',
    body: JSON.stringify({ code: 409, message: 'an import into patent_images is already running' }) }));
  await page.fill('#import-collection', 'patent_images');
  await page.click('#import-start');
  await page.waitForFunction(() => /already running/.test(document.querySelector('#import-start-error').textContent));
  check(await page.isHidden('#import-progress') && await page.isEnabled('#import-start'), 'a refused start: no bar, Start on');
  check(await page.getAttribute('#import-collection', 'aria-invalid') === 'false', 'the field is not blamed');
});

// ---- issue 17: results, patents and Compare

// The collection of images from a plain folder (see the top of this file).
const FOLDER = 'plain_folder';

// A result without a patent opens its drawing: shown large, compared with
// the query, searched with; no /api/patent/null, no "no patent null".
scenario('no-patent', async (t) => {
  const { page } = t;
  const patentCalls = [];
  page.on('request', (r) => { if (r.url().includes('/api/patent/')) patentCalls.push(r.url()); });
  await open(t, `/?collection=${FOLDER}`);
  const r = await upload(t, [PHOTO]); // lamp-photo.jpg is a copy of it
  check(r.status === 200 && r.data.results.length === 2, `both images of ${FOLDER} found (HTTP ${r.status}, ${r.data?.results?.length} results)`);
  const [hit, other] = r.data.results;
  check(hit.file_name === 'lamp-photo.jpg' && !hit.patent_id && !other.patent_id, `the results have no patent (${hit.file_name}: ${hit.patent_id})`);
  const cs = await cards(page);
  check(/no patent/.test(cs[0].text) && !/null/.test(cs[0].text + cs[0].label), `the card says it has no patent (${cs[0].text})`);
  await page.click('#results > .card[data-index="0"] .card-body');
  await page.waitForSelector('#detail[open]');
  await page.waitForSelector('#drawings .drawing');
  const title = await page.textContent('#detail-title');
  check(title.includes(hit.file_name) && !/null/.test(title), `the dialog is titled by the file (${title})`);
  check(!/null/.test(await page.textContent('#detail')), 'no "null" anywhere in the dialog');
  check(!(await page.$('#uspto-link')), 'no USPTO link');
  check(!new URL(page.url()).searchParams.has('patent'), `no patent in the URL (${page.url()})`);
  await page.waitForFunction(() => [...document.querySelectorAll('#drawings img')].every((i) => i.complete && i.naturalWidth > 0));
  check((await page.$$('#drawings .drawing')).length === 1, 'the drawing is shown');
  await t.shot('no-patent');
  // Enlarge: "Open large" is the large rendition of this collection's image.
  const large = await page.getAttribute('#drawing-actions a:has-text("Open large")', 'href');
  const lres = await fetch(new URL(large, BASE));
  await lres.arrayBuffer();
  check(lres.ok && /jpeg/.test(lres.headers.get('content-type')), `Open large shows the drawing (${large}: HTTP ${lres.status})`);
  // Compare with the query.
  await page.click('#compare-btn');
  await page.waitForSelector('#compare:not([hidden])');
  await page.waitForFunction(() => [...document.querySelectorAll('#compare .side img')].every((i) => !i.hidden && i.complete && i.naturalWidth > 0));
  const src = await page.getAttribute('#compare .side .img-drawing', 'src');
  check(src.includes('lamp-photo.jpg') && src.includes('size=large'), `the drawing is compared at the large size (${src})`);
  check(!/null/.test(await page.textContent('#cmp-drawing-cap')), 'the caption names no null patent');
  await page.keyboard.press('Escape');
  await page.waitForSelector('#compare', { state: 'hidden' });
  // The next result, also without a patent.
  await page.focus('#detail-close');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((f) => document.querySelector('#detail-title').textContent.includes(f), other.file_name);
  await page.waitForFunction(() => [...document.querySelectorAll('#drawings img')].every((i) => i.complete && i.naturalWidth > 0));
  // More like this: a query of that image, its thumbnail shown.
  const r2 = await searched(page, () => page.click('#drawing-actions button:has-text("More like this")'));
  check(r2.status === 200 && parts(r2).some(([k, v]) => k === 'image' && v === other.file_name), 'more like this searches with the drawing');
  await page.waitForFunction(() => document.querySelector('#views .view img')?.naturalWidth > 0);
  // Grouped: the cards without a patent say so, and open as drawings.
  const r3 = await searched(page, () => page.check('#group'));
  const groups = r3.data?.results || [];
  check(r3.status === 200 && groups.length > 0 && groups.every((g) => !g.patent_id && g.images?.length), `groups without a patent (${JSON.stringify(groups.map((x) => x.patent_id))})`);
  const gc = await cards(page);
  check(gc.length === groups.length && gc.every((c) => /no patent/.test(c.text) && !/null/.test(c.text + c.label)), `the grouped cards say they have no patent (${gc.map((c) => c.text)})`);
  await page.click('#results > .card[data-index="0"] .card-body');
  await page.waitForSelector('#drawings .drawing');
  check((await page.$$('#drawings .drawing')).length === groups[0].images.length, 'the drawings of the group');
  await page.waitForFunction(() => [...document.querySelectorAll('#drawings img')].every((i) => i.complete && i.naturalWidth > 0));
  check(patentCalls.length === 0, `no patent was asked for (${patentCalls})`);
  await page.keyboard.press('Escape');
  await eventually(() => page.isHidden('#detail'), 'Escape closes it');
});

// Back while a patent is open: the dialog of the later list goes; Forward
// opens it again, in its own list.
scenario('back-patent', async (t) => {
  const { page } = t;
  const hit = await someImage();
  await open(t, `/?image=${encodeURIComponent(hit.file_name)}`);
  await page.waitForFunction(() => Number(document.body.dataset.searches || 0) >= 1);
  await page.focus('#results > .card[data-index="3"]');
  const r2 = await searched(page, () => page.keyboard.press('m')); // a second search, a new history entry
  const list2 = r2.data.results;
  await page.focus('#results > .card[data-index="2"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction((id) => document.querySelector('#detail-title').textContent.startsWith(id), list2[2].patent_id);
  await eventually(() => new URL(page.url()).searchParams.get('patent') === list2[2].patent_id, 'the patent is in the URL');
  const r1 = await searched(page, () => page.goBack());
  check(r1.status === 200 && parts(r1).some(([k, v]) => k === 'image' && v === hit.file_name), 'Back runs the first search');
  await eventually(() => page.isHidden('#detail'), 'Back closes the patent opened from the other list');
  check(!new URL(page.url()).searchParams.has('patent'), `no patent in the URL after Back (${page.url()})`);
  await searched(page, () => page.goForward());
  await page.waitForSelector('#detail[open]');
  await page.waitForFunction((id) => document.querySelector('#detail-title').textContent.startsWith(id), list2[2].patent_id);
  const at = list2.findIndex((x) => x.patent_id === list2[2].patent_id);
  check(await page.textContent('#detail-pos') === `Result ${at + 1}`, `Forward reopens the patent at its place in its list (${await page.textContent('#detail-pos')})`);
  const next = list2[at + 1];
  await page.focus('#detail-close');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((id) => document.querySelector('#detail-title').textContent.startsWith(id), next.patent_id);
  await page.keyboard.press('Escape');
  await eventually(() => page.isHidden('#detail'), 'Escape closes it');
});

// A patent number added twice adds its drawings once; a full query says so.
scenario('patent-views', async (t) => {
  const { page } = t;
  const form = new FormData();
  form.append('file', new Blob([readFileSync(QUAD)], { type: 'image/png' }), 'quad.png');
  form.append('top_k', '200');
  form.append('group_by_patent', 'true');
  const pats = (await apiJson('/api/search', { method: 'POST', body: form })).results;
  const two = pats.find((x) => x.image_count >= 2 && x.image_count <= 6);
  const another = pats.find((x) => x.patent_id !== two?.patent_id && x.image_count >= 1);
  check(two && another, 'patents with 2 to 6 drawings, and another');
  const n = two.image_count;
  await open(t);
  const viewCount = () => page.$$eval('#views .view', (v) => v.length);
  await page.fill('#image-name', two.patent_id);
  await searched(page, () => page.press('#image-name', 'Enter'));
  check(await viewCount() === n, `its ${n} drawings added (${await viewCount()} views)`);
  await page.fill('#image-name', two.patent_id);
  await page.press('#image-name', 'Enter');
  await page.waitForFunction((k) => /already/.test(document.querySelector('#toast').textContent) || document.querySelectorAll('#views .view').length > k, n);
  check(await viewCount() === n, `a second time adds nothing (${await viewCount()} views)`);
  check(/already/.test(await page.textContent('#toast')), `and says they are already there (${await page.textContent('#toast')})`);
  // Fill the query with uploads, then ask for another patent.
  const files = [VIEW1, VIEW2, PHOTO, QUAD, img('quad.jpg'), img('quad.webp')].slice(0, 8 - n);
  await upload(t, files);
  check(await viewCount() === 8, `8 views (${await viewCount()})`);
  await page.fill('#image-name', another.patent_id);
  await page.press('#image-name', 'Enter');
  await page.waitForFunction(() => /at most|no drawings/.test(document.querySelector('#toast').textContent));
  const toast = await page.textContent('#toast');
  check(/at most 8 views/.test(toast) && !/no drawings/.test(toast), `a full query says so (${toast})`);
  check(await viewCount() === 8, 'still 8 views');
});

// A preview that failed while the server could not be reached comes once it can.
scenario('preview-retry', async (t) => {
  const { page } = t;
  await open(t);
  const down = /\/api\/(preview|search)$/;
  t.expectFailure(down);
  await page.route(down, (route) => route.abort('connectionrefused'));
  const before = await searches(page);
  await page.setInputFiles('#file-input', TIFF);
  await page.waitForSelector('#views .view-error');
  check(/reach/.test(await page.textContent('#views .view-error')), `the view says the server cannot be reached (${await page.textContent('#views .view-error')})`);
  await page.waitForFunction((n) => Number(document.body.dataset.searches || 0) > n, before[0]);
  check(/Cannot reach/.test(await page.textContent('#results-message')), 'the search failed too');
  await page.unroute(down);
  // The server is back: the preview comes without the user asking.
  await page.waitForFunction(() => document.querySelector('#views .view img')?.naturalWidth > 0);
  check(!(await page.$('#views .view-error')), 'the error is gone');
  check(await page.isEnabled('#views .view button:has-text("Crop")'), 'the view can be cropped');
  const r = await searched(page, () => page.click('#search-btn'));
  check(r.status === 200 && r.data.results.length > 0, 'and searched');
});

// In Compare the arrow keys work the focused radio group or select; on the
// images they pan.
scenario('compare-keys', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [VIEW1, PHOTO]);
  await page.focus('#results > .card[data-index="0"]');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#drawings .drawing');
  await page.click('#compare-btn');
  await page.waitForSelector('#compare:not([hidden])');
  await page.waitForFunction(() => [...document.querySelectorAll('#compare .side img')].every((i) => i.complete && i.naturalWidth > 0));
  const tf = () => page.$eval('#compare .overlay .img-drawing', (e) => e.style.transform);
  const still = await tf();
  await page.focus('input[name="cmp-mode"][value="side"]');
  await page.keyboard.press('ArrowRight');
  await eventually(() => page.isChecked('input[name="cmp-mode"][value="overlay"]'), 'ArrowRight on the mode picks Overlay');
  await eventually(() => page.isVisible('#compare .overlay .viewport'), 'the overlay is shown');
  check(await tf() === still, `and the image did not move (${await tf()})`);
  await page.focus('#cmp-view');
  await page.keyboard.press('ArrowDown');
  await eventually(async () => await page.inputValue('#cmp-view') === '1', 'ArrowDown on the view select picks the next view');
  check(await tf() === still, `and the image did not move (${await tf()})`);
  await page.focus('#compare');
  await page.keyboard.press('ArrowRight');
  check(/translate\(-40px/.test(await tf()), `on the images the arrows pan (${await tf()})`);
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await eventually(() => page.isHidden('#detail'), 'Escape closes the dialog');
});

// Per page shows the number of results a search asks for.
scenario('per-page', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [QUAD]);
  for (const [typed, used] of [['5000', '1000'], ['0', '1'], ['-3', '1'], ['7', '7']]) {
    await page.fill('#top-k', typed);
    const r = await searched(page, () => page.locator('#top-k').blur());
    const sent = parts(r).find(([k]) => k === 'top_k')?.[1];
    check(sent === used, `${typed} searches with ${used} (sent ${sent})`);
    check(await page.inputValue('#top-k') === used, `Per page shows ${used} after ${typed} (shows ${await page.inputValue('#top-k')})`);
    check(new URL(page.url()).searchParams.get('top_k') === used, `the URL says ${used} (${page.url()})`);
  }
  const hit = await someImage();
  await searched(page, () => goto(page, `/?image=${encodeURIComponent(hit.file_name)}&top_k=5000`));
  check(await page.inputValue('#top-k') === '1000', `a URL's top_k=5000 shows 1000 (${await page.inputValue('#top-k')})`);
});

// "Too many pixels" says what helps: cropping cannot (the server checks the
// whole image's size before it crops).
scenario('pixel-limit', async (t) => {
  const { page } = t;
  await open(t);
  t.expectHttp(413, /\/api\/search$/);
  t.expectHttp(413, /\/api\/preview$/);
  const r = await searched(page, () => page.setInputFiles('#file-input', img('bomb.png')));
  check(r.status === 413, `a pixel bomb is refused with 413 (got ${r.status})`);
  const msg = await page.textContent('#results-message');
  check(/Too large/.test(msg) && msg.includes(r.body.message), `the server's reason is shown (${msg})`);
  check(!/crop it/i.test(msg), `cropping is not suggested, it cannot help (${msg})`);
  check(/scale the image down|fewer pixels/i.test(msg), `what helps is said (${msg})`);
});

// ---- issue 17: found by attacking the fixes

// A shared link's values that the API refuses (page past offset 9000, a date
// before 1790, a min_score outside -1..1 or not a number) must not turn the
// search into "The search failed": like Per page and a bad date, the page
// uses what it can, and says so.
scenario('url-out-of-range', async (t) => {
  const { page } = t;
  const hit = await someImage();
  const q = `/?image=${encodeURIComponent(hit.file_name)}`;
  const sent = (r, k) => parts(r).find(([n]) => n === k)?.[1];
  const notices = () => page.textContent('#notices').catch(() => '');

  const r1 = await searched(page, () => open(t, `${q}&page=1000`));
  check(r1.status === 200, `page=1000 still searches (${r1.status} ${r1.body?.message})`);
  check(Number(sent(r1, 'offset') || 0) <= 9000, `with an offset the API takes (${sent(r1, 'offset')})`);
  check(Number(new URL(page.url()).searchParams.get('page')) * 24 - 24 <= 9000, `the URL names that page (${page.url()})`);
  check(/page/i.test(await notices()) && /1000/.test(await notices()), `a notice says page 1000 is out of reach (${await notices()})`);

  const r2 = await searched(page, () => goto(page, `${q}&pub_date_from=1700-01-01`));
  check(r2.status === 200, `a date before 1790 still searches (${r2.status} ${r2.body?.message})`);
  check(/1700-01-01/.test(await notices()), `a notice names the date (${await notices()})`);

  const r3 = await searched(page, () => goto(page, `${q}&min_score=5`));
  check(r3.status === 200, `min_score=5 still searches (${r3.status} ${r3.body?.message})`);
  check(sent(r3, 'min_score') === '1' && await page.inputValue('#min-score') === '1', `with 1, shown (sent ${sent(r3, 'min_score')}, shows ${await page.inputValue('#min-score')})`);
  check(/min_score/.test(await notices()), `a notice names min_score (${await notices()})`);

  const r4 = await searched(page, () => goto(page, `${q}&min_score=abc`));
  check(r4.status === 200 && /abc/.test(await notices()), `min_score=abc is named, not dropped in silence (${await notices()})`);

  // JavaScript's number syntax is not the API's: 0b1 goes out as 1.
  const r6 = await searched(page, () => goto(page, `${q}&min_score=0b1`));
  check(r6.status === 200 && sent(r6, 'min_score') === '1', `min_score=0b1 searches with 1 (${r6.status}, sent ${sent(r6, 'min_score')})`);

  // 1e3 is a number (a number input takes it): 1000, not the 1 before the "e".
  const r5 = await searched(page, () => goto(page, `${q}&top_k=1e3`));
  check(sent(r5, 'top_k') === '1000' && await page.inputValue('#top-k') === '1000', `top_k=1e3 is 1000 (sent ${sent(r5, 'top_k')}, shows ${await page.inputValue('#top-k')})`);
});

// Typed by hand: Min. score outside -1..1 and a date before 1790 are what
// the field shows and the search uses, not a 400.
scenario('form-out-of-range', async (t) => {
  const { page } = t;
  await open(t);
  await upload(t, [QUAD]);
  for (const [typed, used] of [['5', '1'], ['-3', '-1'], ['0.25', '0.25']]) {
    await page.fill('#min-score', typed);
    const r = await searched(page, () => page.locator('#min-score').blur());
    const sent = parts(r).find(([k]) => k === 'min_score')?.[1];
    check(r.status === 200 && sent === used, `Min. score ${typed} searches with ${used} (sent ${sent}, ${r.status})`);
    check(await page.inputValue('#min-score') === used, `Min. score shows ${used} after ${typed} (shows ${await page.inputValue('#min-score')})`);
  }
  await page.fill('#min-score', '');
  await searched(page, () => page.locator('#min-score').blur());
  await page.fill('#top-k', '1e3');
  const rk = await searched(page, () => page.locator('#top-k').blur());
  const k = parts(rk).find(([n]) => n === 'top_k')?.[1];
  check(k === '1000' && await page.inputValue('#top-k') === '1000', `Per page 1e3 is 1000 (sent ${k}, shows ${await page.inputValue('#top-k')})`);
  const r = await searched(page, () => page.fill('#pub-from', '1700-01-01').then(() => page.dispatchEvent('#pub-from', 'change')));
  check(r.status === 200, `a date before 1790 typed by hand still searches (${r.status} ${r.body?.message})`);
  const said = `${await page.textContent('#toast')} ${await page.textContent('#notices')}`;
  check(/1790/.test(said), `the page says dates start in 1790 (${said})`);
});

// The stream of a running import ends without its `done` (the server
// restarting drains it, a proxy cuts it): the job still reads running, so
// the page follows it again instead of leaving a frozen bar with Start on.
// And when the server could not be reached, coming back to the screen shows
// how the job ended (here interrupted), not the old error over stale numbers.
scenario('import-stream-lost', async (t) => {
  const { page } = t;
  await page.addInitScript(fakeEventSource);
  let status = 'running';
  await page.route('**/api/batch/start', (r) => r.fulfill(envelope({ ...fakeJob(903), path: '/srv/week/I20221101.tar', events_url: '/api/batch/events/903' })));
  await page.route('**/api/batch/status/903', (r) => (status === 'unreachable' ? r.abort('connectionrefused')
    : r.fulfill(envelope(fakeJob(903, { status, done: 40, progress: 0.4 })))));
  await page.route('**/api/batch/jobs*', async (r) => {
    const real = await (await r.fetch()).json();
    if (status === 'interrupted') real.data.jobs.unshift(fakeJob(903, { status, done: 40, finished_at: 0 }));
    await r.fulfill(envelope(real.data));
  });
  t.expectFailure(/\/api\/batch\/status\/903$/);
  await openAdmin(t);
  await page.click('#import-start');
  await page.waitForFunction(() => window.__sources.length === 1);
  await page.evaluate((j) => window.__emit('progress', j), fakeJob(903, { progress: 0.3, eta_s: 20, done: 30 }));
  await page.evaluate(() => window.__sources[0].onerror(new Event('error')));
  await eventually(() => page.evaluate(() => window.__sources.length === 2 && window.__sources[1].url.endsWith('/api/batch/events/903')),
    'the page follows the still running job again');
  check(await page.isDisabled('#import-start'), 'Start stays off while it runs');
  await page.evaluate((j) => window.__emit('progress', j), fakeJob(903, { progress: 0.6, eta_s: 10, done: 60 }));
  check(await page.textContent('#import-pct') === '60%', `the progress is live again (${await page.textContent('#import-pct')})`);
  // Now the server is gone: said so.
  status = 'unreachable';
  await page.evaluate(() => window.__sources.at(-1).onerror(new Event('error')));
  await eventually(() => page.isVisible('#import-error'), 'an unreachable server is reported');
  // It is back, and the job was interrupted by its restart.
  status = 'interrupted';
  await page.click('[data-screen="search"]');
  await page.click('[data-screen="admin"]');
  await page.waitForSelector('#stats .stat');
  await eventually(async () => await page.textContent('#import-pct') === 'interrupted', `back on the screen, the job reads interrupted (${await page.textContent('#import-pct')})`);
  check(await page.isHidden('#import-error'), 'the old error is gone');
  check(await page.isEnabled('#import-start'), 'Start is on');
});

// A link's patent that the collection does not have (a typo, a patent
// literally numbered "null", another collection's) says so with the
// collection's name, not the catalog's internal number ("collection 1").
scenario('patent-unknown-in-link', async (t) => {
  const { page } = t;
  const hit = await someImage();
  t.expectHttp(404, /\/api\/patent\//);
  for (const id of ['D9999999', 'null']) {
    await searched(page, () => goto(page, `/?image=${encodeURIComponent(hit.file_name)}&patent=${id}`));
    await page.waitForSelector('#detail[open]');
    await page.waitForFunction(() => !/Loading/.test(document.querySelector('#drawings').textContent));
    const msg = await page.textContent('#drawings');
    check(msg.includes(id) && msg.includes('patent_images'), `the message names ${id} and the collection (${msg})`);
    check(!/collection \d/.test(msg), `not the collection's internal number (${msg})`);
  }
});

// Re-attached to an import into another collection than the one shown
// (from another tab, or `dinoseek import`): the status names where it goes,
// or the statistics beside it read as the ones it changes.
scenario('import-reattach-other-collection', async (t) => {
  const { page } = t;
  await page.addInitScript(fakeEventSource);
  await page.route('**/api/batch/jobs*', async (r) => {
    const real = await (await r.fetch()).json();
    real.data.jobs.unshift(fakeJob(904, { collection: 'plain_folder', done: 3 }));
    await r.fulfill(envelope(real.data));
  });
  await openAdmin(t);
  await eventually(() => page.evaluate(() => window.__sources.some((e) => e.url.endsWith('/api/batch/events/904'))), 'the page follows the running job');
  const status = await page.textContent('#import-status');
  check(/plain_folder/.test(status), `the status names the job's collection (${status})`);
});

// ---- issue 18: search by words
// The demo data's 12 patents are titled Chair, Side chair, Vehicle, Car,
// Sports car (two), Table lamp, ...; every claim reads "The ornamental
// design for a <title>, as shown and described."; one applicant is
// "Northwind & Davis Automotive Co.".

// Type words in the box and press Enter: the search it makes.
async function searchWords(t, words) {
  await t.page.fill('#q', words);
  return searched(t.page, () => t.page.press('#q', 'Enter'));
}

const field = (r, name) => parts(r).filter(([k]) => k === name).map(([, v]) => v);

// The search box: `/` focuses it, Enter searches by words alone, each result
// is a patent with its first drawing, the words marked, the count of matches.
scenario('words-search', async (t) => {
  const { page } = t;
  await open(t);
  await page.keyboard.press('/');
  check(await page.evaluate(() => document.activeElement.id) === 'q', '/ focuses the search box');
  await page.keyboard.type('chair');
  const r = await searched(page, () => page.keyboard.press('Enter'));
  check(r.status === 200 && r.data.mode === 'words', `a search by words (${r.status} ${r.body?.message})`);
  check(field(r, 'q').join() === 'chair' && !parts(r).some(([k]) => k === 'file' || k === 'image'), 'q sent, no picture');
  const ids = r.data.results.map((x) => x.patent_id);
  check(ids.length === 2 && r.data.text_matches === 2, `the two chairs (${ids})`);
  const cs = await cards(page);
  check(cs.length === 2 && cs.every((c, i) => c.patent === ids[i]), 'one card per patent');
  await page.waitForFunction(() => [...document.querySelectorAll('#results > .card .thumb img')].every((i) => i.complete && i.naturalWidth > 0));
  const srcs = await page.$$eval('#results > .card .thumb img', (els) => els.map((e) => e.getAttribute('src')));
  check(srcs.every((src, i) => src === r.data.results[i].images[0].thumbnail_url && /D00001/.test(src)), `each card shows its first drawing (${srcs})`);
  const marks = await page.$$eval('#results > .card', (els) => els.map((e) => [...e.querySelectorAll('.title mark')].map((m) => m.textContent)));
  check(marks[0].join() === 'Chair' && marks[1].join() === 'chair', `the title's matched word is marked (${JSON.stringify(marks)})`);
  check(await page.$$eval('#results > .card .snippet', (els) => els.length) === 0, 'a snippet that is the title is not repeated');
  check(/2 patents match/.test(await page.textContent('#summary')), `the summary counts the matches (${await page.textContent('#summary')})`);
  check(await page.isChecked('#group') && await page.isDisabled('#group'), 'grouping is shown as implied');
  check(new URL(page.url()).searchParams.get('q') === 'chair', 'the words are in the URL');
  await t.shot('words');
  // The server's snippet is escaped HTML: an "&" in a name reads as "&".
  await searchWords(t, 'davis');
  const snip = await page.$eval('#results > .card .snippet', (e) => [e.textContent, e.querySelector('mark')?.textContent]);
  check(snip[0] === 'Northwind & Davis Automotive Co.' && snip[1] === 'Davis', `the snippet as text, its word marked (${snip})`);
});

// The words in the URL: a link searches them, Back and Forward restore them,
// Clear empties the box and the results.
scenario('words-url', async (t) => {
  const { page } = t;
  const r = await searched(page, () => open(t, '/?q=side%20chair'));
  check(field(r, 'q').join() === 'side chair' && r.data.results[0].patent_id === 'D0967599', 'a link searches its words');
  check(await page.inputValue('#q') === 'side chair', 'the box shows them');
  await searchWords(t, 'lamp');
  check(new URL(page.url()).searchParams.get('q') === 'lamp', 'the new words in the URL');
  check((await cards(page))[0].text.includes('Table lamp'), 'the lamp found');
  await settle(page);
  const back = await searched(page, () => page.goBack());
  check(field(back, 'q').join() === 'side chair' && await page.inputValue('#q') === 'side chair', 'Back restores the words');
  await settle(page);
  const fwd = await searched(page, () => page.goForward());
  check(field(fwd, 'q').join() === 'lamp' && await page.inputValue('#q') === 'lamp', 'Forward too');
  check(await page.isVisible('#q-clear'), 'a Clear button while there are words');
  await page.click('#q-clear');
  await eventually(async () => !new URL(page.url()).searchParams.has('q'), 'Clear takes the words out of the URL');
  check(await page.inputValue('#q') === '' && (await cards(page)).length === 0, 'and the results');
  check(!(await page.isChecked('#group')) && !(await page.isDisabled('#group')), 'grouping is the user’s again');
});

// A patent opened from a search by words: the words marked in its detail.
scenario('words-detail', async (t) => {
  const { page } = t;
  await open(t);
  await searchWords(t, 'sports car*');
  await page.click('#results > .card[data-index="0"] .card-body');
  await page.waitForSelector('#detail-fields .claim');
  const marks = await page.$$eval('#detail-fields mark', (els) => els.map((m) => m.textContent.toLowerCase()));
  check(marks.includes('sports') && marks.includes('car'), `the title and claim mark the words (${marks})`);
  const claim = await page.$eval('#detail-fields .claim p', (e) => [e.textContent, [...e.querySelectorAll('mark')].map((m) => m.textContent)]);
  check(claim[0] === 'The ornamental design for a sports car, as shown and described.' && claim[1].join() === 'sports,car', `the claim, its words marked (${JSON.stringify(claim)})`);
  check(await page.$$eval('#drawings .drawing.hit', (els) => els.length) === 0, 'no drawing is called a picture match');
  await t.shot('words-detail');
});

// Words and a picture: a hybrid search, with each leg's rank.
scenario('words-hybrid', async (t) => {
  const { page } = t;
  await open(t);
  await page.fill('#q', 'chair');
  const r = await upload(t, [VIEW1]);
  check(r.data.mode === 'hybrid', `a hybrid search (${r.data.mode})`);
  check(field(r, 'q').join() === 'chair' && field(r, 'file').length === 1 && field(r, 'explain').join() === 'true', 'words, the picture, and explain sent');
  const why = await page.$$eval('#results > .card .why', (els) => els.map((e) => e.textContent));
  check(why.length === r.data.results.length && why.every((w) => /^picture (#\d+|not found) · words (#\d+|not found)$/.test(w)), `each card says why (${why[0]})`);
  check(why.filter((w) => /words #/.test(w)).length === 2, 'the two chairs are ranked by the words');
  check(why.some((w) => /words not found/.test(w)), 'patents found by the picture alone say so');
  await t.shot('words-hybrid');
  // A link to the same search (the upload cannot travel) searches the words.
  check(new URL(page.url()).searchParams.get('q') === 'chair', 'the words are in the URL');
});

// Words that cannot be read: the server's message beside the box.
scenario('words-bad-query', async (t) => {
  const { page } = t;
  await open(t);
  await searchWords(t, 'chair');
  t.expectHttp(400, /\/api\/search/);
  const r = await searchWords(t, '"side chair');
  check(r.status === 400, 'the server refuses it');
  const msg = await page.textContent('#q-error');
  check(msg === r.body.message && /^query: unclosed quote.*\(at character 1\)/.test(msg), `the server's message by the box (${msg})`);
  check(await page.getAttribute('#q', 'aria-invalid') === 'true', 'the box is marked invalid');
  check((await cards(page)).length === 0 && !/search failed/i.test(await page.textContent('#results-message')), 'the results are cleared, saying why');
  await t.shot('words-bad-query');
  await searchWords(t, '"side chair"');
  check(await page.isHidden('#q-error') && await page.getAttribute('#q', 'aria-invalid') === null, 'good words clear the error');
  check((await cards(page)).length === 1, 'and search');
});

// Words with filters, paging, and the export of every page.
scenario('words-filters-export', async (t) => {
  const { page } = t;
  // Every claim holds "ornamental": every patent matches (the import
  // scenario may have added a second week, so the API says how many).
  const all = (await apiJson('/api/search?q=ornamental&top_k=1000')).results.map((x) => x.patent_id);
  const chairs = (await apiJson('/api/search?q=ornamental&loc_class=06&top_k=1000')).results.map((x) => x.patent_id);
  check(all.length >= 12 && chairs.length >= 2 && chairs.length < all.length, `the words match every patent (${all.length}), class 06 fewer (${chairs.length})`);
  await open(t, '/?top_k=5');
  const r1 = await searchWords(t, 'ornamental');
  check(r1.data.text_matches === all.length && r1.data.results.length === 5, 'every patent matches, five a page');
  const r2 = await searched(page, () => page.click('#page-next'));
  check(field(r2, 'offset').join() === '5' && field(r2, 'q').join() === 'ornamental', 'the next page of the words');
  check(r2.data.results.map((x) => x.patent_id).join() === all.slice(5, 10).join(), 'the next five patents');
  check(/Patents 6–10/.test(await page.textContent('#summary')), 'ranks 6–10');
  // CSV and JSON: every matching patent, not only the page.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const rows = parseCsv(readFileSync(await dl.path(), 'utf8'));
  const pi = rows[0].indexOf('patent_id');
  check(rows.slice(1).map((x) => x[pi]).join() === all.join(), `the CSV holds every matching patent, in order (${rows.length - 1} rows for ${all.length})`);
  const [dj] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const json = JSON.parse(readFileSync(await dj.path(), 'utf8'));
  check(json.results.map((x) => x.patent_id).join() === all.join() && json.query.q === 'ornamental' && json.results.every((x) => x.text), 'the JSON export too');
  // A Locarno class narrows the words.
  const r3 = await searched(page, () => page.selectOption('#loc-class', '06'));
  check(field(r3, 'loc_class').join() === '06' && field(r3, 'q').join() === 'ornamental', 'words and the class together');
  check(r3.data.text_matches === chairs.length && (await cards(page)).map((c) => c.patent).join() === chairs.slice(0, 5).join(), 'the patents of class 06');
});

// The snippet is the server's escaped HTML with <mark> its only markup: the
// page builds it as text and marks, so neither an escaped tag nor a raw one
// (a server or proxy that did not escape) becomes an element.
scenario('words-snippet-safe', async (t) => {
  const { page } = t;
  await open(t);
  const real = await apiJson('/api/search?q=chair&top_k=1');
  const hit = real.results[0];
  hit.title = 'Chair <b>bold</b>';
  hit.text = {
    score: hit.score, matched: ['chair'], snippet: 'x',
    snippet_html: 'A &lt;img src=x&gt; &amp;amp; <mark>chair</mark> <img src="/api/nothing" class="evil"><i>raw</i>',
  };
  await page.route(/\/api\/search/, (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify({ code: 0, message: 'success', data: real }),
  }));
  await searchWords(t, 'chair');
  const snip = await page.$eval('#results > .card .snippet', (e) => ({
    text: e.textContent, tags: [...e.querySelectorAll('*')].map((x) => x.tagName.toLowerCase()),
  }));
  check(snip.tags.join() === 'mark', `only the mark is an element (${snip.tags})`);
  check(snip.text === 'A <img src=x> &amp; chair <img src="/api/nothing" class="evil"><i>raw</i>', `the rest is text, unescaped once (${snip.text})`);
  const title = await page.$eval('#results > .card .title', (e) => [e.textContent, [...e.querySelectorAll('*')].map((x) => x.tagName.toLowerCase())]);
  check(title[0] === 'Chair <b>bold</b>' && title[1].join() === 'mark', `the title is text, its word marked (${title})`);
});

// A server that cannot search by words (Milvus, for now) says so.
scenario('words-not-supported', async (t) => {
  const { page } = t;
  await open(t);
  const message = 'the milvus store does not support search by words';
  await page.route(/\/api\/search/, (route) => route.fulfill({
    status: 501, contentType: 'application/json', body: JSON.stringify({ code: 1, message, status: 501 }),
  }));
  t.expectHttp(501, /\/api\/search/);
  await searchWords(t, 'chair');
  check((await page.textContent('#results-message')).includes(message), 'the server’s reason in the results');
  check((await page.textContent('#q-error')).includes(message), 'and by the box');
  check(!/search failed/i.test(await page.textContent('#results-message')), 'not a generic failure');
});

// ---- main ------------------------------------------------------------------------

// Large renditions of two drawings of a chair (Locarno 06), the query images.
async function prepare() {
  const form = new FormData();
  form.append('file', new Blob([readFileSync(QUAD)], { type: 'image/png' }), 'quad.png');
  form.append('top_k', '200');
  const all = (await apiJson('/api/search', { method: 'POST', body: form })).results;
  const pick = all.find((x) => /^06/.test(x.loc_class) && x.image_count >= 2) || all.find((x) => x.image_count >= 2);
  check(pick, 'the collection has a patent with two drawings');
  const p = await apiJson(`/api/patent/${encodeURIComponent(pick.patent_id)}`);
  for (const [i, path] of [[0, VIEW1], [1, VIEW2]]) {
    const res = await fetch(`${BASE}/api/image/${encodeURIComponent(p.images[i].file_name)}?size=large`);
    check(res.ok && /jpeg/.test(res.headers.get('content-type')), `the large rendition of ${p.images[i].file_name}`);
    writeFileSync(path, Buffer.from(await res.arrayBuffer()));
  }
}

try {
  await prepare();
} catch (e) {
  console.log(`FAIL prepare: ${e.message}`);
  process.exit(1);
}
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
let failed = 0;
for (const s of scenarios) {
  if (ONLY.length && !ONLY.includes(s.name)) continue;
  if (!(await runOne(browser, s))) failed++;
}
await browser.close();
process.exit(failed ? 1 : 0);
