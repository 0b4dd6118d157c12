//! The detail component: the selected lead in six tabs (audit with its
//! metrics, screenshot, draft, contacts, history, conversation), the one detail load in flight,
//! the scroll position of the text shown and its drawing. A fast scroll
//! through the leads asks for one load at a time: the latest row wins,
//! rows passed over are never loaded.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState, Tabs, Wrap};

use super::picture::Pictures;
use unicode_width::UnicodeWidthStr;

use super::pane_block;
use crate::domain::LeadId;
use crate::domain::audit::Category;
use crate::domain::idn::{unicode_email, unicode_url};
use crate::domain::outreach::{AuditRef, OutreachStatus};
use crate::tui::action::{Command, Detail, Effect};
use crate::tui::theme::Theme;

pub const TABS: [&str; 6] = [
    "Audit",
    "Screenshot",
    "Draft",
    "Contacts",
    "History",
    "Conversation",
];

/// The tabs' short names, for a detail too narrow for the whole ones.
const SHORT: [&str; 6] = ["Audit", "Shot", "Draft", "Cont", "Hist", "Conv"];

/// The tab bar's titles for `width` cells, and whether they keep a space
/// either side: whole names; else short ones (the open tab still whole),
/// spaced, then tight; else numbers. No title is ever cut and every
/// number stays visible (a 60-column detail beside the leads).
fn tab_titles(selected: usize, width: usize) -> (Vec<String>, bool) {
    let titles = |names: Option<&[&str; 6]>| -> Vec<String> {
        TABS.iter()
            .enumerate()
            .map(|(i, t)| match names {
                Some(names) if i != selected => {
                    format!("{} {}", i + 1, names[i]).trim_end().to_string()
                }
                _ => format!("{} {t}", i + 1),
            })
            .collect()
    };
    // A divider between two titles, and a space either side when padded.
    let needed = |titles: &[String], padded: bool| -> usize {
        titles
            .iter()
            .map(|t| t.width() + if padded { 2 } else { 0 })
            .sum::<usize>()
            + titles.len()
            - 1
    };
    let numbers = ["", "", "", "", "", ""];
    [
        (titles(None), true),
        (titles(Some(&SHORT)), true),
        (titles(Some(&SHORT)), false),
    ]
    .into_iter()
    .find(|(t, padded)| needed(t, *padded) <= width)
    .unwrap_or_else(|| (titles(Some(&numbers)), true))
}

#[derive(Default)]
pub struct DetailPane {
    pub shown: Option<Detail>,
    pub tab: usize,
    /// `e` was pressed before the lead's detail arrived.
    pub pending_edit: Option<LeadId>,
    pub pictures: Pictures,
    /// The load running now, and the lead wanted once it lands.
    in_flight: Option<LeadId>,
    wanted: Option<LeadId>,
    /// The wanted lead changed while its load ran: load it again.
    again: bool,
    /// The first line of the text on screen, for the lead and tab it was
    /// set on: another lead or tab starts at the top.
    scroll: usize,
    scroll_of: Option<(LeadId, usize)>,
    /// From the last draw: how far the text can scroll (its wrapped
    /// height less the body's; `None` before the first draw) and the
    /// body's height.
    max_scroll: Option<usize>,
    body_height: usize,
}

impl DetailPane {
    pub fn shown_id(&self) -> Option<LeadId> {
        self.shown.as_ref().map(|d| d.lead.lead.id)
    }

    pub fn in_flight(&self) -> Option<LeadId> {
        self.in_flight
    }

    /// The first line on screen (0 at the top).
    pub fn scroll(&self) -> usize {
        self.scroll
    }

    /// Starts at the top when the lead or the tab is not the one the
    /// position was kept for.
    fn sync_scroll(&mut self) {
        let now = self.shown_id().map(|id| (id, self.tab));
        if now != self.scroll_of {
            self.scroll = 0;
            self.scroll_of = now;
            self.max_scroll = None;
        }
    }

    /// A movement key while the detail has the focus scrolls its text:
    /// a line, half the body, or to either end. Whether the key was one.
    pub fn scroll_by(&mut self, command: Command) -> bool {
        self.sync_scroll();
        let half = (self.body_height / 2).max(1);
        let to = match command {
            Command::Down => self.scroll.saturating_add(1),
            Command::Up => self.scroll.saturating_sub(1),
            Command::PageDown => self.scroll.saturating_add(half),
            Command::PageUp => self.scroll.saturating_sub(half),
            Command::Top => 0,
            Command::Bottom => usize::MAX,
            _ => return false,
        };
        // Before the first draw the height is unknown: the draw clamps.
        self.scroll = to.min(self.max_scroll.unwrap_or(usize::MAX));
        true
    }

