//! The report page as data: what a business owner sees at their private
//! link, built from the lead, its latest audit (and the one before), and
//! the campaign's sender settings. Also the link itself, unsubscribing, the
//! screenshots, and the numbers for /metrics.

use serde::Serialize;

use super::{Result, Service, ServiceError};
use crate::domain::audit::{Audit, AuditDiff, Category, Severity};
use crate::domain::blacklist::BlacklistValue;
use crate::domain::metrics_summary::MetricsSummary;
use crate::domain::report::{ReportLink, ReportToken};
use crate::domain::unsubscribe::UnsubscribeToken;
use crate::domain::{BlacklistReason, Hash, Lead, LeadId, Website};

/// Findings shown in full on the page; the rest are counted.
const TOP_PROBLEMS: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub business_name: String,
    /// Only an http(s) URL, or nothing.
    pub website: Option<String>,
    pub audited_at: String,
    pub overall: u8,
    pub grade: &'static str,
    pub categories: Vec<CategoryScore>,
    pub problems: Vec<Problem>,
    pub more_problems: usize,
    pub passed: usize,
    pub desktop: Option<Shot>,
    pub mobile: Option<Shot>,
    pub changes: Option<Changes>,
    /// The page's title and description as a search result shows them.
    pub search_preview: Option<SearchPreview>,
    /// The phone estimate and what was measured, as people read them.
    pub metrics: Option<MetricsSummary>,
    pub sender: Sender,
    pub cta: Option<CallToAction>,
    pub unsubscribe_path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryScore {
    pub key: &'static str,
    pub label: &'static str,
    pub score: u8,
    pub grade: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub title: String,
    pub evidence: String,
    pub why: String,
    pub fix: String,
    pub severity: Severity,
    pub category: &'static str,
}

