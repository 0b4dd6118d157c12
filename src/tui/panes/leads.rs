//! The leads table component: the campaign's rows, which of them pass the
//! filter and in what order, the cursor, the marks, and its drawing. Only
//! the rows on screen are built; column widths come from the content,
//! measured when the rows change, not per frame, and the window (the
//! budget in `columns.rs`). Each row's last job comes from the store with
//! the row and follows the job events live.

use std::collections::{HashMap, HashSet};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Row, Table};

use super::columns::{self, Widths, job_text};
use super::pane_block;
use crate::domain::{JobStatus, LeadId, LeadStatus, Stage, Timestamp};
use crate::service::views::{LastJob, LeadView};
use crate::tui::filter::Filter;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Added,
    Status,
    Score,
    Business,
    Domain,
}

const SORTS: [SortKey; 5] = [
    SortKey::Added,
    SortKey::Status,
    SortKey::Score,
    SortKey::Business,
    SortKey::Domain,
];

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Status => "status",
            Self::Score => "score",
            Self::Business => "business",
            Self::Domain => "domain",
        }
    }
}

pub struct LeadsTable {
    pub rows: Vec<LeadView>,
    /// Lead id → index into `rows`.
    pub index: HashMap<LeadId, usize>,
    /// Indices into `rows` that pass the filter, in sort order.
    pub visible: Vec<usize>,
    pub cursor: usize,
    pub offset: usize,
    pub marks: HashSet<LeadId>,
    pub range_anchor: Option<usize>,
    pub filter: Filter,
    pub sort: SortKey,
    pub reverse: bool,
    /// Rows on screen; set by the view.
    pub page: usize,
    pub loading: bool,
    /// The widest text of each sized column over all rows.
    content: Widths,
}

impl Default for LeadsTable {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            index: HashMap::new(),
            visible: Vec::new(),
            cursor: 0,
            offset: 0,
            marks: HashSet::new(),
            range_anchor: None,
            filter: Filter::default(),
            sort: SortKey::Added,
            reverse: false,
            page: 20,
            loading: true,
            content: Widths::default(),
        }
    }
}

impl LeadsTable {
    pub fn selected(&self) -> Option<&LeadView> {
        self.visible
            .get(self.cursor)
            .and_then(|&i| self.rows.get(i))
    }

    pub fn selected_id(&self) -> Option<LeadId> {
        self.selected().map(|l| l.id)
    }

    pub fn get(&self, id: &LeadId) -> Option<&LeadView> {
        self.index.get(id).map(|&i| &self.rows[i])
    }

    pub fn visible_ids(&self) -> Vec<LeadId> {
        self.visible.iter().map(|&i| self.rows[i].id).collect()
    }

    /// The marked leads, or the cursor's when none is marked.
    pub fn targets(&self) -> Vec<LeadId> {
        if self.marks.is_empty() {
            self.selected_id().into_iter().collect()
        } else {
            self.visible_ids()
                .into_iter()
                .filter(|id| self.marks.contains(id))
                .collect()
        }
    }