    /// Show this lead: loads it unless a load is running, in which case
    /// it is loaded when that one lands (latest wins).
    pub fn want(&mut self, id: LeadId) -> Vec<Effect> {
        if self.wanted == Some(id) && self.in_flight.is_some() {
            return Vec::new();
        }
        self.wanted = Some(id);
        self.again = false;
        self.issue()
    }

    /// The lead changed (a job finished): read it again even when shown.
    pub fn refresh(&mut self, id: LeadId) -> Vec<Effect> {
        self.wanted = Some(id);
        if self.in_flight.is_some() {
            self.again = true;
            return Vec::new();
        }
        self.issue()
    }

    fn issue(&mut self) -> Vec<Effect> {
        match (self.in_flight, self.wanted) {
            (None, Some(id)) => {
                self.in_flight = Some(id);
                vec![Effect::LoadDetail(id)]
            }
            _ => Vec::new(),
        }
    }

    /// A load landed. Shown when its lead is still the one wanted;
    /// otherwise the wanted lead is loaded now. Whether it is shown.
    pub fn loaded(&mut self, detail: Detail) -> (bool, Vec<Effect>) {
        let id = detail.lead.lead.id;
        if self.in_flight == Some(id) {
            self.in_flight = None;
        }
        let current = self.wanted == Some(id);
        if current {
            self.pictures.show(detail.picture.as_ref());
            self.shown = Some(detail);
        }
        if current && !self.again {
            return (true, Vec::new());
        }
        self.again = false;
        (current, self.issue())
    }

    /// A load failed: the next wanted lead may go.
    pub fn failed(&mut self, id: LeadId) -> Vec<Effect> {
        if self.in_flight == Some(id) {
            self.in_flight = None;
        }
        if self.wanted == Some(id) {
            self.again = false;
            return Vec::new();
        }
        self.issue()
    }