/// A screenshot: the thumbnail shown, the full picture linked. Paths are
/// relative to the site root (`s/HASH.png`), so the same view renders on
/// the server and in a static export.
#[derive(Debug, Clone, Serialize)]
pub struct Shot {
    pub picture: String,
    pub thumbnail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Changes {
    pub since: String,
    pub overall_delta: i16,
    pub fixed: Vec<String>,
    pub new: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchPreview {
    pub title: String,
    pub description: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Sender {
    pub name: Option<String>,
    pub company: Option<String>,
    pub email: Option<String>,
    pub postal_address: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CallToAction {
    pub text: String,
    pub url: String,
}

fn grade(score: u8) -> &'static str {
    match score {
        90.. => "good",
        50..=89 => "fair",
        _ => "poor",
    }
}

fn date(ts: &crate::domain::Timestamp) -> String {
    ts.strftime("%B %-d, %Y").to_string()
}

/// At most `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// An http(s) URL as text, or nothing: nothing else may become a link.
fn safe_url(text: &str) -> Option<String> {
    url::Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(String::from)
}

impl Service {
    /// The lead's report link, made now if it has none yet.
    pub async fn report_link(&self, reference: &str) -> Result<(ReportLink, String)> {
        let lead = self.resolve_lead(reference)?;
        let link = self.ensure_report_link(lead.id)?;
        self.store().flush().await?;
        let url = self.report_url(&link.token);
        Ok((link, url))
    }

    pub(crate) fn ensure_report_link(&self, lead: LeadId) -> Result<ReportLink> {
        let now = self.now();
        if let Some(link) = self.store().report_link_of(lead)?
            && link.is_live(now)
        {
            return Ok(link);
        }
        let link = ReportLink::new(
            lead,
            rand::random(),
            now,
            self.config().server.report_expiry,
        );
        self.store().put_report_link(&link)?;
        Ok(link)
    }

    pub fn report_url(&self, token: &ReportToken) -> String {
        format!("{}/r/{token}", self.config().server.base_url())
    }

    /// Revokes the lead's link; the page answers 404 from now on.
    pub async fn revoke_report(&self, reference: &str) -> Result<bool> {
        let lead = self.resolve_lead(reference)?;
        let revoked = self.store().revoke_report_link(lead.id)?;
        self.store().flush().await?;
        Ok(revoked)
    }

    /// The lead behind a live token. Unknown, malformed, revoked and expired
    /// tokens all give `None`: callers answer them the same way.
    pub fn lead_for_token(&self, token: &str) -> Result<Option<Lead>> {
        match self.live_report_lead(token)? {
            Some(lead) => Ok(self.store().lead(lead)?),
            None => Ok(None),
        }
    }

    /// Whose report a token opens, if its link is live: the check every
    /// page view makes, without decoding the lead.
    pub fn live_report_lead(&self, token: &str) -> Result<Option<LeadId>> {
        Ok(self.live_report_link(token)?.map(|link| link.lead))
    }

    /// The link behind a token, if it is live now. A caller that keeps it
    /// checks `is_live` again per use and reads it anew once
    /// [`Self::report_links_generation`] moves.
    pub fn live_report_link(&self, token: &str) -> Result<Option<ReportLink>> {
        let Ok(token) = token.parse::<ReportToken>() else {
            return Ok(None);
        };
        let Some(link) = self.store().report_link(&token)? else {
            return Ok(None);
        };
        Ok(link.is_live(self.now()).then_some(link))
    }

    /// Moves on every publish, replacement and revocation of any report
    /// link; read it before [`Self::live_report_link`].
    pub fn report_links_generation(&self) -> u64 {
        self.store().report_links_generation()
    }

    /// The lead behind an unsubscribe token: its own, or an old report
    /// token that mail from before unsubscribe tokens carries. Revoking,
    /// expiring or replacing the report link changes nothing here.
    pub fn lead_for_unsubscribe(&self, token: &str) -> Result<Option<Lead>> {
        let Some(token) = UnsubscribeToken::parse(token) else {
            return Ok(None);
        };
        let Some(lead) = self.store().unsubscribe_lead(&token)? else {
            return Ok(None);
        };
        Ok(self.store().lead(lead)?)
    }

    /// The lead's unsubscribe page, `/u/TOKEN`, its token made now if it
    /// has none yet (the caller flushes when it tells someone the link).
    pub fn unsubscribe_path(&self, lead: LeadId) -> Result<String> {
        let token = self
            .store()
            .ensure_unsubscribe_token(lead, &UnsubscribeToken::from_random(rand::random()))?;
        Ok(format!("/u/{token}"))
    }

    /// Counts a view of a lead's report page. The user agent only sorts
    /// the view into a kind; neither it nor any address is stored.
    pub fn record_view(
        &self,
        lead: crate::domain::LeadId,
        user_agent: &str,
    ) -> Result<crate::domain::visits::ClientKind> {
        self.record_view_as(lead, crate::domain::visits::classify(user_agent))
    }

    /// [`Self::record_view`] for a client already sorted into its kind.
    pub fn record_view_as(
        &self,
        lead: crate::domain::LeadId,
        client: crate::domain::visits::ClientKind,
    ) -> Result<crate::domain::visits::ClientKind> {
        let counted = self.store().record_visit(
            lead,
            client,
            self.now(),
            self.config().server.scanner_window,
        )?;
        if counted.is_human() {
            self.bus
                .publish(crate::domain::event::Event::LeadChanged { lead });
        }
        Ok(counted)
    }

    /// The report page for a token, or `None` (→ a plain 404).
    pub async fn report_page(&self, token: &str) -> Result<Option<ReportView>> {
        let Some(lead) = self.lead_for_token(token)? else {
            return Ok(None);
        };
        let audits = self.store().audits_of(lead.id, 2)?;
        let Some(latest) = audits.first() else {
            return Ok(None);
        };
        let unsubscribe_path = self.unsubscribe_path(lead.id)?;
        Ok(Some(self.report_view(
            &lead,
            latest,
            audits.get(1),
            unsubscribe_path,
        )?))
    }

    fn report_view(
        &self,
        lead: &Lead,
        audit: &Audit,
        previous: Option<&Audit>,
        unsubscribe_path: String,
    ) -> Result<ReportView> {
        let findings = audit.findings();
        let title_of = |id: &str, a: &Audit| {
            a.checks
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.title.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let changes = previous.map(|previous| {
            let diff = AuditDiff::between(previous, audit);
            Changes {
                since: date(&previous.created_at),
                overall_delta: diff.overall_delta,
                fixed: diff.fixed.iter().map(|id| title_of(id, audit)).collect(),
                new: diff.new.iter().map(|id| title_of(id, audit)).collect(),
            }
        });
        let shot = |name: &str| {
            let picture = audit.screenshots.get(name)?;
            let thumbnail = audit
                .screenshots
                .get(&format!("{name}_thumb"))
                .unwrap_or(picture);
            let full = audit
                .screenshots
                .get(&format!("{name}_full"))
                .unwrap_or(picture);
            Some(Shot {
                picture: format!("s/{full}.png"),
                thumbnail: format!("s/{thumbnail}.png"),
            })
        };
        // The same resolver as drafts and sending, so the page's footer
        // names the sender the email named.
        let setting = |key: &str| -> Result<Option<String>> {
            Ok(self
                .config()
                .effective_value(self.store(), Some(lead.campaign), key)?)
        };
        let cta = setting("report.cta_url")?
            .and_then(|u| safe_url(&u))
            .map(|url| -> Result<CallToAction> {
                let text = setting("report.cta_text")?;
                Ok(CallToAction {
                    text: text.unwrap_or_else(|| crate::config::DEFAULT_CTA_TEXT.into()),
                    url,
                })
            })
            .transpose()?;
        Ok(ReportView {
            business_name: lead.business_name.clone(),
            website: safe_url(lead.website.as_str()),
            audited_at: date(&audit.created_at),
            overall: audit.scores.overall,
            grade: grade(audit.scores.overall),
            categories: Category::ALL
                .iter()
                .filter_map(|c| {
                    audit.scores.categories.get(c).map(|score| CategoryScore {
                        key: c.as_str(),
                        label: c.label(),
                        score: *score,
                        grade: grade(*score),
                    })
                })
                .collect(),
            more_problems: findings.len().saturating_sub(TOP_PROBLEMS),
            problems: findings
                .iter()
                .take(TOP_PROBLEMS)
                .map(|c| Problem {
                    title: c.title.clone(),
                    evidence: c.evidence.clone(),
                    why: c.why.clone(),
                    fix: c.fix.clone(),
                    severity: c.severity,
                    category: c.category.label(),
                })
                .collect(),
            passed: audit.checks.iter().filter(|c| c.passed).count(),
            desktop: shot("desktop"),
            mobile: shot("mobile"),
            changes,
            search_preview: audit.page.title.as_ref().map(|title| SearchPreview {
                title: clip(title, 120),
                description: audit.page.description.as_deref().map(|d| clip(d, 320)),
                url: audit.final_url.clone(),
            }),
            metrics: MetricsSummary::of(
                &audit.metrics,
                audit.scores.categories.get(&Category::Performance).copied(),
            ),
            sender: Sender {
                name: setting("sender.name")?,
                company: setting("sender.company")?,
                email: setting("sender.email")?,
                postal_address: setting("sender.postal_address")?,
            },
            cta,
            unsubscribe_path,
        })
    }

    /// Puts the lead's email and domain on the blacklist (reason
    /// `unsubscribe`), flushed before returning. `None` for an unknown
    /// token.
    pub async fn unsubscribe(&self, token: &str) -> Result<Option<Lead>> {
        let Some(lead) = self.lead_for_unsubscribe(token)? else {
            return Ok(None);
        };
        self.stop_sequence(lead.id, "unsubscribed")?;
        let mut values = vec![BlacklistValue::Domain(lead.domain.clone())];
        if let Some(email) = &lead.email {
            values.push(BlacklistValue::Email(email.clone()));
        }
        for value in values {
            self.blacklist_add_value(&value, BlacklistReason::Unsubscribe, "unsubscribe page")?;
        }
        self.store().flush().await?;
        Ok(self.store().lead(lead.id)?)
    }

    /// A PNG from the blob cache by `HASH.png`; anything else is `None`:
    /// a name that is not exactly a hash, a blob that is not a PNG (the
    /// cache also holds fetched pages), a missing file, or a file that is a
    /// symlink or does not match its hash.
    pub async fn screenshot(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(hash) = name
            .strip_suffix(".png")
            .and_then(|h| h.parse::<Hash>().ok())
        else {
            return Ok(None);
        };
        let service = self.clone();
        let read = tokio::task::spawn_blocking(move || service.store().blobs().get(hash))
            .await
            .map_err(|e| ServiceError::Invalid(format!("reading a screenshot stopped: {e}")))?;
        match read {
            Ok(Some(bytes)) if bytes.starts_with(b"\x89PNG\r\n\x1a\n") => Ok(Some(bytes)),
            Ok(_) => Ok(None),
            Err(crate::store::StoreError::Corrupt { reason, .. }) => {
                tracing::warn!(%hash, %reason, "screenshot refused");
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether this process is ready to serve: the store is open (it is,
    /// or there would be no service) and the workers take jobs.
    pub fn is_ready(&self) -> bool {
        self.engine().is_some_and(|e| e.is_taking_jobs())
    }

    /// Every lead of the campaign with a live report link, for export.
    /// Each has its unsubscribe token on disk before its page is written.
    pub async fn published_reports(&self, campaign: &str) -> Result<Vec<(LeadId, ReportToken)>> {
        let campaign = self.campaign_by_slug(campaign)?;
        let now = self.now();
        let mut out = Vec::new();
        for id in self.store().campaign_lead_ids(campaign.id, None) {
            let id = id?;
            if let Some(link) = self.store().report_link_of(id)?
                && link.is_live(now)
            {
                self.unsubscribe_path(id)?;
                out.push((id, link.token));
            }
        }
        self.store().flush().await?;
        Ok(out)
    }
}

/// A website only when it is http(s).
pub fn website_link(website: &Website) -> Option<String> {
    safe_url(website.as_str())
}
