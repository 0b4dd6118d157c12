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

/// Resolves once the page is complete and no resource has started for
/// `arguments[0]` ms, or after `arguments[1]` ms at most (but never before
/// the quiet time has been watched once).
pub const SETTLE: &str = r#"
const quiet = arguments[0], cap = arguments[1];
return new Promise((resolve) => {
  const start = performance.now();
  let seen = -1, since = start;
  const tick = () => {
    const now = performance.now();
    const count = performance.getEntriesByType('resource').length;
    const busy = (window.__leadscout && window.__leadscout.inflight) || 0;
    if (count !== seen || busy > 0 || document.readyState !== 'complete') { seen = count; since = now; }
    if (now - since >= quiet || now - start >= Math.max(cap, quiet)) resolve(Math.round(now - start));
    else setTimeout(tick, 50);
  };
  tick();
});"#;

/// The page's measurements; `arguments[0]` is the emulated screen width.
/// Returns `{metrics, errors}`; `metrics` has the field names of
/// `PageMetrics`.
pub const METRICS: &str = r#"
const screenWidth = arguments[0];
return (async () => {
  const m = {};
  const nav = performance.getEntriesByType('navigation')[0];
  if (nav) {
    m.ttfb_ms = nav.responseStart;
    m.dcl_ms = nav.domContentLoadedEventEnd || null;
    m.load_ms = nav.loadEventEnd || null;
  }
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  m.fcp_ms = fcp ? fcp.startTime : null;
  let lcp = null, cls = 0, window_ = 0, first = 0, last = 0;
  const lcpObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) lcp = e.startTime; });
  lcpObserver.observe({ type: 'largest-contentful-paint', buffered: true });
  // CLS: the largest burst of shifts (gaps under 1 s, bursts under 5 s),
  // not counting shifts right after input.
  const clsObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.hadRecentInput) continue;
      if (window_ && e.startTime - last < 1000 && e.startTime - first < 5000) window_ += e.value;
      else { window_ = e.value; first = e.startTime; }
      last = e.startTime;
      if (window_ > cls) cls = window_;
    }
  });
  clsObserver.observe({ type: 'layout-shift', buffered: true });
  // Buffered entries arrive in a later task.
  await new Promise((r) => setTimeout(r, 50));
  lcpObserver.disconnect();
  clsObserver.disconnect();
  m.lcp_ms = lcp;
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
  return { metrics: m, errors: (window.__leadscout && window.__leadscout.errors) || [] };
})();"#;

/// On Chromium's error page: the error code shown (e.g. ERR_TOO_MANY_REDIRECTS).
pub const ERROR_PAGE_CODE: &str = r#"
const text = document.body ? document.body.innerText : '';
const code = text.match(/ERR_[A-Z_]+/);
return code ? code[0] : text.split('\n').filter((l) => l.trim())[0] || '';
"#;