    pub fn draw(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        focused: bool,
        now: crate::domain::Timestamp,
        theme: &Theme,
    ) {
        self.sync_scroll();
        let name = self
            .shown
            .as_ref()
            .map(|d| d.lead.lead.business_name.clone());
        let inner = pane_block(Line::raw(""), focused, theme).inner(area);
        let [tabs, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
        self.body_height = usize::from(body.height);
        let (titles, padded) = tab_titles(self.tab, usize::from(tabs.width));
        let tab_bar = Tabs::new(titles)
            .padding(if padded { " " } else { "" }, if padded { " " } else { "" })
            .select(self.tab)
            .highlight_style(theme.selected())
            .divider("|");
        let Some(detail) = &self.shown else {
            frame.render_widget(pane_block(" Detail ", focused, theme), area);
            frame.render_widget(tab_bar, tabs);
            frame.render_widget(Paragraph::new("Select a lead.").style(theme.dim()), body);
            return;
        };
        let width = body.width as usize;
        let lines = match self.tab {
            0 => audit(detail, theme, width),
            1 => {
                let text = picture_text(detail, theme);
                if text.is_none() {
                    frame.render_widget(
                        pane_block(
                            format!(" {} ", name.clone().unwrap_or_default()),
                            focused,
                            theme,
                        ),
                        area,
                    );
                    frame.render_widget(tab_bar.clone(), tabs);
                    if self.pictures.draw(frame, body) {
                        // A picture is scaled into the body: nothing scrolls.
                        self.max_scroll = Some(0);
                        self.scroll = 0;
                        return;
                    }
                }
                vec![Line::styled(
                    text.unwrap_or("No screenshot: the screenshot stage has not run."),
                    theme.dim(),
                )]
            }
            2 => draft(detail, theme),
            3 => contacts(detail, theme),
            4 => history(detail, theme),
            _ => super::conversation::lines(
                detail.thread.as_ref(),
                detail.lead.lead.status,
                now,
                theme,
            ),
        };
        let text = Paragraph::new(lines).wrap(Wrap { trim: false });
        // The height after wrapping at the drawn width: the end is the
        // last line at the bottom of the body, never past it.
        let total = text.line_count(body.width);
        let height = usize::from(body.height);
        let max = total.saturating_sub(height);
        self.scroll = self.scroll.min(max);
        self.max_scroll = Some(max);
        let mut title = format!(" {} ", name.unwrap_or_default());
        if max > 0 {
            title.push_str(&format!(
                "· {}–{} of {total} ",
                self.scroll + 1,
                (self.scroll + height).min(total)
            ));
        }
        frame.render_widget(pane_block(title, focused, theme), area);
        frame.render_widget(tab_bar, tabs);
        let offset = u16::try_from(self.scroll).unwrap_or(u16::MAX);
        frame.render_widget(text.scroll((offset, 0)), body);
        if max > 0 {
            // On the right border, beside the text (below the tabs).
            let track = Rect {
                x: area.right().saturating_sub(1),
                y: body.y,
                width: 1,
                height: body.height,
            };
            let mut state = ScrollbarState::new(max + 1)
                .position(self.scroll)
                .viewport_content_length(height);
            frame.render_stateful_widget(
                Scrollbar::new(ScrollbarOrientation::VerticalRight)
                    .begin_symbol(None)
                    .end_symbol(None)
                    .style(theme.border(focused)),
                track,
                &mut state,
            );
        }
    }
}

const OVERALL: &str = "overall";

fn bar(score: u8, width: usize) -> String {
    let filled = (score as usize * width).div_ceil(100).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn audit<'a>(d: &'a Detail, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let Some(a) = &d.audit else {
        return vec![Line::styled(
            "Not audited yet: `r` runs fetch,audit for it.",
            theme.dim(),
        )];
    };
    // The labels keep their whole width (the widest shown), so no label
    // is cut beside the room its bar leaves.
    let label_width = Category::ALL
        .iter()
        .filter(|c| a.scores.categories.contains_key(c))
        .map(|c| c.label().width())
        .chain([OVERALL.len()])
        .max()
        .unwrap_or(0);
    let bar_width = width.saturating_sub(label_width + 5).clamp(5, 30);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("{OVERALL:<label_width$} {:>3} ", a.scores.overall),
            theme.title(),
        ),
        Span::styled(
            bar(a.scores.overall, bar_width),
            theme.score(Some(a.scores.overall)),
        ),
    ])];
    for c in Category::ALL {
        if let Some(s) = a.scores.categories.get(&c) {
            let label = c.label();
            let pad = " ".repeat(label_width.saturating_sub(label.width()));
            lines.push(Line::from(vec![
                Span::raw(format!("{label}{pad} {s:>3} ")),
                Span::styled(bar(*s, bar_width), theme.score(Some(*s))),
            ]));
        }
    }
    lines.push(Line::raw(""));
    for c in Category::ALL {
        let found: Vec<_> = a.findings.iter().filter(|f| f.category == c).collect();
        if found.is_empty() {
            continue;
        }
        lines.push(Line::styled(
            format!("{} ({})", c.label(), found.len()),
            theme.title(),
        ));
        for f in found {
            lines.push(Line::from(vec![
                Span::styled(format!(" {:<8} ", f.severity.as_str()), theme.error()),
                Span::raw(f.title.clone()),
            ]));
            if !f.evidence.is_empty() {
                lines.push(Line::styled(
                    format!("          {}", f.evidence),
                    theme.dim(),
                ));
            }
        }
    }
    if let Some(diff) = &d.diff {
        let delta = i16::from(diff.overall_now) - i16::from(diff.overall_before);
        lines.push(Line::styled(
            format!(
                "since {}: overall {delta:+}",
                diff.previous_at.strftime("%Y-%m-%d")
            ),
            theme.title(),
        ));
        if !diff.diff.fixed.is_empty() {
            lines.push(Line::raw(format!(
                "  fixed: {}",
                diff.diff.fixed.join(", ")
            )));
        }
        if !diff.diff.new.is_empty() {
            lines.push(Line::styled(
                format!("  new: {}", diff.diff.new.join(", ")),
                theme.error(),
            ));
        }
    }
    let metrics = super::metrics::lines(
        &a.metrics,
        a.scores.categories.get(&Category::Performance).copied(),
        theme,
        width,
    );
    if !metrics.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(metrics);
    }
    lines.push(Line::styled(
        format!(
            "{} checks passed · audited {} · {} audit(s)",
            a.passed.len(),
            a.audited_at.strftime("%Y-%m-%d %H:%M"),
            a.audits
        ),
        theme.dim(),
    ));
    lines
}

/// Why no picture is drawn, when none can be.
fn picture_text(d: &Detail, theme: &Theme) -> Option<&'static str> {
    if d.picture.is_none() {
        return Some(if d.audit.is_some() {
            "No screenshot: the screenshot stage has not run (or no browser was found; see `leadscout doctor`)."
        } else {
            "Not audited yet."
        });
    }
    (!theme.color).then_some("Pictures need colour (NO_COLOR is set).")
}

