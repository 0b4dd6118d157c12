//! JavaScript run in the page. Kept here, as constants, so the Rust side
//! reads as a sequence of steps.

/// Installed before any page script: collects script errors, counts
/// fetch/XHR requests in flight for the settle wait, records long tasks
/// (at most 200; Chromium does not buffer them for later observers), notes
/// when a frame has been drawn after the load event, and keeps the page's
/// timers (when each is due next) and animation frames: the phone view's
/// late look waits for timers due soon after load (work after `load`), and
/// `quiesce()` clears them once a view is measured, so a page left in its
/// window (a carousel) does not take the CPU from the next load. At most
/// 500 of each are kept; the page's own calls behave as before.
pub const WATCH_ERRORS: &str = r#"(() => {
  const w = window.__leadscout = { errors: [], inflight: 0, tasks: [], loadFramed: false, lastRun: 0 };
  const raw = w.raw = {
    setTimeout: window.setTimeout, clearTimeout: window.clearTimeout,
    setInterval: window.setInterval, clearInterval: window.clearInterval,
    raf: window.requestAnimationFrame, caf: window.cancelAnimationFrame,
  };
  const timers = w.timers = new Map();
  const frames = w.frames = new Set();
  const track = (id, due) => { if (timers.size < 500) timers.set(id, { due }); };
  window.setTimeout = function (handler, delay, ...rest) {
    let id;
    const run = typeof handler === 'function' ? function (...a) { timers.delete(id); try { return handler.apply(this, a); } finally { w.lastRun = performance.now(); } } : handler;
    id = raw.setTimeout.call(window, run, delay, ...rest);
    track(id, performance.now() + Math.max(0, Number(delay) || 0));
    return id;
  };
  window.setInterval = function (handler, delay, ...rest) {
    let id;
    const every = Math.max(0, Number(delay) || 0);
    const run = typeof handler === 'function' ? function (...a) { const t = timers.get(id); if (t) t.due = performance.now() + every; try { return handler.apply(this, a); } finally { w.lastRun = performance.now(); } } : handler;
    id = raw.setInterval.call(window, run, delay, ...rest);
    track(id, performance.now() + every);
    return id;
  };
  window.clearTimeout = function (id) { timers.delete(id); return raw.clearTimeout.call(window, id); };
  window.clearInterval = function (id) { timers.delete(id); return raw.clearInterval.call(window, id); };
  if (raw.raf) {
    window.requestAnimationFrame = function (callback) {
      let id;
      id = raw.raf.call(window, function (t) { frames.delete(id); return callback(t); });
      if (frames.size < 500) frames.add(id);
      return id;
    };
    window.cancelAnimationFrame = function (id) { frames.delete(id); return raw.caf.call(window, id); };
  }
  w.quiesce = () => {
    // One list holds both kinds of timer: clearTimeout ends intervals too.
    for (const id of timers.keys()) raw.clearTimeout.call(window, id);
    timers.clear();
    for (const id of frames) raw.caf.call(window, id);
    frames.clear();
    for (const m of document.querySelectorAll('video, audio')) { try { m.pause(); } catch (e) { /* gone */ } }
  };
  // The frame after the load event: shifts the load handlers caused are
  // reported by then.
  window.addEventListener('load', () => raw.raf.call(window, () => raw.setTimeout.call(window, () => { w.loadFramed = true; }, 0)));
  const keep = (list) => { for (const e of list) if (w.tasks.length < 200) w.tasks.push([e.startTime, e.duration]); };
  try {
    w.taskObserver = new PerformanceObserver((l) => keep(l.getEntries()));
    w.taskObserver.observe({ type: 'longtask' });
    w.keepTasks = keep;
  } catch (e) { /* no Long Tasks API: no tasks */ }
  const note = (text) => { if (w.errors.length < 50) w.errors.push(String(text).slice(0, 300)); };
  const original = console.error;
  console.error = function (...args) { note(args.map(String).join(' ')); return original.apply(this, args); };
  window.addEventListener('error', (e) => note(e.message + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : '')));
  window.addEventListener('unhandledrejection', (e) => note('unhandled promise rejection: ' + e.reason));
  if (window.fetch) {
    const f = window.fetch;
    window.fetch = function (...args) { w.inflight++; return f.apply(this, args).finally(() => { w.inflight--; w.lastRun = performance.now(); }); };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    w.inflight++;
    this.addEventListener('loadend', () => { w.inflight--; w.lastRun = performance.now(); }, { once: true });
    return send.apply(this, args);
  };
})();"#;