    /// The campaign's rows arrived (`complete` false for the first
    /// screenful). False when they were ignored.
    pub fn loaded(&mut self, rows: Vec<LeadView>, complete: bool) -> bool {
        // A late first screenful never replaces the whole list.
        if !complete && self.rows.len() > rows.len() {
            return false;
        }
        self.rows = rows;
        self.index = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, l)| (l.id, i))
            .collect();
        self.loading = !complete;
        self.measure();
        self.refresh_visible();
        true
    }

    /// A row read again; the status it had before, when it is shown.
    pub fn reloaded(&mut self, lead: LeadView) -> Option<LeadStatus> {
        let &i = self.index.get(&lead.id)?;
        let job = lead
            .last_job
            .as_ref()
            .map(|j| job_text(j.stage.as_str(), j.status));
        self.content.grow(&lead, job.as_deref());
        let before = std::mem::replace(&mut self.rows[i], lead).status;
        self.refresh_visible();
        Some(before)
    }

    /// A job event: the lead's last job is this one now.
    pub fn job_changed(&mut self, lead: LeadId, stage: Stage, status: JobStatus, now: Timestamp) {
        let Some(&i) = self.index.get(&lead) else {
            return;
        };
        self.content.grow_job(&job_text(stage.as_str(), status));
        self.rows[i].last_job = Some(LastJob {
            stage,
            status,
            at: now,
        });
    }

    /// The width the table would take with every column whole.
    pub fn wanted_width(&self) -> u16 {
        columns::wanted(&self.content)
    }

    pub fn clear(&mut self) {
        self.marks.clear();
        self.loading = true;
    }

    fn measure(&mut self) {
        let mut content = Widths::default();
        for lead in &self.rows {
            let job = lead
                .last_job
                .as_ref()
                .map(|j| job_text(j.stage.as_str(), j.status));
            content.grow(lead, job.as_deref());
        }
        self.content = content;
    }

    /// Applies a new filter; the number of rows it shows.
    pub fn set_filter(&mut self, filter: Filter) -> usize {
        self.filter = filter;
        self.refresh_visible();
        self.visible.len()
    }

    pub fn next_sort(&mut self) -> SortKey {
        let i = SORTS.iter().position(|s| *s == self.sort).unwrap_or(0);
        self.sort = SORTS[(i + 1) % SORTS.len()];
        self.refresh_visible();
        self.sort
    }

    pub fn toggle_reverse(&mut self) {
        self.reverse = !self.reverse;
        self.refresh_visible();
    }

    /// Rebuilds `visible` from the filter and sort, keeping the cursor on
    /// the same lead when it is still there.
    pub fn refresh_visible(&mut self) {
        let keep = self.selected_id();
        let rows = &self.rows;
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&i| self.filter.matches(&rows[i]))
            .collect();
        match self.sort {
            SortKey::Added => {}
            SortKey::Status => visible.sort_by_key(|&i| rows[i].status),
            SortKey::Score => visible.sort_by_key(|&i| rows[i].score.map(i16::from).unwrap_or(-1)),
            SortKey::Business => {
                visible.sort_by_cached_key(|&i| rows[i].business_name.to_lowercase())
            }
            SortKey::Domain => visible.sort_by(|&a, &b| rows[a].domain.cmp(&rows[b].domain)),
        }
        if self.reverse {
            visible.reverse();
        }
        self.visible = visible;
        self.cursor = keep
            .and_then(|id| self.visible.iter().position(|&i| self.rows[i].id == id))
            .unwrap_or(0)
            .min(self.visible.len().saturating_sub(1));
        self.scroll_to_cursor();
    }

    fn scroll_to_cursor(&mut self) {
        let page = self.page.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + page {
            self.offset = self.cursor + 1 - page;
        }
    }

    /// Moves the cursor; the lead now under it when that changed.
    pub fn move_to(&mut self, to: usize) -> Option<LeadId> {
        let before = self.selected_id();
        self.cursor = to.min(self.visible.len().saturating_sub(1));
        self.scroll_to_cursor();
        self.selected_id().filter(|id| Some(*id) != before)
    }

    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_id()
            && !self.marks.remove(&id)
        {
            self.marks.insert(id);
        }
    }

    /// `v`: starts a range, or marks it. What to tell the operator.
    pub fn range_mark(&mut self) -> String {
        match self.range_anchor.take() {
            None => {
                self.range_anchor = Some(self.cursor);
                "range started: move, then press v again".into()
            }
            Some(anchor) => {
                let (a, b) = (anchor.min(self.cursor), anchor.max(self.cursor));
                let b = b.min(self.visible.len().saturating_sub(1));
                for &i in self.visible.get(a..=b).unwrap_or_default() {
                    self.marks.insert(self.rows[i].id);
                }
                format!("{} marked", self.marks.len())
            }
        }
    }

    pub fn mark_all(&mut self) -> usize {
        for &i in &self.visible {
            self.marks.insert(self.rows[i].id);
        }
        self.marks.len()
    }

    pub fn draw(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        campaign: Option<&str>,
        focused: bool,
        theme: &Theme,
    ) {
        // Rows inside the borders, less the header.
        self.page = area.height.saturating_sub(3).max(1) as usize;
        let filtered = !self.filter.is_empty();
        let title = format!(
            " {} — {}{} leads{}{} ",
            campaign.unwrap_or("no campaign"),
            if filtered {
                format!("{} of ", self.visible.len())
            } else {
                String::new()
            },
            self.rows.len(),
            if filtered {
                format!(" /{}", self.filter.text())
            } else {
                String::new()
            },
            if self.marks.is_empty() {
                String::new()
            } else {
                format!(", {} marked", self.marks.len())
            },
        );
        let block = pane_block(Line::from(title), focused, theme);
        if self.visible.is_empty() {
            let text = if self.loading {
                "Loading leads…"
            } else if campaign.is_none() {
                "No campaign yet. `:campaign new NAME` makes one; then `i` imports a CSV into it."
            } else if self.rows.is_empty() {
                "No leads in this campaign yet. `i` imports a CSV file, `A` adds one by hand."
            } else {
                "No lead matches the filter. `/` changes it; an empty filter shows all."
            };
            frame.render_widget(
                Paragraph::new(text)
                    .style(theme.dim())
                    .block(block)
                    .wrap(ratatui::widgets::Wrap { trim: true }),
                area,
            );
            return;
        }
        let layout = columns::budget(area.width.saturating_sub(2), &self.content);
        let start = self.offset.min(self.visible.len());
        let end = (start + self.page).min(self.visible.len());
        let rows: Vec<Row> = self.visible[start..end]
            .iter()
            .enumerate()
            .map(|(n, &i)| {
                let lead = &self.rows[i];
                let cells = layout.row(
                    lead,
                    lead.last_job.as_ref(),
                    self.marks.contains(&lead.id),
                    theme,
                );
                let row = Row::new(cells);
                if start + n == self.cursor {
                    row.style(theme.selected())
                } else {
                    row
                }
            })
            .collect();
        let table = Table::new(rows, layout.constraints())
            .header(Row::new(layout.header()).style(theme.title()))
            .column_spacing(1)
            .block(block);
        frame.render_widget(table, area);
    }
}
