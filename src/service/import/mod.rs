//! The import use case: a CSV or JSON file of businesses becomes leads of a
//! campaign. Bad rows are rejected with their row number and reason while
//! good rows still go in; duplicates by domain and blacklisted rows are
//! counted, never stored. Leads are written in batches, each one transaction,
//! so a crash loses at most the batch in flight and a re-run skips the rest.

pub mod read;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{ImportReport, RejectedRow, Result, Service, ServiceError};
use crate::domain::blacklist::BlacklistSet;
use crate::domain::import::ColumnMap;
use crate::domain::{Campaign, Domain, Lead, LeadId, LeadSource, LeadStatus};
use crate::store::leads::Inserted;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ImportRequest {
    pub path: PathBuf,
    pub campaign: String,
    pub dry_run: bool,
    /// The file's bytes, read by the client when the store is in another
    /// process (possibly on another machine); `None` reads `path` here.
    #[serde(default)]
    pub contents: Option<super::Upload>,
}

impl ImportRequest {
    pub fn new(path: PathBuf, campaign: String, dry_run: bool) -> Self {
        Self {
            path,
            campaign,
            dry_run,
            contents: None,
        }
    }

    /// Reads the file into the request, with the same checks and messages
    /// as an import that reads it in place.
    pub fn upload(mut self, max_mb: u64) -> Result<Self> {
        if self.contents.is_none() {
            self.contents = Some(super::Upload(read_file(&self.path, max_mb)?));
        }
        Ok(self)
    }
}

impl Service {
    pub async fn import(&self, request: ImportRequest) -> Result<ImportReport> {
        let this = self.clone();
        let (campaign, file, dry_run) = (
            request.campaign.clone(),
            request.path.display().to_string(),
            request.dry_run,
        );
        let report = tokio::task::spawn_blocking(move || this.import_blocking(request))
            .await
            .map_err(|e| ServiceError::Invalid(format!("import stopped: {e}")))??;
        if !dry_run {
            self.log_action(
                "import",
                Some(&campaign),
                file,
                format!(
                    "imported {}, {} duplicate(s), {} blacklisted, {} rejected",
                    report.imported,
                    report.duplicates,
                    report.blacklisted,
                    report.rejected.len()
                ),
            )?;
        }
        self.store().flush().await?;
        Ok(report)
    }

    fn import_blocking(&self, request: ImportRequest) -> Result<ImportReport> {
        let campaign = self.writable_campaign(&request.campaign)?;
        let path = &request.path;
        let shown = path.display().to_string();
        let fail = |reason: String| ServiceError::Invalid(format!("{shown}: {reason}"));
        let max_mb = self.config().import.max_file_mb;
        let bytes = match request.contents {
            Some(super::Upload(bytes)) if bytes.len() as u64 > max_mb * 1024 * 1024 => {
                return Err(ServiceError::Invalid(format!(
                    "{shown} is {} MiB, over the {max_mb} MiB limit (config import.max_file_mb)",
                    bytes.len() / (1024 * 1024)
                )));
            }
            Some(super::Upload(bytes)) => bytes,
            None => read_file(path, max_mb)?,
        };
        let decoded = read::decode(&bytes).map_err(fail)?;
        drop(bytes);
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.clone());
        let format = read::detect_format(&file_name, &decoded.text);
        let table = read::parse(decoded.text, format).map_err(fail)?;
        let columns = ColumnMap::from_headers(&table.headers).map_err(|e| fail(e.to_string()))?;

