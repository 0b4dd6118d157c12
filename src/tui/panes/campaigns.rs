//! The campaigns pane: name, leads, and how many are at each step. The
//! pane stays narrow (24 columns, beside the leads from 120 columns on)
//! so the table keeps its room; a name or count line too long for it
//! wraps onto more lines rather than being cut.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use super::{pane_block, wrap};
use crate::domain::LeadStatus;
use crate::service::views::CampaignSummary;
use crate::tui::app::{App, Pane};
use crate::tui::theme::Theme;

/// The campaigns component's state: the list, the cursor and which
/// campaign is open.
#[derive(Default)]
pub struct CampaignList {
    pub items: Vec<CampaignSummary>,
    pub cursor: usize,
    /// The open campaign's slug.
    pub open: Option<String>,
}

impl CampaignList {
    /// The list arrived; the campaign to open when none is open yet.
    pub fn loaded(&mut self, items: Vec<CampaignSummary>) -> Option<usize> {
        self.items = items;
        match &self.open {
            Some(slug) => {
                if let Some(i) = self.items.iter().position(|c| &c.slug == slug) {
                    self.cursor = i;
                }
                None
            }
            None => (!self.items.is_empty()).then_some(0),
        }
    }

    /// Opens the campaign at `index`: its slug, to load its leads.
    pub fn open(&mut self, index: usize) -> Option<String> {
        let slug = self.items.get(index)?.slug.clone();
        self.cursor = index;
        self.open = Some(slug.clone());
        Some(slug)
    }

    pub fn move_to(&mut self, to: usize) {
        self.cursor = to.min(self.items.len().saturating_sub(1));
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let focused = app.focus == Pane::Campaigns;
    let width = area.width.saturating_sub(2) as usize;
    let items: Vec<ListItem> = app
        .campaigns
        .items
        .iter()
        .map(|c| {
            let open = app.campaigns.open.as_deref() == Some(c.slug.as_str());
            let count = |s: LeadStatus| c.counts.get(&s).copied().unwrap_or(0);
            let marker = if open { "▸ " } else { "  " };
            let mut lines: Vec<Line> = wrap(&c.name, width.saturating_sub(2))
                .into_iter()
                .enumerate()
                .map(|(i, part)| {
                    let lead_in = if i == 0 { marker } else { "  " };
                    Line::from(Span::styled(format!("{lead_in}{part}"), theme.title()))
                })
                .collect();
            let counts = format!(
                "{} leads, {} drafted, {} sent, {} failed",
                c.leads,
                count(LeadStatus::Drafted) + count(LeadStatus::Approved),
                count(LeadStatus::Sent),
                count(LeadStatus::Failed)
            );
            lines.extend(
                wrap(&counts, width.saturating_sub(2))
                    .into_iter()
                    .map(|part| Line::from(Span::styled(format!("  {part}"), theme.dim()))),
            );
            ListItem::new(lines)
        })
        .collect();
    let block = pane_block(" Campaigns ", focused, theme);
    if items.is_empty() {
        let hint =
            ratatui::widgets::Paragraph::new("No campaigns yet.\n\n:campaign new NAME\nmakes one.")
                .style(theme.dim())
                .block(block);
        frame.render_widget(hint, area);
        return;
    }
    let mut state = ListState::default().with_selected(focused.then_some(app.campaigns.cursor));
    frame.render_stateful_widget(
        List::new(items)
            .block(block)
            .highlight_style(theme.selected()),
        area,
        &mut state,
    );
}
