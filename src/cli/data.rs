//! `import`, `export`, `backup`, `restore` and `doctor`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};

use super::args::{DiscoverArgs, ExportArgs, ExportFormatArg, ImportArgs};
use super::output::Out;
use crate::service::admin::{Check, CheckStatus};
use crate::service::discover::DiscoverRequest;
use crate::service::export::ExportFormat;
use crate::service::import::ImportRequest;
use crate::service::{Api, Client, Opener, admin};

pub async fn import(args: ImportArgs, service: &Client, out: &Out) -> Result<()> {
    let report = service
        .import_file(ImportRequest::new(
            args.file.clone(),
            args.campaign.clone(),
            args.dry_run,
        ))
        .await?;
    if out.json {
        return out.json(&report);
    }
    for note in &report.notes {
        out.say(format!("Note: {note}."));
    }
    let verb = if args.dry_run {
        "Would import"
    } else {
        "Imported"
    };
    out.say(format!(
        "{verb} {} lead(s) into `{}`: {} duplicate(s) skipped, {} blacklisted skipped, {} row(s) rejected.",
        report.imported,
        args.campaign,
        report.duplicates,
        report.blacklisted,
        report.rejected.len()
    ));
    const SHOWN: usize = 20;
    for r in report.rejected.iter().take(SHOWN) {
        out.say(format!("  row {}: {}", r.row, r.reason));
    }
    if report.rejected.len() > SHOWN {
        out.say(format!(
            "  … and {} more (--json lists them all)",
            report.rejected.len() - SHOWN
        ));
    }
    if !args.dry_run && report.imported > 0 {
        out.say(format!(
            "Next: leadscout leads list --campaign {}",
            args.campaign
        ));
    }
    Ok(())
}

pub async fn discover(args: DiscoverArgs, service: &Client, out: &Out) -> Result<()> {
    let report = service
        .discover(DiscoverRequest {
            campaign: args.campaign.clone(),
            category: args.category.clone(),
            area: args.area.clone(),
            limit: args.limit,
            dry_run: args.dry_run,
        })
        .await?;
    if out.json {
        return out.json(&report);
    }
    let verb = if args.dry_run { "Would add" } else { "Added" };
    out.say(format!(
        "{verb} {} of {} place(s) found for {} in {} to `{}`: {} duplicate(s), {} blacklisted, {} unusable.",
        report.imported,
        report.found,
        args.category,
        args.area,
        args.campaign,
        report.duplicates,
        report.blacklisted,
        report.rejected.len()
    ));
    for r in report.rejected.iter().take(10) {
        out.say(format!("  {}: {}", r.reference, r.reason));
    }
    if let Some(remark) = &report.incomplete {
        out.say(format!(
            "Incomplete: the server stopped early ({remark}); there may be more. Try a smaller area or raise discovery.timeout."
        ));
    }
    if report.found == 0 {
        out.say(
            "Nothing found: check the area's name on openstreetmap.org, or try a broader category.",
        );
    }
    out.say(format!("Data {}", report.attribution));
    Ok(())
}

pub async fn action_log(
    campaign: Option<String>,
    limit: usize,
    service: &Client,
    out: &Out,
) -> Result<()> {
    let records = service.action_log(campaign.clone(), limit).await?;
    if out.json {
        return out.json(&records);
    }
    if records.is_empty() {
        out.say(match campaign {
            Some(c) => format!("No actions recorded for `{c}` yet."),
            None => "No actions recorded yet: approvals, edits, sends, blacklist and settings changes and imports show here.".to_string(),
        });
        return Ok(());
    }
    // What was done is the record's own description, the same words the
    // TUI's action log shows.
    out.table(
        &["when", "user", "via", "what"],
        records.iter().map(|r| {
            vec![
                super::output::when(&r.at),
                r.user.clone(),
                r.via.clone(),
                r.describe(),
            ]
        }),
    )
}