/// After a navigation, in one round trip, in one of three modes
/// (`arguments[3]`):
///
/// - `settle` (the phone view, before its screenshot): if the document is
///   still the old one (marked by the previous call), returns `{fresh:
///   false}` at once. Otherwise waits (at most `arguments[1]` ms) until
///   nothing is in flight and no resource finished in the last
///   `arguments[0]` ms after the load event (a page complete at load passes
///   at once), marks the document, and returns `{fresh: true, href, proxy}`,
///   `proxy` being the page's text when the document came with a 502 (the
///   egress proxy answering for a site it could not reach).
/// - `measure` (the desktop view): the same wait, then until the paint
///   entries have caught up with what loaded (at most two frames), then
///   measures, marks the page, clears its timers (`quiesce`) and returns
///   `{fresh: true, href, metrics, errors}`.
/// - `late` (the phone view again, after the desktop view): the page has
///   kept running meanwhile; waits while a timer is due or a request is in
///   flight before `arguments[4]` ms after the load event (work after
///   `load`: a slider's long tasks, a late banner's shift), then measures
///   like `measure`, with `metrics.a11y` (the accessibility rules,
///   [`A11Y_AUDIT`], appended to this script by the caller) and
///   `metrics.trace` (the page-load trace for the mobile estimate, parsed by
///   `trace::parse`: at most 300 requests, document first, and 200 long
///   tasks, URLs cut to 500 characters).
///
/// `metrics` has the field names of `PageMetrics`; `arguments[2]` is the
/// emulated screen width. Every answer has `timing` (ms spent waiting and
/// measuring, for profiling).
pub const SETTLE_AND_MEASURE: &str = r#"
const quiet = arguments[0], cap = arguments[1], screenWidth = arguments[2], mode = arguments[3], lateMs = arguments[4];
const withA11y = mode === 'late';
if (mode === 'late') {
  // The document the phone view settled on, or one it went on to by itself.
  if (document.readyState !== 'complete') return { fresh: false, href: location.href };
} else if (window.__leadscout_previous || document.readyState !== 'complete') return { fresh: false, href: location.href };
return (async () => {
  const ls = window.__leadscout;
  // The page's own timers are wrapped (and may be replaced by the page):
  // the waits here use the browser's.
  const raw = (ls && ls.raw) || { setTimeout: window.setTimeout, raf: window.requestAnimationFrame };
  const sleep = (ms) => new Promise((r) => raw.setTimeout.call(window, r, ms));
  // A frame, or at most 500 ms when frames stall on a busy machine.
  const frame = () => new Promise((r) => { raw.raf.call(window, () => r()); raw.setTimeout.call(window, r, 500); });
  // Past the next frame's layout, where layout shifts are reported (an
  // animation frame callback runs before it).
  const pastFrame = () => new Promise((r) => { raw.raf.call(window, () => raw.setTimeout.call(window, r, 0)); raw.setTimeout.call(window, r, 500); });
  const nav = performance.getEntriesByType('navigation')[0];
  // loadEventEnd may not be written yet when WebDriver returns.
  const loaded = nav ? Math.max(nav.loadEventStart, nav.domComplete) : 0;
  const start = performance.now();
  const timing = {};
  const inflight = () => (ls && ls.inflight) || 0;
  // The browser fetches the site's icon after the load event, and
  // Chromium lists that fetch among the page's resources: waiting for it
  // to go quiet cost every view about 100 ms. It is not the page's work.
  const icons = new Set();
  // A page without a base of its own (about:blank) has no icon to fetch.
  try { icons.add(new URL('/favicon.ico', location.href).href); } catch (e) { /* no icon */ }
  for (const link of document.querySelectorAll('link[rel~="icon" i]')) if (link.href) icons.add(link.href);
  const pageWork = (r) => !(r.initiatorType === 'other' && icons.has(r.name));
  if (mode !== 'late') {
    for (;;) {
      const now = performance.now();
      let last = 0;
      for (const r of performance.getEntriesByType('resource')) if (pageWork(r)) last = Math.max(last, r.responseEnd || r.startTime);
      if ((inflight() === 0 && (last <= loaded || now - last >= quiet)) || now - start >= cap) break;
      await sleep(25);
    }
  }
  timing.settle = performance.now() - start;
  if (mode === 'settle') {
    window.__leadscout_previous = true;
    const proxy = nav && nav.responseStatus === 502 && document.body ? document.body.innerText.slice(0, 600) : null;
    return { fresh: true, href: location.href, proxy, timing };
  }
  // Buffered entries can be taken at once, without waiting for the
  // observer's callback in a later task.
  const buffered = (type) => {
    const observer = new PerformanceObserver(() => {});
    observer.observe({ type, buffered: true });
    const entries = observer.takeRecords();
    observer.disconnect();
    return entries;
  };
  const firstPaint = () => performance.getEntriesByName('first-contentful-paint').length > 0;
  if (mode === 'late') {
    const deadline = loaded + lateMs;
    const due = () => {
      const now = performance.now();
      if (inflight() > 0) return true;
      if (!ls || !ls.timers) return false;
      // A timer long past due has fired (a string handler is not seen firing).
      for (const t of ls.timers.values()) if (t.due <= deadline && t.due >= now - 50) return true;
      return false;
    };
    let waited = false;
    while (performance.now() < deadline && performance.now() - start < cap && due()) { waited = true; await sleep(20); }
    // What that work (or a timer or response just before this script)
    // shifted is reported with the next frame.
    const now = performance.now();
    if (waited || now - loaded < 100 || (ls && now - ls.lastRun < 100)) await pastFrame();
  }
  {
    // Paint entries (the image that becomes the LCP) are written when the
    // frame showing it is presented; on a busy machine that may not have
    // come yet. Caught up: a frame after the load event was drawn, there is
    // a first paint and an LCP entry, and no image in view that has
    // arrived since that entry is larger than it (its paint is still to be
    // reported). Otherwise wait, at most six frames or a second.
    const caughtUp = () => {
      if ((ls && !ls.loadFramed) || !firstPaint()) return false;
      const lcps = buffered('largest-contentful-paint');
      if (!lcps.length) return false;
      const lcp = lcps[lcps.length - 1];
      const vw = window.innerWidth, vh = window.innerHeight;
      for (const img of document.images) {
        if (img === lcp.element || !img.complete || !img.naturalWidth) continue;
        const r = img.getBoundingClientRect();
        const area = Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0)) * Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
        if (area <= lcp.size) continue;
        // No entry (memory cache, data: URL): no telling; not waited for.
        const entry = performance.getEntriesByName(img.currentSrc)[0];
        if (entry && entry.responseEnd >= lcp.startTime) return false;
      }
      return true;
    };
    for (let i = 0; i < 6 && performance.now() - start < 1000 && !caughtUp(); i++) await frame();
  }
  // A page with a large image may not have presented its first frame yet
  // (software raster on a busy machine; a 1.4 MB hero took about 2 s here):
  // wait up to six more frames for the first paint entry (at most 3 s when
  // frames stall), or FCP and LCP go unmeasured and the estimate misses
  // the hero image.
  for (let i = 0; i < 6 && !firstPaint(); i++) await frame();
  timing.frames = performance.now() - start - timing.settle;
  const measureStart = performance.now();
  const m = {};
  if (nav) {
    m.ttfb_ms = nav.responseStart;
    m.dcl_ms = nav.domContentLoadedEventEnd || null;
    m.load_ms = nav.loadEventEnd || nav.loadEventStart || null;
  }
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  m.fcp_ms = fcp ? fcp.startTime : null;
  const lcps = buffered('largest-contentful-paint');
  m.lcp_ms = lcps.length ? lcps[lcps.length - 1].startTime : null;
  // CLS: the largest burst of shifts (gaps under 1 s, bursts under 5 s),
  // counting shifts "right after input" too: nothing here ever gives the
  // page input, but switching to a view's window marks the shifts of the
  // next 500 ms as if it had (seen on a banner a timer put in).
  let cls = 0, burst = 0, first = 0, lastShift = 0;
  for (const e of buffered('layout-shift')) {
    if (burst && e.startTime - lastShift < 1000 && e.startTime - first < 5000) burst += e.value;
    else { burst = e.value; first = e.startTime; }
    lastShift = e.startTime;
    if (burst > cls) cls = burst;
  }
  m.cls = cls;
  const resources = performance.getEntriesByType('resource');
  m.requests = resources.length + 1;
  m.transfer_bytes = resources.reduce((sum, r) => sum + (r.transferSize || 0), nav ? (nav.transferSize || 0) : 0);
  m.scroll_width = document.documentElement.scrollWidth;
  // Not innerWidth: a phone widens its layout viewport to fit wide content.
  m.viewport_width = screenWidth;
  let targets = 0, small = 0;
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
    targets++;
    if (r.width < 48 || r.height < 48) small++;
  }
  m.tap_targets = targets;
  m.small_tap_targets = small;
  let texts = 0, tiny = 0;
  if (document.body) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const parent = node.parentElement;
      if (!node.nodeValue.trim() || !parent || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(parent.tagName)) continue;
      const style = getComputedStyle(parent);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      texts++;
      if (parseFloat(style.fontSize) < 12) tiny++;
    }
  }
  m.text_elements = texts;
  m.small_text_elements = tiny;
  m.dom_elements = document.getElementsByTagName('*').length;
  if (withA11y) {
    try {
      if (ls && ls.taskObserver) ls.keepTasks(ls.taskObserver.takeRecords());
      // Scripts the parser had to wait for (no async, defer or module):
      // Chromium loads them at high priority, which Lighthouse's simulation
      // counts as render-blocking when they come before the first paint.
      const parserBlocking = new Set();
      for (const s of document.scripts) {
        if (s.src && !s.async && !s.defer && s.type !== 'module') parserBlocking.add(s.src);
      }
      const entry = (r, kind) => ({
        url: String(r.name).slice(0, 500), kind: String(kind || ''),
        start_ms: r.startTime, request_start_ms: r.requestStart, response_start_ms: r.responseStart,
        end_ms: r.responseEnd, transfer_bytes: r.transferSize || 0, decoded_bytes: r.decodedBodySize || 0,
        blocking: r.renderBlockingStatus === 'blocking', protocol: String(r.nextHopProtocol || ''),
        parser_blocking: parserBlocking.has(r.name),
      });
      const t = { requests: [], tasks: ls ? ls.tasks.slice(0, 200) : [], total_requests: resources.length + 1 };
      if (nav) t.requests.push(entry(nav, 'navigation'));
      for (const r of resources) { if (t.requests.length >= 300) break; t.requests.push(entry(r, r.initiatorType)); }
      t.dom_interactive_ms = nav ? nav.domInteractive : null;
      t.lcp_url = lcps.length ? String(lcps[lcps.length - 1].url || '').slice(0, 500) : null;
      m.trace = t;
    } catch (e) { m.trace = null; }
    timing.measure = performance.now() - measureStart;
    // A broken rule must not cost the screenshots: no verdicts instead.
    try { m.a11y = leadscoutA11y(); } catch (e) { m.a11y = null; }
  }
  // Measured: the next navigation can tell that it has really left this
  // page, and the page, staying in its window, stops its timers.
  window.__leadscout_previous = true;
  if (ls && ls.quiesce) { try { ls.quiesce(); } catch (e) { /* the page's loss */ } }
  timing.total = performance.now() - start;
  return { fresh: true, href: location.href, metrics: m, errors: (ls && ls.errors) || [], timing };
})();"#;

