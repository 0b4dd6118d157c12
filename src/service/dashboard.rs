//! A campaign at a glance: the funnel from leads to replies, the spread of
//! overall scores, the most common problems, and jobs done and emails sent
//! per hour over the last day. One pass over the campaign's leads (their
//! records carry status and score); problems come from an even sample of
//! audits so that 100,000 leads cost a bounded read. The TUI keeps the
//! result and redraws from it; it never recomputes per frame.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Result, Service};
use crate::domain::LeadStatus;
use crate::domain::outreach::OutreachStatus;

/// At most this many audits are read for the problem counts.
pub const PROBLEM_SAMPLE: usize = 1_000;
/// Hours of throughput shown.
pub const HOURS: usize = 24;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelStep {
    pub step: String,
    pub count: u64,
    /// Share of the step before, in percent (the first step: 100).
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProblemCount {
    pub title: String,
    pub leads: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub campaign: String,
    /// leads → audited → drafted → approved → sent → viewed → replied.
    pub funnel: Vec<FunnelStep>,
    /// Leads per overall score band: 0–9, 10–19, …, 90–100.
    pub scores: [u64; 10],
    /// The most common problems, most common first.
    pub problems: Vec<ProblemCount>,
    /// How many audits the problem counts come from.
    pub problems_sampled: u64,
    /// Jobs finished per hour, oldest hour first, the current hour last.
    pub jobs_per_hour: Vec<u64>,
    /// Emails sent per hour, same hours.
    pub sent_per_hour: Vec<u64>,
    /// The sequence's steps: waiting, sent and replied per step.
    #[serde(default)]
    pub by_step: Vec<crate::domain::followup::StepFunnel>,
}

impl Dashboard {
    /// A step's count by name (0 when missing).
    pub fn count(&self, step: &str) -> u64 {
        self.funnel
            .iter()
            .find(|s| s.step == step)
            .map_or(0, |s| s.count)
    }
}

impl Service {
    pub async fn campaign_dashboard(&self, slug: &str) -> Result<Dashboard> {
        let campaign = self.campaign_by_slug(slug)?;
        let now = self.now();
        let hour_of = |at: crate::domain::Timestamp| -> Option<usize> {
            let ago = now.duration_since(at).as_secs();
            (0..(HOURS as i64 * 3600))
                .contains(&ago)
                .then(|| HOURS - 1 - (ago / 3600) as usize)
        };
        let views = self.store().all_view_stats()?;
        let mut scores = [0u64; 10];
        let (mut leads, mut audited, mut replied) = (0u64, 0u64, 0u64);
        let mut audited_ids = Vec::new();
        for id in self.store().campaign_lead_ids(campaign.id, None) {
            let id = id?;
            let Some(lead) = self.store().lead(id)? else {
                continue;
            };
            leads += 1;
            if let Some(score) = lead.score {
                audited += 1;
                scores[(score as usize / 10).min(9)] += 1;
                audited_ids.push(id);
            }
            if matches!(lead.status, LeadStatus::Replied | LeadStatus::Won) {
                replied += 1;
            }
        }
        let (mut drafted, mut approved, mut sent, mut viewed) = (0u64, 0u64, 0u64, 0u64);
        let mut sent_per_hour = vec![0u64; HOURS];
        // Read once: this funnel and the one by step both count them.
        let emails = self.store().campaign_outreach(campaign.id, None)?;
        for o in &emails {
            // A lead counts once, by its first email: a follow-up in hand
            // means the first one was approved and sent.
            drafted += 1;
            if matches!(o.status, OutreachStatus::Approved | OutreachStatus::Sent)
                || o.approved_at.is_some()
                || !o.earlier.is_empty()
            {
                approved += 1;
            }
            if let Some(at) = o.first_sent_at() {
                sent += 1;
                if views.get(&o.lead).is_some_and(|v| v.is_hot()) {
                    viewed += 1;
                }
                if let Some(h) = hour_of(at) {
                    sent_per_hour[h] += 1;
                }
            }
        }
        let steps = [
            ("leads", leads),
            ("audited", audited),
            ("drafted", drafted),
            ("approved", approved),
            ("sent", sent),
            ("viewed", viewed),
            ("replied", replied),
        ];
        let mut funnel = Vec::new();
        let mut before = None;
        for (step, count) in steps {
            let rate = match before {
                None => 100.0,
                Some(0) => 0.0,
                Some(b) => (count as f64 * 1000.0 / b as f64).round() / 10.0,
            };
            funnel.push(FunnelStep {
                step: step.to_string(),
                count,
                rate,
            });
            before = Some(count);
        }

        // An even sample of the audited leads' latest audits.
        let stride = audited_ids.len().div_ceil(PROBLEM_SAMPLE).max(1);
        let mut problems: BTreeMap<String, u64> = BTreeMap::new();
        let mut sampled = 0u64;
        for id in audited_ids.iter().step_by(stride) {
            if let Some(audit) = self.store().audits_of(*id, 1)?.into_iter().next() {
                sampled += 1;
                for check in audit.checks.iter().filter(|c| !c.passed) {
                    *problems.entry(check.title.clone()).or_insert(0) += 1;
                }
            }
        }
        let mut problems: Vec<ProblemCount> = problems
            .into_iter()
            .map(|(title, leads)| ProblemCount { title, leads })
            .collect();
        problems.sort_by(|a, b| b.leads.cmp(&a.leads).then(a.title.cmp(&b.title)));
        problems.truncate(10);

        let mut jobs_per_hour = vec![0u64; HOURS];
        for job in self.store().recent_jobs(50_000)? {
            if job.campaign != campaign.id {
                continue;
            }
            if let Some(h) = job.finished_at.and_then(hour_of) {
                jobs_per_hour[h] += 1;
            }
        }
        Ok(Dashboard {
            campaign: campaign.slug.to_string(),
            funnel,
            scores,
            problems,
            problems_sampled: sampled,
            jobs_per_hour,
            sent_per_hour,
            by_step: self.sequence_view_of(&campaign, &emails)?.steps,
        })
    }
}
