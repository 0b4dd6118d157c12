//! `report export`: a campaign's published report pages as a static site
//! that any web server can host: `r/TOKEN/index.html` (so `/r/TOKEN/` works
//! as a link), `r/TOKEN.json`, `s/HASH.png`, `assets/report.css`, and a
//! robots.txt that keeps crawlers out. It writes only into a new or empty
//! directory, only new files, never through a symlink, 0600/0700.

use std::collections::BTreeSet;
use std::path::Path;

use super::render::{PageLinks, REPORT_CSS, Templates};
use crate::service::{ExportSummary, Service, ServiceError, SiteExport, files};

/// The service's `report_export`, done with this module's pages.
pub struct SiteExporter;

impl SiteExport for SiteExporter {
    fn export<'a>(
        &'a self,
        service: &'a Service,
        campaign: &'a str,
        dir: &'a Path,
    ) -> futures::future::BoxFuture<'a, Result<ExportSummary, ServiceError>> {
        Box::pin(export_campaign(service, campaign, dir))
    }
}

/// Writes one new file (0600) at `rel` under the export directory `out`,
/// making its parent directories (0700) inside it. Never overwrites and
/// never follows a symlink: `out` was new or empty when the export began.
fn write(out: &Path, rel: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    use std::io::Write as _;
    let mut dir = out.to_path_buf();
    if let Some(parent) = rel.parent() {
        for part in parent.components() {
            dir.push(part);
            files::create_private_dir(&dir)
                .map_err(|e| ServiceError::io(format!("cannot create {}", dir.display()), e))?;
        }
    }
    let path = out.join(rel);
    files::create_new_file(&path)
        .and_then(|mut file| file.write_all(bytes))
        .map_err(|e| ServiceError::io(format!("cannot write {}", path.display()), e))
}

/// Writes every published report of the campaign under `out`.
pub async fn export_campaign(
    service: &Service,
    campaign: &str,
    out: &Path,
) -> Result<ExportSummary, ServiceError> {
    // It writes files as the server's user: a change like any other.
    service.refuse_if_read_only("report_export")?;
    let published = service.published_reports(campaign).await?;
    if published.is_empty() {
        return Err(ServiceError::NotFound(format!(
            "campaign `{campaign}` has no published reports yet; publish them with: leadscout run --campaign {campaign} --stages report"
        )));
    }
    files::prepare_out_dir(out, "export directory").map_err(|e| match e {
        files::OutDirError::Io { what, path, source } => {
            ServiceError::io(format!("cannot prepare {what} {path}"), source)
        }
        refused => ServiceError::Invalid(refused.to_string()),
    })?;
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
        let page_dir = Path::new("r").join(token.as_str());
        write(out, &page_dir.join("index.html"), html.as_bytes())?;
        let json = serde_json::to_vec_pretty(&view)
            .map_err(|e| ServiceError::Invalid(format!("report data for {token}: {e}")))?;
        write(out, &Path::new("r").join(format!("{token}.json")), &json)?;
        for shot in [&view.desktop, &view.mobile].into_iter().flatten() {
            shots.insert(shot.picture.clone());
            shots.insert(shot.thumbnail.clone());
        }
        summary.pages += 1;
    }
    for path in shots {
        let name = path.trim_start_matches("s/");
        if let Some(bytes) = service.screenshot(name).await? {
            write(out, &Path::new("s").join(name), &bytes)?;
            summary.screenshots += 1;
        }
    }
    write(
        out,
        &Path::new("assets").join("report.css"),
        REPORT_CSS.as_bytes(),
    )?;
    write(
        out,
        Path::new("robots.txt"),
        b"User-agent: *\nDisallow: /\n",
    )?;
    Ok(summary)
}
