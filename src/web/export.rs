//! `report export`: a campaign's published report pages as a static site
//! that any web server can host: `r/TOKEN/index.html` (so `/r/TOKEN/` works
//! as a link), `r/TOKEN.json`, `s/HASH.png`, `assets/report.css`, and a
//! robots.txt that keeps crawlers out.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::render::{PageLinks, REPORT_CSS, Templates};
use crate::service::{Service, ServiceError};

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct ExportSummary {
    pub dir: PathBuf,
    pub pages: usize,
    pub screenshots: usize,
    /// Published leads without an audit to show (nothing written for them).
    pub skipped: usize,
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| ServiceError::io(format!("cannot create {}", parent.display()), e))?;
    }
    std::fs::write(path, bytes)
        .map_err(|e| ServiceError::io(format!("cannot write {}", path.display()), e))
}

/// Writes every published report of the campaign under `out`.
pub async fn export_campaign(
    service: &Service,
    campaign: &str,
    out: &Path,
) -> Result<ExportSummary, ServiceError> {
    let published = service.published_reports(campaign).await?;
    if published.is_empty() {
        return Err(ServiceError::NotFound(format!(
            "campaign `{campaign}` has no published reports yet; publish them with: leadscout run --campaign {campaign} --stages report"
        )));
    }
    let templates = Templates::new();
    let base = service.config().server.base_url();
    let has_public_server = !service.config().server.public_base_url.is_empty();
    let mut summary = ExportSummary {
        dir: out.to_path_buf(),
        pages: 0,
        screenshots: 0,
        skipped: 0,
    };
    let mut shots = BTreeSet::new();
    for (_, token) in published {
        let Some(view) = service.report_page(token.as_str()).await? else {
            summary.skipped += 1;
            continue;
        };
        // A static host has nothing to POST to: unsubscribing goes to the
        // public server when there is one, otherwise by email.
        // The lead's own unsubscribe token, not the report token: the page
        // may outlive its report link.
        let unsubscribe = match (&view.sender.email, has_public_server) {
            (_, true) => format!("{base}{}", view.unsubscribe_path),
            (Some(email), false) => format!("mailto:{email}?subject=Unsubscribe"),
            (None, false) => format!("{base}{}", view.unsubscribe_path),
        };
        let html = templates
            .report(
                &view,
                &PageLinks {
                    root: "../../",
                    unsubscribe: &unsubscribe,
                },
            )
            .map_err(|e| {
                ServiceError::Invalid(format!("rendering the report for {token}: {e:#}"))
            })?;
        let page_dir = out.join("r").join(token.as_str());
        write(&page_dir.join("index.html"), html.as_bytes())?;
        let json = serde_json::to_vec_pretty(&view)
            .map_err(|e| ServiceError::Invalid(format!("report data for {token}: {e}")))?;
        write(&out.join("r").join(format!("{token}.json")), &json)?;
        for shot in [&view.desktop, &view.mobile].into_iter().flatten() {
            shots.insert(shot.picture.clone());
            shots.insert(shot.thumbnail.clone());
        }
        summary.pages += 1;
    }
    for path in shots {
        let name = path.trim_start_matches("s/");
        if let Some(bytes) = service.screenshot(name).await? {
            write(&out.join("s").join(name), &bytes)?;
            summary.screenshots += 1;
        }
    }
    write(
        &out.join("assets").join("report.css"),
        REPORT_CSS.as_bytes(),
    )?;
    write(&out.join("robots.txt"), b"User-agent: *\nDisallow: /\n")?;
    Ok(summary)
}