pub async fn export(args: ExportArgs, service: &Client) -> Result<()> {
    let format = match args.format {
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Jsonl => ExportFormat::Jsonl,
    };
    match &args.out {
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            service
                .export(args.campaign.clone(), format, &mut w)
                .await?;
            w.flush().wrap_err("cannot write to stdout")?;
        }
        Some(path) => {
            // Written next to the target and renamed, so a failed export
            // never leaves half a file under the requested name.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = tempfile::NamedTempFile::new_in(dir)
                .wrap_err_with(|| format!("cannot write in {}", dir.display()))?;
            let mut w = std::io::BufWriter::new(tmp);
            let count = service
                .export(args.campaign.clone(), format, &mut w)
                .await?;
            let tmp = w
                .into_inner()
                .map_err(|e| e.into_error())
                .wrap_err("cannot write the export")?;
            tmp.persist(path)
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            eprintln!("Wrote {count} lead(s) to {}.", path.display());
        }
    }
    Ok(())
}

pub async fn blobs_gc(service: &Client, out: &Out) -> Result<()> {
    let report = service.blobs_gc().await?;
    if out.json {
        return out.json(&report);
    }
    out.say(format!(
        "Deleted {} unreferenced blob(s), freeing {:.1} MiB; kept {}.",
        report.deleted,
        report.bytes_freed as f64 / (1024.0 * 1024.0),
        report.kept
    ));
    Ok(())
}

pub async fn backup(dir: &Path, service: &Client, out: &Out) -> Result<()> {
    let manifest = service.backup(std::path::absolute(dir)?).await?;
    if out.json {
        return out.json(&manifest);
    }
    let records: u64 = manifest.trees.values().sum();
    out.say(format!(
        "Backed up {records} records in {} trees and {} blobs to {}.",
        manifest.trees.len(),
        manifest.blobs,
        dir.display()
    ));
    out.say(format!(
        "Restore with: leadscout --data-dir NEW_DIR restore {}",
        dir.display()
    ));
    Ok(())
}

pub async fn restore(dir: &Path, opener: &dyn Opener, out: &Out) -> Result<ExitCode> {
    if let Some(remote) = crate::service::attach(opener).await? {
        color_eyre::eyre::bail!(
            "a restore replaces the whole store, so the server (pid {}) must not be running; stop it first (e.g. systemctl stop leadscout) and run the restore again",
            remote.info().pid
        );
    }
    let manifest = admin::restore(dir, opener.data_dir())?;
    if out.json {
        out.json(&manifest)?;
        return Ok(ExitCode::SUCCESS);
    }
    let records: u64 = manifest.trees.values().sum();
    out.say(format!(
        "Restored {records} records and {} blobs (backup of {}) into {}.",
        manifest.blobs,
        manifest.created_at,
        opener.data_dir().display()
    ));
    Ok(ExitCode::SUCCESS)
}

