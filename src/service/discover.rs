//! The discover use case: businesses with websites from OpenStreetMap (an
//! Overpass API server) become leads of a campaign, with the licence
//! notice on each. Duplicates by domain and blacklisted ones are counted,
//! not stored. The server is shared, so this process sends one query at a
//! time, names itself, and backs off when the server says it is busy.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError};
use crate::domain::discovery::{self, ODBL_ATTRIBUTION, Place};
use crate::domain::{Email, Lead, LeadId, LeadSource, Website};
use crate::store::leads::Inserted;

/// What `discover` asks for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiscoverRequest {
    pub campaign: String,
    pub category: String,
    pub area: String,
    pub limit: usize,
    pub dry_run: bool,
}

/// What a discovery did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscoverReport {
    /// Places with a website the server answered with.
    pub found: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub blacklisted: u64,
    /// Places whose website could not be used, with the reason.
    pub rejected: Vec<RejectedPlace>,
    /// The server stopped early (its remark): the list is partial.
    pub incomplete: Option<String>,
    pub attribution: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPlace {
    pub reference: String,
    pub reason: String,
}

/// One Overpass query at a time from this process.
static ONE_QUERY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Service {
    pub async fn discover(&self, request: DiscoverRequest) -> Result<DiscoverReport> {
        let campaign = self.writable_campaign(&request.campaign)?;
        let tag = discovery::category_tag(&request.category).map_err(ServiceError::Invalid)?;
        if request.area.trim().is_empty() {
            return Err(ServiceError::Invalid(
                "--area is empty; name a town or district as OpenStreetMap does, e.g. \"Berlin\""
                    .into(),
            ));
        }
        let config = &self.config().discovery;
        let query = discovery::overpass_query(
            &tag,
            &request.area,
            request.limit.max(1),
            config.timeout.as_secs().max(1),
        );
        let body = {
            let _one = ONE_QUERY.lock().await;
            self.ask_overpass(&query).await?
        };
        let found = discovery::parse_answer(&body)
            .map_err(|e| ServiceError::Invalid(format!("{}: {e}", config.overpass_url)))?;
        if found.places.is_empty()
            && let Some(remark) = found.incomplete
        {
            return Err(ServiceError::Invalid(format!(
                "the Overpass server stopped before it found anything ({remark}); try a smaller area or raise discovery.timeout"
            )));
        }
        let mut report = DiscoverReport {
            found: found.places.len() as u64,
            incomplete: found.incomplete,
            attribution: ODBL_ATTRIBUTION.to_string(),
            ..Default::default()
        };
        let blacklist = self.store().blacklist_set()?;
        let mut seen = std::collections::HashSet::new();
        let mut leads = Vec::new();
        for place in found.places {
            let reference = place.reference.clone();
            let lead = match self.lead_from_place(campaign.id, &request.category, place) {
                Ok(lead) => lead,
                Err(reason) => {
                    report.rejected.push(RejectedPlace { reference, reason });
                    continue;
                }
            };
            if !seen.insert(lead.domain.clone()) {
                report.duplicates += 1;
            } else if blacklist
                .blocking(&lead.domain, lead.email.as_ref())
                .is_some()
            {
                report.blacklisted += 1;
            } else if request.dry_run {
                match self.store().lead_id_by_domain(campaign.id, &lead.domain)? {
                    Some(_) => report.duplicates += 1,
                    None => report.imported += 1,
                }
            } else {
                leads.push(lead);
            }
        }
        if !leads.is_empty() {
            for outcome in self.store().insert_leads(&leads)? {
                match outcome {
                    Inserted::New => report.imported += 1,
                    Inserted::Duplicate(_) => report.duplicates += 1,
                }
            }
            self.store().flush().await?;
        }
        Ok(report)
    }

    fn lead_from_place(
        &self,
        campaign: crate::domain::CampaignId,
        category: &str,
        place: Place,
    ) -> std::result::Result<Lead, String> {
        let website = Website::parse(&place.website)
            .map_err(|e| format!("website `{}`: {e}", place.website))?;
        let domain = website.domain();
        // A malformed address in the map is left out, not a reason to skip
        // the business.
        let email = place.email.as_deref().and_then(|e| Email::parse(e).ok());
        let mut attributes = std::collections::BTreeMap::new();
        if let Some(address) = place.address {
            attributes.insert("address".to_string(), address);
        }
        attributes.insert("osm".to_string(), place.reference.clone());
        let source = LeadSource::Discovery {
            reference: format!("OpenStreetMap {}", place.reference),
            attribution: ODBL_ATTRIBUTION.to_string(),
        };
        let id = LeadId::from_ulid(self.new_ulid());
        Ok(Lead {
            business_name: place.name.unwrap_or_else(|| domain.display()),
            email_source: email.as_ref().map(|_| "OpenStreetMap".to_string()),
            email,
            phone: place.phone,
            city: place.city,
            category: Some(category.trim().to_string()),
            attributes,
            ..Lead::new(id, campaign, website, source, self.now())
        }
        .cleaned())
    }

    /// Sends the query; waits and tries again while the server is busy.
    async fn ask_overpass(&self, query: &str) -> Result<bytes::Bytes> {
        let config = &self.config().discovery;
        let url = &config.overpass_url;
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "leadscout/",
                env!("CARGO_PKG_VERSION"),
                " (lead discovery; one query at a time)"
            ))
            .timeout(config.timeout + Duration::from_secs(15))
            .build()
            .map_err(|e| ServiceError::Invalid(format!("cannot set up HTTP: {e}")))?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("data", query)
            .finish();
        let mut wait = config.backoff;
        let mut attempt = 1;
        loop {
            let sent = client
                .post(url)
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(form.clone())
                .send()
                .await
                .map_err(|e| {
                    ServiceError::Invalid(format!(
                        "cannot reach the Overpass server {url}: {e}; check discovery.overpass_url and the network"
                    ))
                })?;
            let status = sent.status().as_u16();
            if matches!(status, 429 | 503 | 504) {
                if attempt >= config.max_attempts {
                    return Err(ServiceError::Invalid(format!(
                        "the Overpass server {url} is busy (HTTP {status}) after {attempt} tries; try again later"
                    )));
                }
                let retry_after = sent
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let pause = retry_after.unwrap_or(wait).min(Duration::from_secs(300));
                tracing::info!(status, attempt, pause = ?pause, "Overpass is busy; waiting");
                tokio::time::sleep(pause).await;
                wait = wait.saturating_mul(2);
                attempt += 1;
                continue;
            }
            let body = sent.bytes().await.map_err(|e| {
                ServiceError::Invalid(format!(
                    "the Overpass server {url} broke off its answer: {e}"
                ))
            })?;
            if status != 200 {
                let text = String::from_utf8_lossy(&body);
                let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                return Err(ServiceError::Invalid(format!(
                    "the Overpass server {url} answered HTTP {status}: {}",
                    first.chars().take(200).collect::<String>()
                )));
            }
            return Ok(body);
        }
    }
}