        let blacklist = self.store().blacklist_set()?;
        // Parsing and checking rows runs on this thread while a second one
        // writes finished batches: the two halves cost about the same.
        let (to_writer, batches) = std::sync::mpsc::sync_channel::<Vec<Lead>>(4);
        std::thread::scope(|scope| {
            let writer = scope.spawn(move || self.write_batches(batches));
            let mut run = ImportRun {
                service: self,
                campaign: &campaign,
                file_name,
                dry_run: request.dry_run,
                batch_size: self.config().import.batch_size,
                seen: HashSet::new(),
                blacklist,
                batch: Vec::new(),
                to_writer,
                report: ImportReport::default(),
            };
            run.report.notes.extend(decoded.note);
            let mut rows = 0u64;
            let mut writer_gone = false;
            for (row, cells) in table.rows {
                rows += 1;
                let fields = cells.and_then(|cells| {
                    columns.read_row(|i| cells.get(i).map_or("", String::as_str))
                });
                match fields {
                    Ok(fields) => {
                        if !run.accept(row, fields) {
                            writer_gone = true;
                            break;
                        }
                    }
                    Err(reason) => run.report.rejected.push(RejectedRow { row, reason }),
                }
            }
            if !writer_gone {
                run.send_batch();
            }
            let ImportRun {
                mut report,
                to_writer,
                ..
            } = run;
            drop(to_writer);
            let (imported, duplicates) = writer.join().map_err(|_| {
                ServiceError::Invalid("the import writer stopped unexpectedly".into())
            })??;
            if rows == 0 {
                return Err(fail("the file has a header row but no data rows".into()));
            }
            report.imported += imported;
            report.duplicates += duplicates;
            Ok(report)
        })
    }

    /// Writes batches as they arrive; returns (imported, duplicates).
    fn write_batches(&self, batches: std::sync::mpsc::Receiver<Vec<Lead>>) -> Result<(u64, u64)> {
        let (mut imported, mut duplicates) = (0, 0);
        for batch in batches {
            for outcome in self.store().insert_leads(&batch)? {
                match outcome {
                    Inserted::New => imported += 1,
                    Inserted::Duplicate(_) => duplicates += 1,
                }
            }
        }
        Ok((imported, duplicates))
    }
}

/// State of one import while rows stream through.
struct ImportRun<'a> {
    service: &'a Service,
    campaign: &'a Campaign,
    file_name: String,
    dry_run: bool,
    batch_size: usize,
    /// Domains already taken by an earlier row of this file.
    seen: HashSet<Domain>,
    blacklist: BlacklistSet,
    batch: Vec<Lead>,
    to_writer: std::sync::mpsc::SyncSender<Vec<Lead>>,
    report: ImportReport,
}

impl ImportRun<'_> {
    /// Takes one valid row. Returns false when the writer has stopped (its
    /// error is reported when it is joined).
    fn accept(&mut self, row: u64, fields: crate::domain::import::RowFields) -> bool {
        if !self.seen.insert(fields.domain.clone()) {
            self.report.duplicates += 1;
            return true;
        }
        if self
            .blacklist
            .blocking(&fields.domain, fields.email.as_ref())
            .is_some()
        {
            self.report.blacklisted += 1;
            return true;
        }
        if self.dry_run {
            let exists = self
                .service
                .store()
                .lead_id_by_domain(self.campaign.id, &fields.domain);
            // A read error here only makes the dry-run count a guess; the
            // real import would report it.
            if exists.ok().flatten().is_some() {
                self.report.duplicates += 1;
            } else {
                self.report.imported += 1;
            }
            return true;
        }
        let now = self.service.now();
        self.batch.push(
            Lead {
                id: LeadId::from_ulid(self.service.new_ulid()),
                campaign: self.campaign.id,
                business_name: fields.business_name,
                website: fields.website,
                domain: fields.domain,
                email_source: fields.email.as_ref().map(|_| "import".to_string()),
                email: fields.email,
                address_check: None,
                phone: fields.phone,
                city: fields.city,
                category: fields.category,
                attributes: fields.attributes,
                source: LeadSource::Import {
                    file: self.file_name.clone(),
                    row,
                },
                status: LeadStatus::New,
                status_before_blacklist: None,
                tags: Vec::new(),
                notes: String::new(),
                score: None,
                created_at: now,
                updated_at: now,
            }
            .cleaned(),
        );
        if self.batch.len() >= self.batch_size {
            return self.send_batch();
        }
        true
    }

    fn send_batch(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(self.batch_size));
        self.to_writer.send(batch).is_ok()
    }
}

fn read_file(path: &Path, max_mb: u64) -> Result<Vec<u8>> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| ServiceError::io(format!("cannot read {shown}"), e))?;
    if meta.is_dir() {
        return Err(ServiceError::Invalid(format!(
            "{shown} is a directory, not a file"
        )));
    }
    if meta.len() > max_mb * 1024 * 1024 {
        return Err(ServiceError::Invalid(format!(
            "{shown} is {} MiB, over the {max_mb} MiB limit (config import.max_file_mb)",
            meta.len() / (1024 * 1024)
        )));
    }
    std::fs::read(path).map_err(|e| ServiceError::io(format!("cannot read {shown}"), e))
}
