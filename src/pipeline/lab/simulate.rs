//! Replays a page load's dependency graph under throttled mobile conditions,
//! in the spirit of Lighthouse's Lantern simulator (not a port of it).
//!
//! The model, event-driven in continuous time:
//! - **Connections**: HTTP/1 origins get up to six connections, each carrying
//!   one request at a time; HTTP/2 origins share one connection. A new
//!   connection costs DNS (2 RTT, once per origin, as Lantern assumes), the
//!   TCP handshake (1 RTT) and TLS (1 RTT, false start) for https; then every
//!   request costs 1 RTT plus the server time observed in the real load.
//!   A request waiting for a new connection takes an existing one that
//!   falls idle first (late binding).
//! - **Slow start**: each connection sends in rounds of one RTT; a round may
//!   carry `cwnd` segments of 1460 bytes, `cwnd` starting at 10 and doubling
//!   each round up to the bandwidth-delay product (21 segments at 150 ms and
//!   1.6 Mbit/s). A warm connection keeps its window.
//! - **Bandwidth**: the downlink is shared equally by the connections that
//!   may send in the current round, and a connection's share equally by its
//!   streams. Unlike Lantern, a window's bytes take time to arrive (its size
//!   over the share), so small files cost slightly more than in Lantern.
//! - **Main thread**: one task at a time, in trace order, each lasting its
//!   observed duration times the CPU slowdown.

use serde::{Deserialize, Serialize};

use super::graph::Graph;
use super::trace::{Protocol, Trace};

/// The simulated device and network; `Default` is Lighthouse's mobile
/// preset (`mobileSlow4G` of Lighthouse 12: 150 ms RTT, 1638.4 kbit/s, 4× CPU).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Conditions {
    pub rtt_ms: f64,
    pub throughput_kbps: f64,
    pub cpu_slowdown: f64,
}

impl Default for Conditions {
    fn default() -> Self {
        Self {
            rtt_ms: 150.0,
            throughput_kbps: 1638.4,
            cpu_slowdown: 4.0,
        }
    }
}

const SEGMENT_BYTES: f64 = 1460.0;
const INITIAL_CWND: f64 = 10.0;
const DNS_RTTS: f64 = 2.0;
const H1_CONNECTIONS_PER_ORIGIN: usize = 6;
const EPS: f64 = 1e-6;

impl Conditions {
    fn bytes_per_ms(&self) -> f64 {
        self.throughput_kbps * 1024.0 / 8.0 / 1000.0
    }

    /// The window that fills the pipe: more would only queue.
    fn max_cwnd(&self) -> f64 {
        (self.bytes_per_ms() * self.rtt_ms / SEGMENT_BYTES)
            .floor()
            .max(1.0)
    }
}

/// Simulated start and end of a node, ms from navigation start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub start: f64,
    pub end: f64,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Waiting,
    Queued,
    FirstByteAt(f64),
    Downloading { remaining: f64 },
    Running { until: f64 },
    Done,
}

struct Conn {
    origin: usize,
    warm_at: f64,
    cwnd: f64,
    budget: f64,
    round_end: f64,
    /// Requests between assignment and last byte.
    load: usize,
}

