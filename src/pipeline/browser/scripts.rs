//! JavaScript run in the page. Kept here, as constants, so the Rust side
//! reads as a sequence of steps.

/// Installed before any page script: collects script errors, and counts
/// fetch/XHR requests in flight for the settle wait.
pub const WATCH_ERRORS: &str = r#"(() => {
  const w = window.__leadscout = { errors: [], inflight: 0 };
  const note = (text) => { if (w.errors.length < 50) w.errors.push(String(text).slice(0, 300)); };
  const original = console.error;
  console.error = function (...args) { note(args.map(String).join(' ')); return original.apply(this, args); };
  window.addEventListener('error', (e) => note(e.message + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : '')));
  window.addEventListener('unhandledrejection', (e) => note('unhandled promise rejection: ' + e.reason));
  if (window.fetch) {
    const f = window.fetch;
    window.fetch = function (...args) { w.inflight++; return f.apply(this, args).finally(() => w.inflight--); };
  }
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    w.inflight++;
    this.addEventListener('loadend', () => w.inflight--, { once: true });
    return send.apply(this, args);
  };
})();"#;

/// After a navigation, in one round trip: if the document is still the
/// old one (marked by the previous call), returns `{fresh: false}` at once.
/// Otherwise waits (at most `arguments[1]` ms) until nothing is in flight
/// and no resource finished in the last `arguments[0]` ms after the load
/// event (a page complete at load passes at once), measures the page, marks
/// it, and returns `{fresh: true, href, metrics, errors}`; `metrics` has the
/// field names of `PageMetrics`. `arguments[2]` is the emulated screen width.
pub const SETTLE_AND_MEASURE: &str = r#"
const quiet = arguments[0], cap = arguments[1], screenWidth = arguments[2];
if (window.__leadscout_previous || document.readyState !== 'complete') return { fresh: false, href: location.href };
return (async () => {
  const nav = performance.getEntriesByType('navigation')[0];
  // loadEventEnd may not be written yet when WebDriver returns.
  const loaded = nav ? Math.max(nav.loadEventStart, nav.domComplete) : 0;
  const start = performance.now();
  for (;;) {
    const now = performance.now();
    let last = 0;
    for (const r of performance.getEntriesByType('resource')) last = Math.max(last, r.responseEnd || r.startTime);
    const busy = (window.__leadscout && window.__leadscout.inflight) || 0;
    if ((busy === 0 && (last <= loaded || now - last >= quiet)) || now - start >= cap) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  // Paint entries (the image that becomes the LCP) are written when the
  // frame after the load is drawn; on a busy machine that frame may not
  // have come yet. Wait for two frames (at most 200 ms).
  const frame = () => new Promise((r) => { requestAnimationFrame(() => r()); setTimeout(r, 100); });
  await frame();
  await frame();
  const m = {};
  if (nav) {
    m.ttfb_ms = nav.responseStart;
    m.dcl_ms = nav.domContentLoadedEventEnd || null;
    m.load_ms = nav.loadEventEnd || nav.loadEventStart || null;
  }
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  m.fcp_ms = fcp ? fcp.startTime : null;
  // Buffered entries can be taken at once, without waiting for the
  // observer's callback in a later task.
  const buffered = (type) => {
    const observer = new PerformanceObserver(() => {});
    observer.observe({ type, buffered: true });
    const entries = observer.takeRecords();
    observer.disconnect();
    return entries;
  };
  const lcps = buffered('largest-contentful-paint');
  m.lcp_ms = lcps.length ? lcps[lcps.length - 1].startTime : null;
  // CLS: the largest burst of shifts (gaps under 1 s, bursts under 5 s),
  // not counting shifts right after input.
  let cls = 0, burst = 0, first = 0, lastShift = 0;
  for (const e of buffered('layout-shift')) {
    if (e.hadRecentInput) continue;
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
  // Measured: the next navigation can tell that it has really left this page.
  window.__leadscout_previous = true;
  return { fresh: true, href: location.href, metrics: m, errors: (window.__leadscout && window.__leadscout.errors) || [] };
})();"#;

/// On Chromium's error page: the error code shown (e.g. ERR_TOO_MANY_REDIRECTS).
pub const ERROR_PAGE_CODE: &str = r#"
const text = document.body ? document.body.innerText : '';
const code = text.match(/ERR_[A-Z_]+/);
return code ? code[0] : text.split('\n').filter((l) => l.trim())[0] || '';
"#;