/// On Chromium's error page: the error code shown (e.g. ERR_TOO_MANY_REDIRECTS).
pub const ERROR_PAGE_CODE: &str = r#"
const text = document.body ? document.body.innerText : '';
const code = text.match(/ERR_[A-Z_]+/);
return code ? code[0] : text.split('\n').filter((l) => l.trim())[0] || '';
"#;

/// Defines `leadscoutA11y()`, which judges the rendered page the way
/// axe-core 4.10 (the engine of Lighthouse 12's accessibility category)
/// does, for the rules that matter on small-business sites: `link-name`,
/// `button-name` (with `input-button-name`), `label` (with `select-name`),
/// `image-alt`, `html-has-lang` + `html-lang-valid` and `color-contrast`.
/// Names follow a simplified accname 1.2: aria-labelledby, aria-label,
/// native labels and alt, text content (for links and buttons), title,
/// then placeholder for fields as axe's `non-empty-placeholder` counts it.
/// Elements not rendered (display:none, `hidden`, visibility:hidden) and
/// `aria-hidden="true"` subtrees are not judged and name nothing. Not done
/// yet: shadow DOM and slots, CSS generated content, `aria-owns`, and
/// contrast behind overlapping positioned content (left without a verdict,
/// as axe leaves it "incomplete").
///
/// Returns `{lang, lang_valid, link_name, button_name, label,
/// placeholder_only, image_alt, contrast, contrast_incomplete, elapsed_ms}`;
/// each rule is `{checked, failed, examples}`, examples naming the element
/// by a short selector path (and its text where it has one).
pub const A11Y_AUDIT: &str = r#"
function leadscoutA11y() {
  const began = performance.now();
  const LIMIT = 20;
  const styles = new Map();
  const cs = (el) => { let s = styles.get(el); if (!s) { s = getComputedStyle(el); styles.set(el, s); } return s; };
  const norm = (s) => (s || '').replace(/[\uE000-\uF8FF]/g, '').replace(/\s+/g, ' ').trim();
  const tally = () => ({ checked: 0, failed: 0, examples: [] });
  const fail = (t, what) => { t.failed++; if (t.examples.length < LIMIT) t.examples.push(what); };
  // Not rendered at all (here or above), or made invisible: hidden from everyone.
  const hiddenForAll = (el) => {
    const s = cs(el);
    if (s.display === 'contents') return el.parentElement ? hiddenForAll(el.parentElement) : false;
    const rendered = el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
    return !rendered || s.visibility === 'hidden' || s.visibility === 'collapse';
  };
  const srHidden = (el) => hiddenForAll(el) || !!el.closest('[aria-hidden="true"]');
  const roleOf = (el) => (el.getAttribute('role') || '').trim().split(/\s+/)[0].toLowerCase();
  const FROM_CONTENT = new Set(['button', 'cell', 'checkbox', 'columnheader', 'gridcell', 'heading', 'link', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'radio', 'row', 'rowheader', 'switch', 'tab', 'tooltip', 'treeitem']);
  const nativeRole = (el) => {
    const t = el.tagName;
    if (t === 'A' && el.hasAttribute('href')) return 'link';
    if (t === 'BUTTON' || t === 'SUMMARY') return 'button';
    if (/^H[1-6]$/.test(t)) return 'heading';
    if (t === 'TD') return 'cell';
    if (t === 'TH') return 'columnheader';
    if (t === 'OPTION') return 'option';
    return '';
  };
  const FIELD_SKIP = new Set(['hidden', 'image', 'button', 'submit', 'reset']);
  const isField = (el) => (el.tagName === 'INPUT' && !FIELD_SKIP.has(el.type)) || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT';
  const byIds = (el, seen) => {
    const ids = norm(el.getAttribute('aria-labelledby'));
    if (!ids) return '';
    return norm(ids.split(' ').map((id) => document.getElementById(id)).filter(Boolean)
      .map((ref) => nameOf(ref, seen, { inRef: true, showHidden: srHidden(ref) })).join(' '));
  };
  // The text of a subtree, each child named as accname step 2F says.
  function textOf(node, seen, ctx) {
    let out = '';
    for (const child of node.childNodes) {
      if (child.nodeType === 3) { out += child.nodeValue; continue; }
      if (child.nodeType !== 1) continue;
      const part = nameOf(child, seen, Object.assign({}, ctx, { recursing: true }));
      out += cs(child).display.startsWith('inline') ? part : ' ' + part + ' ';
    }
    return out;
  }
  function nameOf(el, seen, ctx) {
    if (seen.has(el)) return '';
    seen.add(el);
    if (!ctx.showHidden && srHidden(el)) return '';
    if (!ctx.inRef) { const named = byIds(el, seen); if (named) return named; }
    const label = norm(el.getAttribute('aria-label'));
    if (label) return label;
    const t = el.tagName;
    if (t === 'IMG' || t === 'AREA' || (t === 'INPUT' && el.type === 'image')) {
      if (el.hasAttribute('alt')) return norm(el.getAttribute('alt'));
    }
    if (t === 'svg' || t === 'SVG') {
      const title = [...el.children].find((c) => c.tagName.toLowerCase() === 'title');
      if (title) return norm(title.textContent);
    }
    if (ctx.recursing && isField(el)) {
      // An embedded control names itself by its value.
      if (t === 'SELECT') return norm(el.selectedOptions[0] ? el.selectedOptions[0].textContent : '');
      return ['checkbox', 'radio'].includes(el.type) ? '' : norm(el.value);
    }
    if (t === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type)) {
      const value = norm(el.value);
      if (value || el.hasAttribute('value')) return value;
      if (el.type === 'submit') return 'Submit';
      if (el.type === 'reset') return 'Reset';
    }
    if (isField(el) && !ctx.recursing) {
      const labels = [...(el.labels || [])].filter((l) => !srHidden(l)).map((l) => textOf(l, seen, { recursing: true }));
      const text = norm(labels.join(' '));
      if (text) return text;
    }
    const role = roleOf(el) || nativeRole(el);
    if (ctx.recursing || FROM_CONTENT.has(role) || t === 'LABEL' || ctx.inRef) {
      const text = norm(textOf(el, seen, ctx));
      if (text) return text;
    }
    return norm(el.getAttribute('title'));
  }
  const accName = (el) => nameOf(el, new Set(), {});
  // What names a field, axe's `label` checks in order; '' when nothing does.
  const fieldSource = (el) => {
    const seen = new Set([el]);
    if (byIds(el, seen)) return 'aria-labelledby';
    if (norm(el.getAttribute('aria-label'))) return 'aria-label';
    const labels = [...(el.labels || [])].filter((l) => !srHidden(l));
    if (norm(labels.map((l) => textOf(l, seen, { recursing: true })).join(' '))) return 'label';
    if (norm(el.getAttribute('title'))) return 'title';
    if (el.tagName !== 'SELECT' && norm(el.getAttribute('placeholder'))) return 'placeholder';
    if (['presentation', 'none'].includes(roleOf(el))) return 'presentation';
    return '';
  };
  // A short path naming the element: up to three steps, ending at an id.
  const where = (el) => {
    const parts = [];
    for (let n = el; n && n.nodeType === 1 && parts.length < 3; n = n.parentElement) {
      let step = n.tagName.toLowerCase();
      if (n.id && /^[A-Za-z][\w-]*$/.test(n.id)) { parts.unshift(step + '#' + n.id); break; }
      const cls = [...n.classList].find((c) => /^[A-Za-z_][\w-]*$/.test(c));
      if (cls) step += '.' + cls;
      parts.unshift(step);
      if (n === document.body) break;
    }
    return parts.join(' > ');
  };
  const quote = (text) => { const t = norm(text); return t ? ' "' + (t.length > 40 ? t.slice(0, 39) + '…' : t) + '"' : ''; };
  const out = {
    lang: null, lang_valid: false,
    link_name: tally(), button_name: tally(), label: tally(), placeholder_only: tally(),
    image_alt: tally(), contrast: tally(), contrast_incomplete: tally(),
  };
  const html = document.documentElement;
  const lang = norm(html.getAttribute('lang') || html.getAttribute('xml:lang'));
  if (lang) {
    out.lang = lang;
    let canonical = true;
    try { Intl.getCanonicalLocales(lang); } catch (e) { canonical = false; }
    out.lang_valid = canonical && /^([a-z]{2,3}|x|i)(-|$)/i.test(lang);
  }
  for (const a of document.querySelectorAll('a[href]')) {
    if (srHidden(a)) continue;
    out.link_name.checked++;
    if (!accName(a)) fail(out.link_name, where(a));
  }
  const buttons = 'button, [role=button], input[type=button], input[type=submit], input[type=reset], input[type=image]';
  for (const b of document.querySelectorAll(buttons)) {
    if (srHidden(b)) continue;
    out.button_name.checked++;
    if (!accName(b)) fail(out.button_name, where(b));
  }
  for (const f of document.querySelectorAll('input, textarea, select')) {
    if (!isField(f) || srHidden(f)) continue;
    out.label.checked++;
    const source = fieldSource(f);
    if (!source) fail(out.label, where(f));
    else if (source === 'placeholder') fail(out.placeholder_only, where(f) + quote(f.getAttribute('placeholder')));
  }
  out.placeholder_only.checked = out.label.checked;
  for (const img of document.querySelectorAll('img')) {
    if (srHidden(img)) continue;
    out.image_alt.checked++;
    const alt = img.getAttribute('alt');
    const named = (alt !== null && (alt === '' || alt.trim() !== '')) || norm(img.getAttribute('aria-label')) ||
      byIds(img, new Set([img])) || norm(img.getAttribute('title')) || ['presentation', 'none'].includes(roleOf(img));
    if (!named) fail(out.image_alt, where(img));
  }
  // Colour contrast (WCAG AA), for text directly inside each element.
  const parse = (s) => {
    const m = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)(?:\s*[,/]\s*([\d.]+)(%?))?\s*\)$/.exec(s || '');
    if (!m) return null;
    const a = m[4] === undefined ? 1 : parseFloat(m[4]) / (m[5] ? 100 : 1);
    return [+m[1], +m[2], +m[3], a];
  };
  const over = (top, under) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat([1]);
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const media = [];
  for (const m of document.querySelectorAll('img, video, canvas, picture, iframe, object, embed')) {
    const r = m.getBoundingClientRect();
    if (r.width > 1 && r.height > 1 && !hiddenForAll(m)) media.push([m, r]);
  }
  const overlaps = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  // The colour behind `el`: its own and its ancestors' backgrounds, blended,
  // or why there is no verdict; `{gone: true}` when the text is not on screen.
  const behind = (el, rect) => {
    const layers = [];
    let opacity = 1;
    for (let n = el; n; n = n.parentElement) {
      const s = cs(n);
      opacity *= parseFloat(s.opacity);
      if (s.clip !== 'auto' && /rect\(\s*0|1px,\s*1px/.test(s.clip)) return { gone: true };
      if (/inset\(\s*50%/.test(s.clipPath)) return { gone: true };
      const r = n.getBoundingClientRect();
      if (s.overflow === 'hidden' && (r.width <= 1 || r.height <= 1)) return { gone: true };
      if (s.backgroundImage && s.backgroundImage !== 'none') return { incomplete: 'background image or gradient' };
      const c = parse(s.backgroundColor);
      if (!c) return { incomplete: 'unreadable background colour' };
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
      if (n !== html && n !== document.body && (s.position === 'absolute' || s.position === 'fixed')) return { incomplete: 'positioned over other content' };
    }
    if (opacity <= 0) return { gone: true };
    for (const [m, r] of media) {
      if (!el.contains(m) && !m.contains(el) && overlaps(rect, r)) return { incomplete: 'over an image' };
    }
    let colour = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return { colour, opacity };
  };
  const seenText = new Set();
  let examined = 0;
  if (document.body) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode() && examined < 2000) {
      const node = walker.currentNode;
      const el = node.parentElement;
      if (!el || seenText.has(el) || !norm(node.nodeValue)) continue;
      if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION', 'SELECT', 'TEXTAREA'].includes(el.tagName) || el.closest('svg')) continue;
      seenText.add(el);
      if (hiddenForAll(el) || el.closest(':disabled, [aria-disabled="true"]')) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const rect = range.getBoundingClientRect();
      if (rect.width < 1 || rect.height < 1 || rect.right + scrollX <= 0 || rect.bottom + scrollY <= 0) continue;
      examined++;
      const text = [...el.childNodes].filter((c) => c.nodeType === 3).map((c) => c.nodeValue).join(' ');
      const bg = behind(el, rect);
      if (bg.gone) continue;
      if (bg.incomplete) { out.contrast_incomplete.checked++; fail(out.contrast_incomplete, where(el) + quote(text) + ' (' + bg.incomplete + ')'); continue; }
      const s = cs(el);
      const fg = parse(s.color);
      if (!fg) { out.contrast_incomplete.checked++; fail(out.contrast_incomplete, where(el) + quote(text) + ' (unreadable text colour)'); continue; }
      fg[3] *= bg.opacity;
      // Transparent text (image replacement) is not read by anyone.
      if (fg[3] <= 0) continue;
      const ink = over(fg, bg.colour);
      const [hi, lo] = [lum(ink), lum(bg.colour)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const pt = Math.ceil(parseFloat(s.fontSize) * 72) / 96;
      const bold = parseInt(s.fontWeight, 10) >= 700;
      const need = pt >= 18 || (bold && pt >= 14) ? 3 : 4.5;
      out.contrast.checked++;
      if (Math.floor(ratio * 100) / 100 < need) fail(out.contrast, where(el) + quote(text) + ' ' + ratio.toFixed(2) + ':1, needs ' + need + ':1');
    }
  }
  out.elapsed_ms = performance.now() - began;
  return out;
}
"#;
