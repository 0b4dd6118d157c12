//! The command line, as clap definitions only.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "leadscout",
    version = crate::VERSION,
    about = "Audit local businesses' websites, publish private report pages, and send compliant outreach from the terminal.",
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Where leadscout keeps its store and screenshots.
    #[arg(long, global = true, env = "LEADSCOUT_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Config file [default: $XDG_CONFIG_HOME/leadscout/config.toml, optional].
    #[arg(long, global = true, env = "LEADSCOUT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Attach to the `serve` listening on this control socket, e.g. one
    /// forwarded over SSH [default: DATA_DIR/control.sock when a server
    /// answers there].
    #[arg(long, global = true, env = "LEADSCOUT_SOCKET", value_name = "PATH")]
    pub socket: Option<PathBuf>,

    /// Browse only: list, show, filter and read everything; every change is
    /// refused.
    #[arg(long, global = true, env = "LEADSCOUT_READ_ONLY")]
    pub read_only: bool,

    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Log more to stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Without a command, the TUI opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list and archive campaigns.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Import leads from a CSV, JSON or JSON Lines file.
    Import(ImportArgs),
    /// Find businesses with websites in OpenStreetMap and add them as leads.
    Discover(DiscoverArgs),
    /// The action log: who approved, rejected, edited, sent, blacklisted,
    /// changed settings or imported, when, and what it changed.
    Log {
        /// Only this campaign's actions.
        #[arg(long, short)]
        campaign: Option<String>,
        /// The newest this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// List, show and add leads.
    #[command(subcommand)]
    Leads(LeadsCommand),
    /// The do-not-contact list.
    #[command(subcommand)]
    Blacklist(BlacklistCommand),
    /// Sender identity and other settings kept in the store.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Write a campaign's leads as CSV or JSON Lines.
    Export(ExportArgs),
    /// Write a portable backup of the whole data dir into DIR.
    Backup {
        /// A new or empty directory.
        dir: PathBuf,
    },
    /// Restore a backup from DIR into a new, empty data dir.
    Restore {
        /// A directory written by `leadscout backup`.
        dir: PathBuf,
    },
    /// Check the config, the data dir and its lock, the store and its indexes, and the browser path.
    Doctor {
        /// Rebuild the lead and follow-up indexes from the leads and emails
        /// first (with no `serve`, TUI or `work` running over the data dir).
        #[arg(long)]
        repair: bool,
    },
    /// Start a pipeline run over a campaign's leads.
    Run(RunArgs),
    /// Run the job workers in this process for whatever is queued.
    Work {
        /// Stop once nothing is queued or running (resumes an interrupted `run --wait`).
        #[arg(long)]
        until_idle: bool,
    },
    /// Pipeline runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Jobs and their attempts (the run log).
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Audit results of a lead.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The cache of fetched pages and screenshots.
    #[command(subcommand)]
    Blobs(BlobsCommand),
    /// Private report pages: links, revocation, static export.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Emails: review, edit, approve, send within the limits, mark replies.
    #[command(subcommand)]
    Outreach(OutreachCommand),
    /// Replies, auto-replies and bounces read from the inbox.
    #[command(subcommand)]
    Inbox(InboxCommand),
    /// Follow-up sequences: a campaign's steps, a lead's stop.
    #[command(subcommand)]
    Sequence(SequenceCommand),
    /// The full-screen terminal UI (also what `leadscout` alone opens).
    Tui,
    /// Shell completions on standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on standard output.
    Man,
    /// A complete offline demo: bundled websites on this machine are
    /// audited, reported on and drafted for, then the TUI opens on them.
    Demo {
        /// Print a summary instead of opening the TUI.
        #[arg(long)]
        headless: bool,
        /// With --headless: keep the page server up until Ctrl-C.
        #[arg(long, requires = "headless")]
        serve: bool,
    },
    /// Run headless: job workers and the page server until SIGTERM or Ctrl-C.
    Serve {
        /// Log format on stdout [default: from config, `text`].
        #[arg(long, value_enum)]
        log_format: Option<LogFormatArg>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BlobsCommand {
    /// Delete cached pages and screenshots that nothing refers to any more.
    Gc,
}

#[derive(Debug, Subcommand)]
pub enum OutreachCommand {
    /// A campaign's emails and where each stands.
    List {
        #[arg(long, short = 'c')]
        campaign: String,
        /// draft, approved, sending, sent, rejected, suppressed, failed, needs_review
        #[arg(long)]
        status: Option<String>,
    },
    /// One lead's email: text, status, notes and earlier versions.
    Show {
        /// Lead id or website.
        lead: String,
    },
    /// Edit the email in $EDITOR (the first line is the subject).
    Edit {
        /// Lead id or website.
        lead: String,
        /// Take the new text (Subject: line, blank line, body) from FILE
        /// instead of an editor.
        #[arg(long)]
        from_file: Option<PathBuf>,
        /// Save only if the email is still at this version (`outreach show`
        /// prints it); by default, the version it had when this command
        /// started. A newer text is never replaced silently.
        #[arg(long, value_name = "N")]
        if_version: Option<u32>,
    },
    /// Approve drafts for sending.
    Approve {
        /// Lead ids or websites.
        leads: Vec<String>,
        /// Every draft of the campaign.
        #[arg(long, requires = "campaign")]
        all_drafted: bool,
        #[arg(long, short = 'c')]
        campaign: Option<String>,
    },
    /// Reject drafts (or approved emails): they will not be sent.
    Reject {
        /// Lead ids or websites.
        #[arg(required = true)]
        leads: Vec<String>,
    },
    /// Take back a reject: the emails go back to draft, their text as it
    /// was.
    Restore {
        /// Lead ids or websites.
        #[arg(required = true)]
        leads: Vec<String>,
    },
    /// Send the campaign's approved emails within the sending limits.
    Send {
        #[arg(long, short = 'c')]
        campaign: String,
        /// Keep going through closed send windows and full daily caps.
        #[arg(long)]
        wait: bool,
        /// Show what would be sent and check what the real send needs
        /// (SMTP set up and answering, sender identity, unsubscribe links);
        /// change nothing. Exits 3 when the real send would stop.
        #[arg(long)]
        dry_run: bool,
        /// Let the server (`serve` or an open TUI) go on sending after this
        /// command ends; without it the send stops when this command does.
        #[arg(long)]
        detach: bool,
    },
    /// Stop the running sends (of one campaign) after the message in hand.
    Stop {
        #[arg(long, short = 'c')]
        campaign: Option<String>,
    },
    /// Record what you learned outside leadscout; no further mail goes to
    /// replied, bounced or won leads.
    #[command(group = clap::ArgGroup::new("mark").required(true).multiple(false))]
    Mark {
        /// Lead id or website.
        lead: String,
        #[arg(long, group = "mark")]
        replied: bool,
        #[arg(long, group = "mark")]
        bounced: bool,
        #[arg(long, group = "mark")]
        won: bool,
    },
    /// Write approved emails as CSV for another sending tool.
    Export {
        #[arg(long, short = 'c')]
        campaign: String,
        /// Only csv.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Output file; standard output when missing.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One lead's conversation: the email(s) sent, then every reply,
    /// auto-reply and bounce read from the inbox, in time order.
    Thread {
        /// Lead id or website.
        lead: String,
    },
    /// Print the email template a campaign uses (a start for your own).
    Template {
        #[arg(long, short = 'c')]
        campaign: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SequenceCommand {
    /// A campaign's steps (the first email, then each follow-up with its
    /// delay) and what each step did: waiting, sent, replied.
    Show { campaign: String },
    /// Set a campaign's follow-ups. Each `--step FILE:DELAY` is one
    /// follow-up, in order, e.g. --step followup1.txt:"3 business days";
    /// the first email stays the campaign's own template.
    Set {
        campaign: String,
        /// FILE:DELAY, e.g. followup1.txt:"3 business days"; repeat for
        /// each follow-up. Replaces the follow-ups set before.
        #[arg(long = "step", value_name = "FILE:DELAY")]
        steps: Vec<String>,
        /// Remove every follow-up (the first email alone).
        #[arg(long)]
        clear: bool,
        /// Whether the first email's approval covers its follow-ups.
        #[arg(long, value_name = "true|false")]
        auto_approve_followups: Option<bool>,
    },
    /// Stop a lead's sequence for good: no further follow-ups; a pending
    /// follow-up is withdrawn.
    Stop {
        /// Lead id or website.
        lead: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Where a lead stands: steps sent, the next one due, why it stopped.
    Status {
        /// Lead id or website.
        lead: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Read the new mail once ([imap] in config.toml) and apply it: replies
    /// mark their lead replied, bounces blacklist the address.
    Sync,
    /// The inbox watcher: last sync, last error.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Print the lead's report URL (made now if it has none).
    Url {
        /// Lead id or website.
        lead: String,
    },
    /// Revoke the lead's report link: it answers 404 from now on.
    Revoke {
        /// Lead id or website.
        lead: String,
    },
    /// Write a campaign's published reports as a static site.
    Export {
        #[arg(long)]
        campaign: String,
        /// Output directory (made if missing; files in it are replaced).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The latest audit: scores, findings with evidence, contacts, timings.
    Show {
        /// Lead id or website.
        lead: String,
    },
    /// What is new, fixed or unchanged since the previous audit.
    Diff {
        /// Lead id or website.
        lead: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, short)]
    pub campaign: String,
    /// Stages to run, comma-separated, e.g. fetch,audit [default: all].
    #[arg(long, value_delimiter = ',')]
    pub stages: Vec<String>,
    /// Only these leads (ids or websites), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub leads: Vec<String>,
    /// Only leads with this status.
    #[arg(long)]
    pub status: Option<String>,
    /// Run the workers here until the run is done, with progress and a summary.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List,
    /// Show one run with per-stage counts.
    Show { id: String },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs.
    List {
        #[arg(long)]
        run: Option<String>,
        /// Only jobs of this lead (id or website).
        #[arg(long)]
        lead: Option<String>,
        /// queued, running, succeeded, retrying, failed, dead, cancelled, skipped, needs_review
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        stage: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show one job with every attempt and its errors.
    Show { id: String },
    /// Queue finished jobs again: one by id, or every failed one with --failed.
    Retry {
        #[arg(required_unless_present = "failed", conflicts_with = "failed")]
        id: Option<String>,
        /// Every failed, dead or needs-review job (narrow with --run, --stage).
        #[arg(long)]
        failed: bool,
        #[arg(long, requires = "failed")]
        run: Option<String>,
        #[arg(long, requires = "failed")]
        stage: Option<String>,
    },
    /// Cancel a job, or every unfinished job of a run.
    Cancel {
        #[arg(required_unless_present = "run", conflicts_with = "run")]
        id: Option<String>,
        #[arg(long)]
        run: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign.
    Create {
        /// Display name, e.g. "Dentists Berlin".
        name: String,
        /// Short name used in commands [default: derived from the name].
        #[arg(long)]
        slug: Option<String>,
    },
    /// List campaigns with lead counts.
    List,
    /// Show one campaign.
    Show { slug: String },
    /// Archive a campaign: it keeps its data but takes no new leads or runs.
    Archive { slug: String },
    /// Pause a campaign: no runs or sends until it is activated again.
    Pause { slug: String },
    /// Make a paused or archived campaign active again.
    Activate { slug: String },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: CSV (`,` `;` tab or `|`), JSON array, or JSON Lines.
    pub file: PathBuf,
    /// The campaign to import into.
    #[arg(long, short)]
    pub campaign: String,
    /// Check the file and count what would happen, without storing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The campaign to add the leads to.
    #[arg(long, short)]
    pub campaign: String,
    /// A category (dentist, bakery, plumber, …) or an OpenStreetMap tag
    /// such as craft=roofer.
    #[arg(long)]
    pub category: String,
    /// A town or district as OpenStreetMap names it, e.g. "Berlin".
    #[arg(long)]
    pub area: String,
    /// At most this many places.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Ask the map and count what would happen, without storing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum LeadsCommand {
    /// List a campaign's leads.
    List {
        #[arg(long, short)]
        campaign: String,
        /// Only leads with this status (new, audited, drafted, sent, failed, ...).
        #[arg(long)]
        status: Option<String>,
        /// At most this many leads.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show one lead, by id or website.
    Show { lead: String },
    /// Add one lead by hand.
    Add {
        #[arg(long, short)]
        campaign: String,
        #[arg(long)]
        website: String,
        /// Business name [default: the domain].
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        #[arg(long)]
        city: Option<String>,
        #[arg(long)]
        category: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BlacklistCommand {
    /// Blacklist an email address or a whole domain.
    Add {
        /// `someone@example.com` or `example.com`.
        value: String,
        #[arg(long, default_value = "manual")]
        reason: String,
    },
    /// List blacklist entries.
    List,
    /// Remove an entry.
    Remove { value: String },
    /// Add every email or domain in a file (one per line, or the first column of a CSV).
    Import {
        file: PathBuf,
        #[arg(long, default_value = "manual")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Show every setting and its value.
    List {
        /// Show the values in force for this campaign.
        #[arg(long, short)]
        campaign: Option<String>,
    },
    /// Show one setting.
    Get {
        key: String,
        #[arg(long, short)]
        campaign: Option<String>,
    },
    /// Set a setting (for one campaign with --campaign).
    Set {
        key: String,
        value: String,
        #[arg(long, short)]
        campaign: Option<String>,
    },
    /// Remove a setting, so the global value (or none) applies again.
    Unset {
        key: String,
        #[arg(long, short)]
        campaign: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, short)]
    pub campaign: String,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormatArg,
    /// Write here instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}