fn draft<'a>(d: &'a Detail, theme: &Theme) -> Vec<Line<'a>> {
    let Some(o) = &d.outreach else {
        // The draft stage says why it made none; say that, not "not yet".
        let text = match &d.lead.no_draft_reason {
            Some(why) => format!("No draft: {why}."),
            None => "No draft yet: the draft stage writes one after the audit.".into(),
        };
        return vec![Line::styled(text, theme.dim())];
    };
    let o = &o.outreach;
    let mut lines = vec![
        Line::from(vec![
            Span::styled("status  ", theme.dim()),
            Span::raw(o.status.to_string()),
        ]),
        Line::from(vec![
            Span::styled("to      ", theme.dim()),
            Span::raw(unicode_email(o.to.as_str()).into_owned()),
        ]),
        Line::from(vec![
            Span::styled("subject ", theme.dim()),
            Span::styled(o.subject.clone(), theme.title()),
        ]),
    ];
    if let Some(note) = o.note.as_ref().or(o.model_note.as_ref()) {
        lines.push(Line::styled(format!("note    {note}"), theme.error()));
    }
    let waiting = matches!(o.status, OutreachStatus::Draft | OutreachStatus::Approved);
    if let Some(audit) = d.audit.as_ref().filter(|_| waiting)
        && let Some(why) = o.written_before(AuditRef {
            created_at: audit.audited_at,
            overall: audit.scores.overall,
        })
    {
        lines.push(Line::styled(format!("stale   {why}"), theme.error()));
    }
    lines.push(Line::raw(""));
    lines.extend(o.body.lines().map(|l| Line::raw(l.to_string())));
    lines.push(Line::styled("a approve · x reject · e edit", theme.dim()));
    lines
}

fn contacts<'a>(d: &'a Detail, theme: &Theme) -> Vec<Line<'a>> {
    let l = &d.lead;
    let mut lines = vec![
        Line::raw(format!("website  {}", unicode_url(&l.lead.website))),
        Line::raw(format!(
            "email    {}{}",
            unicode_email(l.lead.email.as_deref().unwrap_or("–")),
            l.email_source
                .as_ref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        )),
    ];
    if let Some(check) = &l.address_check {
        let style = match check.route.receives_mail() {
            Some(false) => theme.error(),
            _ => theme.dim(),
        };
        lines.push(Line::styled(format!("         {}", check.summary()), style));
    }
    lines.extend([
        Line::raw(format!(
            "phone    {}",
            l.lead.phone.as_deref().unwrap_or("–")
        )),
        Line::raw(format!(
            "city     {}",
            l.lead.city.as_deref().unwrap_or("–")
        )),
        Line::raw(format!(
            "category {}",
            l.lead.category.as_deref().unwrap_or("–")
        )),
    ]);
    if let Some(why) = &l.blacklisted {
        lines.push(Line::styled(format!("blacklisted: {why}"), theme.error()));
    }
    if let Some(a) = &d.audit {
        lines.push(Line::raw(""));
        lines.push(Line::styled("found on the site", theme.title()));
        for e in &a.contacts.emails {
            lines.push(Line::raw(format!("  {} ({})", e.value, e.source)));
        }
        for p in &a.contacts.phones {
            lines.push(Line::raw(format!("  {}", p.value)));
        }
        for (network, url) in &a.contacts.socials {
            lines.push(Line::raw(format!("  {network}: {url}")));
        }
    }
    for (k, v) in &l.attributes {
        lines.push(Line::styled(format!("{k}: {v}"), theme.dim()));
    }
    lines
}

fn history<'a>(d: &'a Detail, theme: &Theme) -> Vec<Line<'a>> {
    if d.jobs.is_empty() {
        return vec![Line::styled("No jobs for this lead yet.", theme.dim())];
    }
    d.jobs
        .iter()
        .flat_map(|j| {
            let mut lines = vec![Line::from(vec![
                Span::raw(format!("{:<11}", j.stage.to_string())),
                Span::styled(
                    format!("{:<13}", j.status.to_string()),
                    theme.job_status(j.status),
                ),
                Span::styled(
                    format!(
                        "{} attempt(s) {}",
                        j.attempts,
                        j.finished_at
                            .or(j.started_at)
                            .map(|t| t.strftime("%m-%d %H:%M").to_string())
                            .unwrap_or_default()
                    ),
                    theme.dim(),
                ),
            ])];
            // The whole error, wrapped: the pane scrolls to it.
            if let Some(e) = &j.last_error {
                lines.extend(
                    e.lines()
                        .map(|l| Line::styled(format!("  {l}"), theme.error())),
                );
            }
            lines
        })
        .collect()
}
