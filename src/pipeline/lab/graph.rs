//! The dependency graph of one page load: which request or main-thread task
//! had to finish before another could start. Built from CDP initiators when
//! the trace has them, otherwise from timing alone (documented on
//! [`Graph::build`]); subgraphs for each metric are chosen by [`Graph::closure`].

use super::trace::{ResourceType, Trace};

/// Node ids: requests are `0..requests`, tasks follow at `requests + j`.
#[derive(Debug, Clone)]
pub struct Graph {
    pub requests: usize,
    pub tasks: usize,
    /// `deps[n]`: the nodes `n` waits for. Always lower ids for requests and
    /// earlier-finishing nodes for tasks, so the graph is acyclic.
    pub deps: Vec<Vec<usize>>,
}

impl Graph {
    pub fn task_node(&self, j: usize) -> usize {
        self.requests + j
    }

    /// Builds the graph:
    /// - a request with a known initiator (an earlier request) waits for it;
    /// - otherwise one that started before the document finished parsing
    ///   (`dom_interactive_ms`, else the document's end) was found by the
    ///   parser and waits for the document;
    /// - otherwise it waits for the last script or stylesheet that finished
    ///   before it started (what most plausibly asked for it), else the document;
    /// - a request whose parent is a script also waits for the first
    ///   main-thread task that ran after that script arrived and ended before
    ///   the request started (the script's evaluation);
    /// - a task waits for the last request that finished before it started
    ///   (the bytes it processes), else the document.
    pub fn build(trace: &Trace) -> Graph {
        let reqs = &trace.requests;
        let n = reqs.len();
        let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n + trace.tasks.len()];
        let Some(doc) = reqs.first() else {
            return Graph {
                requests: 0,
                tasks: 0,
                deps: Vec::new(),
            };
        };
        let parse_end = trace.dom_interactive_ms.unwrap_or(doc.end_ms);
        for (i, r) in reqs.iter().enumerate().skip(1) {
            let parent = match r.initiator {
                Some(p) if p < i => p,
                _ if r.start_ms <= parse_end => 0,
                _ => (1..i)
                    .filter(|&j| {
                        matches!(
                            reqs[j].resource_type,
                            ResourceType::Script | ResourceType::Stylesheet
                        ) && reqs[j].end_ms <= r.start_ms
                    })
                    .max_by(|&a, &b| reqs[a].end_ms.total_cmp(&reqs[b].end_ms))
                    .unwrap_or(0),
            };
            deps[i].push(parent);
            if reqs[parent].resource_type == ResourceType::Script {
                let eval = trace.tasks.iter().position(|t| {
                    t.start_ms >= reqs[parent].end_ms && t.start_ms + t.duration_ms < r.start_ms
                });
                if let Some(j) = eval {
                    deps[i].push(n + j);
                }
            }
        }
        for (j, t) in trace.tasks.iter().enumerate() {
            let cause = (0..n)
                .filter(|&i| reqs[i].end_ms <= t.start_ms)
                .max_by(|&a, &b| reqs[a].end_ms.total_cmp(&reqs[b].end_ms))
                .unwrap_or(0);
            deps[n + j].push(cause);
        }
        Graph {
            requests: n,
            tasks: trace.tasks.len(),
            deps,
        }
    }

    /// The chosen nodes plus everything they transitively wait for: a
    /// subgraph must keep its ancestors or the simulation would start
    /// requests nobody could have asked for yet.
    pub fn closure(&self, chosen: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut keep = vec![false; self.deps.len()];
        let mut stack: Vec<usize> = (0..self.deps.len()).filter(|&n| chosen(n)).collect();
        while let Some(n) = stack.pop() {
            if !keep[n] {
                keep[n] = true;
                stack.extend(self.deps[n].iter().copied());
            }
        }
        keep
    }
}