pub async fn doctor(opener: &dyn Opener, repair: bool, out: &Out) -> Result<ExitCode> {
    let mut checks = Vec::new();
    match opener.config_problem() {
        None => checks.push(Check::new("config", CheckStatus::Ok, opener.config_file())),
        Some(problem) => checks.push(Check::new("config", CheckStatus::Fail, problem)),
    }
    let dir = opener.data_dir();
    checks.push(data_dir_check(dir));
    let attached = match crate::service::attach(opener).await {
        Ok(Some(remote)) => Some(Client::Remote(remote)),
        Ok(None) => None,
        Err(e) => {
            checks.push(Check::new("server", CheckStatus::Fail, e.to_string()));
            None
        }
    };
    if let Some(client) = attached {
        checks.push(Check::new(
            "server",
            CheckStatus::Ok,
            format!(
                "attached to {} (pid {}, leadscout {})",
                client.info().host,
                client.info().pid,
                client.info().version
            ),
        ));
        let store_checks = client.doctor_checks().await?;
        if repair {
            let agree = store_checks
                .iter()
                .any(|c| c.name == "indexes" && c.status == CheckStatus::Ok);
            // The host writes as it runs: a rebuild under it could drop
            // what it writes meanwhile.
            checks.push(if agree {
                Check::new(
                    "repair",
                    CheckStatus::Ok,
                    "nothing to repair: leads, emails and indexes agree",
                )
            } else {
                Check::new(
                    "repair",
                    CheckStatus::Fail,
                    format!(
                        "not done: {} (pid {}) holds the data dir and writes to it; stop it, then run `leadscout doctor --repair` (while jobs run, a write in progress can look like a mismatch: if `leadscout doctor` run again finds none, there is nothing to repair)",
                        client.info().host,
                        client.info().pid
                    ),
                )
            });
        }
        checks.extend(store_checks);
    } else {
        match opener.open("doctor") {
            Ok(service) => {
                checks.push(Check::new(
                    "lock",
                    CheckStatus::Ok,
                    "free; no other leadscout is using the data dir",
                ));
                if repair {
                    checks.push(repair_check(opener, &service).await?);
                }
                checks.extend(service.doctor_checks().await?);
            }
            Err(e) if e.is_locked() => {
                checks.push(Check::new("lock", CheckStatus::Warn, e.to_string()));
                if repair {
                    checks.push(Check::new(
                        "repair",
                        CheckStatus::Fail,
                        "not done: another leadscout holds the data dir (above); stop it, then run `leadscout doctor --repair`",
                    ));
                }
            }
            Err(e) => checks.push(Check::new("store", CheckStatus::Fail, e.to_string())),
        }
    }
    let failed = checks.iter().any(|c| c.status == CheckStatus::Fail);
    if out.json {
        out.json(&checks)?;
    } else {
        out.table(
            &["check", "status", "detail"],
            checks.iter().map(|c| {
                let status = match c.status {
                    CheckStatus::Ok => "ok",
                    CheckStatus::Warn => "warn",
                    CheckStatus::Fail => "FAIL",
                };
                vec![c.name.clone(), status.to_string(), c.detail.clone()]
            }),
        )?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `doctor --repair`: rebuilds the indexes on a store this process holds.
async fn repair_check(opener: &dyn Opener, service: &crate::service::Service) -> Result<Check> {
    if opener.read_only() {
        return Ok(Check::new(
            "repair",
            CheckStatus::Fail,
            "not done: --read-only changes nothing",
        ));
    }
    let rebuilt = service.repair_indexes().await?;
    let done = format!(
        "indexes rebuilt from {} leads and {} waiting follow-ups",
        rebuilt.leads, rebuilt.followups
    );
    let mut warnings = Vec::new();
    if let Some(first) = rebuilt.unreadable.first() {
        warnings.push(format!(
            "{} record(s) could not be read and are left out (a backup from before the damage has them), first: {first}",
            rebuilt.unreadable.len()
        ));
    }
    if let Some(first) = rebuilt.conflicts.first() {
        warnings.push(format!(
            "{} lead(s) share a domain with an older lead of their campaign, first: {first}",
            rebuilt.conflicts.len()
        ));
    }
    Ok(if warnings.is_empty() {
        Check::new("repair", CheckStatus::Ok, done)
    } else {
        Check::new(
            "repair",
            CheckStatus::Warn,
            format!("{done}; {}", warnings.join("; ")),
        )
    })
}

fn data_dir_check(dir: &Path) -> Check {
    if !dir.exists() {
        return Check::new(
            "data dir",
            CheckStatus::Warn,
            format!(
                "{} does not exist yet; the first command that stores something creates it",
                dir.display()
            ),
        );
    }
    match tempfile::tempfile_in(dir) {
        Ok(_) => Check::new(
            "data dir",
            CheckStatus::Ok,
            format!("{} (writable)", dir.display()),
        ),
        Err(e) => Check::new(
            "data dir",
            CheckStatus::Fail,
            format!("{} is not writable: {e}", dir.display()),
        ),
    }
}