/// Simulates the nodes `keep` selects (a closure from [`Graph::closure`]).
/// Nodes that never become runnable get `None`.
pub fn simulate(
    trace: &Trace,
    graph: &Graph,
    keep: &[bool],
    c: &Conditions,
) -> Vec<Option<Timing>> {
    let total = graph.deps.len();
    let n_req = graph.requests;
    let mut origins: Vec<&str> = Vec::new();
    let origin_of: Vec<usize> = trace
        .requests
        .iter()
        .map(|r| match origins.iter().position(|o| *o == r.origin) {
            Some(i) => i,
            None => {
                origins.push(&r.origin);
                origins.len() - 1
            }
        })
        .collect();
    // Server think time per origin when a request's own is hidden: the
    // median of the origin's observed ones.
    let origin_server: Vec<f64> = (0..origins.len())
        .map(|o| {
            let mut v: Vec<f64> = (0..n_req)
                .filter(|&i| origin_of[i] == o)
                .filter_map(|i| trace.requests[i].server_ms())
                .collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        })
        .collect();
    let mut dns_ready: Vec<Option<f64>> = vec![None; origins.len()];
    let mut conns: Vec<Conn> = Vec::new();
    let mut conn_of: Vec<Option<usize>> = vec![None; n_req];
    let mut state = vec![State::Waiting; total];
    let mut timing: Vec<Option<Timing>> = vec![None; total];
    let mut pending: Vec<usize> = (0..total)
        .map(|n| graph.deps[n].iter().filter(|&&d| keep[d]).count())
        .collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); total];
    for n in (0..total).filter(|&n| keep[n]) {
        for &d in graph.deps[n].iter().filter(|&&d| keep[d]) {
            dependents[d].push(n);
        }
    }
    for n in (0..total).filter(|&n| keep[n] && pending[n] == 0) {
        state[n] = State::Queued;
    }
    // Requests queued or in flight, in id order: the loop below visits only
    // these, so a step costs what is in flight, not the whole page.
    let mut live: Vec<usize> = (0..n_req)
        .filter(|&i| matches!(state[i], State::Queued))
        .collect();
    let rate_total = c.bytes_per_ms();
    let rtt = c.rtt_ms;
    let mut now = 0.0_f64;
    let mut thread_busy = false;

    loop {
        // Late binding, as Chrome's socket pool does: a request waiting for
        // a new connection takes an existing one of its origin that fell
        // idle first. Without it, a request finishing a microsecond later
        // would cost its follower a whole connection setup.
        for &i in &live {
            let (State::FirstByteAt(_), Some(k)) = (state[i], conn_of[i]) else {
                continue;
            };
            if conns[k].warm_at <= now + EPS {
                continue;
            }
            let o = conns[k].origin;
            let idle = conns
                .iter()
                .position(|cn| cn.origin == o && cn.load == 0 && cn.warm_at <= now + EPS);
            if let Some(w) = idle {
                conns[k].load -= 1;
                conns[w].load += 1;
                conn_of[i] = Some(w);
                let server = trace.requests[i].server_ms().unwrap_or(origin_server[o]);
                state[i] = State::FirstByteAt(now + rtt + server);
            }
        }
        // Hand queued requests to connections, in id order (discovery order).
        for &i in &live {
            if !matches!(state[i], State::Queued) {
                continue;
            }
            let r = &trace.requests[i];
            let o = origin_of[i];
            let reuse = conns
                .iter()
                .position(|k| k.origin == o && (r.protocol == Protocol::H2 || k.load == 0));
            let open = conns.iter().filter(|k| k.origin == o).count();
            let limit = if r.protocol == Protocol::H2 {
                1
            } else {
                H1_CONNECTIONS_PER_ORIGIN
            };
            let k = match reuse {
                Some(k) => k,
                None if open < limit => {
                    let dns_at = *dns_ready[o].get_or_insert(now + DNS_RTTS * rtt);
                    let tls = if r.is_secure() { rtt } else { 0.0 };
                    conns.push(Conn {
                        origin: o,
                        warm_at: dns_at.max(now) + rtt + tls,
                        cwnd: INITIAL_CWND.min(c.max_cwnd()),
                        budget: 0.0,
                        round_end: 0.0,
                        load: 0,
                    });
                    conns.len() - 1
                }
                None => continue,
            };
            conns[k].load += 1;
            conn_of[i] = Some(k);
            let server = r.server_ms().unwrap_or(origin_server[o]);
            state[i] = State::FirstByteAt(conns[k].warm_at.max(now) + rtt + server);
            timing[i] = Some(Timing {
                start: now,
                end: now,
            });
        }
        // Start the next main-thread task.
        if !thread_busy && let Some(n) = (n_req..total).find(|&n| matches!(state[n], State::Queued))
        {
            let dur = trace.tasks[n - n_req].duration_ms * c.cpu_slowdown;
            state[n] = State::Running { until: now + dur };
            timing[n] = Some(Timing {
                start: now,
                end: now,
            });
            thread_busy = true;
        }

        // Rates: the downlink split among connections allowed to send now.
        let mut streams = vec![0usize; conns.len()];
        for &i in &live {
            if let (State::Downloading { .. }, Some(k)) = (state[i], conn_of[i]) {
                streams[k] += 1;
            }
        }
        let sending: Vec<bool> = conns
            .iter()
            .enumerate()
            .map(|(k, cn)| streams[k] > 0 && cn.budget > EPS)
            .collect();
        let n_sending = sending.iter().filter(|s| **s).count().max(1) as f64;
        let conn_rate = rate_total / n_sending;

        let mut next = f64::INFINITY;
        for &i in &live {
            match state[i] {
                State::FirstByteAt(t) => next = next.min(t),
                State::Downloading { remaining } => {
                    if let Some(k) = conn_of[i].filter(|&k| sending[k]) {
                        next = next.min(now + remaining / (conn_rate / streams[k] as f64));
                    }
                }
                _ => {}
            }
        }
        for (k, cn) in conns.iter().enumerate() {
            if streams[k] > 0 {
                next = next.min(cn.round_end);
                if sending[k] {
                    next = next.min(now + cn.budget / conn_rate);
                }
            }
        }
        for st in &state[n_req..] {
            if let State::Running { until } = *st {
                next = next.min(until);
            }
        }
        if !next.is_finite() {
            break;
        }
        let dt = (next - now).max(0.0);
        now = next.max(now);

        // Advance transfers.
        for &i in &live {
            if let (State::Downloading { remaining }, Some(k)) = (state[i], conn_of[i])
                && sending[k]
            {
                let got = conn_rate / streams[k] as f64 * dt;
                state[i] = State::Downloading {
                    remaining: remaining - got,
                };
            }
        }
        for (k, cn) in conns.iter_mut().enumerate() {
            if sending[k] {
                cn.budget = (cn.budget - conn_rate * dt).max(0.0);
            }
        }

        let mut finished: Vec<usize> = Vec::new();
        let mut started = vec![false; conns.len()];
        for &i in &live {
            match state[i] {
                State::FirstByteAt(t) if t <= now + EPS => {
                    let bytes = trace.requests[i].bytes() as f64;
                    state[i] = State::Downloading { remaining: bytes };
                    if let Some(k) = conn_of[i] {
                        started[k] = true;
                        let cn = &mut conns[k];
                        if streams[k] == 0 && cn.round_end <= now + EPS {
                            cn.round_end = now + rtt;
                            cn.budget = cn.cwnd * SEGMENT_BYTES;
                        }
                    }
                }
                _ => {}
            }
            if let State::Downloading { remaining } = state[i]
                && remaining <= EPS
            {
                finished.push(i);
            }
        }
        for (k, cn) in conns.iter_mut().enumerate() {
            let busy = streams[k] > 0 || started[k];
            if busy && cn.round_end <= now + EPS {
                cn.cwnd = (cn.cwnd * 2.0).min(c.max_cwnd());
                cn.budget = cn.cwnd * SEGMENT_BYTES;
                cn.round_end = now + rtt;
            }
        }
        for (n, st) in state.iter().enumerate().skip(n_req) {
            if let State::Running { until } = *st
                && until <= now + EPS
            {
                thread_busy = false;
                finished.push(n);
            }
        }
        let mut released = false;
        for n in finished {
            state[n] = State::Done;
            if let Some(t) = timing[n].as_mut() {
                t.end = now;
            }
            if let Some(k) = conn_of.get(n).copied().flatten() {
                conns[k].load -= 1;
            }
            for &m in &dependents[n] {
                pending[m] -= 1;
                if pending[m] == 0 {
                    state[m] = State::Queued;
                    if m < n_req {
                        live.push(m);
                        released = true;
                    }
                }
            }
        }
        live.retain(|&i| !matches!(state[i], State::Done));
        if released {
            live.sort_unstable();
        }
    }
    timing
}
