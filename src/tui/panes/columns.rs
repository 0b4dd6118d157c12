//! The leads table's columns and their width budget, from the content
//! and the window (widths in terminal cells: a wide character takes two).
//!
//! Important columns, always shown: the mark, the status, the business
//! name and the site (its host with the port, in Unicode). They get room
//! first, up to their widest content.
//!
//! Optional columns, in the order they keep their place (the last drops
//! out first): score, email, last job, seen (report views), city,
//! category. One with no content takes no room. Each needs its minimum
//! after the important columns got theirs, or it drops out entirely, and
//! every one after it with it: no column is shown as a sliver. Only when
//! no optional column is left are important ones cut: the business name
//! first (down to `MIN_BUSINESS`), then the site.
//!
//! Room left over goes to the optional columns whose content is still
//! cut, the one nearest to whole first (so as many as can be read whole),
//! ties by the order above; what remains after that pads the last column.

use std::borrow::Cow;

use ratatui::layout::Constraint;
use ratatui::widgets::Cell;
use unicode_width::UnicodeWidthStr;

use super::fit;
use crate::domain::LeadStatus;
use crate::domain::idn::{unicode_email, unicode_host};
use crate::service::views::{LastJob, LeadView};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Status,
    Score,
    Seen,
    Business,
    Site,
    Email,
    City,
    Category,
    Job,
}

use Col::*;

/// Left to right on screen.
const DISPLAY: [Col; 10] = [
    Mark, Status, Score, Seen, Business, Site, Email, City, Category, Job,
];
/// The optional columns, the first kept longest.
const OPTIONAL: [Col; 6] = [Score, Email, Job, Seen, City, Category];
/// The business name keeps at least this much.
pub const MIN_BUSINESS: u16 = 10;

impl Col {
    fn header(self) -> &'static str {
        match self {
            Mark => "",
            Status => "status",
            Score => "sc",
            Seen => "seen",
            Business => "business",
            Site => "domain",
            Email => "email",
            City => "city",
            Category => "category",
            Job => "last job",
        }
    }

    /// The least room an optional column is shown in.
    fn min(self) -> u16 {
        match self {
            Email => 14,
            Job => 12,
            City | Category => 8,
            _ => self.header().len() as u16,
        }
    }
}

fn cells(text: &str) -> u16 {
    u16::try_from(text.width()).unwrap_or(u16::MAX)
}

/// The site as the operator reads it: host and port from the website
/// (the domain key drops both the subdomain and, for names, the port), in
/// Unicode, without a leading `www.`.
pub fn site(lead: &LeadView) -> Cow<'_, str> {
    let authority = lead
        .website
        .split_once("://")
        .map(|(_, rest)| rest.split(['/', '?', '#']).next().unwrap_or(rest))
        .map(|a| a.rsplit_once('@').map_or(a, |(_, host)| host))
        .filter(|a| !a.is_empty());
    match authority {
        Some(a) => {
            let a = a.strip_prefix("www.").unwrap_or(a);
            Cow::Owned(unicode_host(&a.to_ascii_lowercase()).into_owned())
        }
        None => unicode_host(&lead.domain),
    }
}

pub fn job_text(stage: &str, status: impl std::fmt::Display) -> String {
    format!("{stage} {status}")
}

/// The widest content of each column over all rows, in cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Widths([u16; 10]);

impl Widths {
    pub fn get(&self, col: Col) -> u16 {
        self.0[col as usize]
    }

    #[cfg(test)]
    pub fn set(&mut self, col: Col, width: u16) {
        self.0[col as usize] = width;
    }

    fn widen(&mut self, col: Col, width: u16) {
        let w = &mut self.0[col as usize];
        *w = (*w).max(width);
    }

    pub fn grow(&mut self, lead: &LeadView, job: Option<&str>) {
        self.widen(Mark, 1);
        self.widen(Status, cells(lead.status.as_str()));
        if let Some(score) = lead.score {
            self.widen(Score, cells(&score.to_string()));
        }
        if lead.views > 0 {
            self.widen(Seen, cells(&lead.views.to_string()) + u16::from(lead.hot));
        }
        self.widen(Business, cells(&lead.business_name));
        self.widen(Site, cells(&site(lead)));
        if let Some(e) = lead.email.as_deref() {
            self.widen(Email, cells(&unicode_email(e)));
        }
        self.widen(City, lead.city.as_deref().map_or(0, cells));
        self.widen(Category, lead.category.as_deref().map_or(0, cells));
        if let Some(job) = job {
            self.widen(Job, cells(job));
        }
    }

    pub fn grow_job(&mut self, text: &str) {
        self.widen(Job, cells(text));
    }
}

/// How wide each column is drawn; 0 leaves it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout(pub [u16; 10]);

impl Layout {
    pub fn get(&self, col: Col) -> u16 {
        self.0[col as usize]
    }

    fn shown(&self) -> impl Iterator<Item = Col> + '_ {
        DISPLAY
            .into_iter()
            .filter(|&c| c == Mark || self.get(c) > 0)
    }

    /// The cells the table uses, column gaps included.
    #[cfg(test)]
    pub fn used(&self) -> u16 {
        let n = self.shown().count() as u16;
        self.shown().map(|c| self.get(c)).sum::<u16>() + n.saturating_sub(1)
    }

    pub fn constraints(&self) -> Vec<Constraint> {
        self.shown()
            .map(|c| Constraint::Length(self.get(c)))
            .collect()
    }

    pub fn header(&self) -> Vec<&'static str> {
        self.shown().map(Col::header).collect()
    }

    /// One lead's row, each text fitted to its column.
    pub fn row<'a>(
        &self,
        lead: &'a LeadView,
        job: Option<&LastJob>,
        marked: bool,
        theme: &Theme,
    ) -> Vec<Cell<'a>> {
        self.shown()
            .map(|c| {
                let width = usize::from(self.get(c));
                let text = |t: &str| Cell::from(fit(t, width));
                match c {
                    // A mark wins; else `↩` shows a person replied (a
                    // reply is the hottest lead there is).
                    Mark if marked => Cell::from("●").style(theme.marked()),
                    Mark if lead.status == LeadStatus::Replied => {
                        Cell::from("↩").style(theme.good())
                    }
                    Mark => Cell::from(" "),
                    Status => text(lead.status.as_str()).style(theme.lead_status(lead.status)),
                    Score => Cell::from(lead.score.map_or_else(|| "–".into(), |s| s.to_string()))
                        .style(theme.score(lead.score)),
                    // Report views by people; `!` marks a hot lead (viewed
                    // after its email went out).
                    Seen => match (lead.views, lead.hot) {
                        (0, _) => Cell::from(""),
                        (n, true) => Cell::from(format!("{n}!")).style(theme.marked()),
                        (n, false) => Cell::from(n.to_string()),
                    },
                    Business => text(&lead.business_name),
                    Site => text(&site(lead)),
                    Email => text(&unicode_email(lead.email.as_deref().unwrap_or_default())),
                    City => text(lead.city.as_deref().unwrap_or_default()),
                    Category => text(lead.category.as_deref().unwrap_or_default()),
                    Job => match job {
                        Some(j) => text(&job_text(j.stage.as_str(), j.status))
                            .style(theme.job_status(j.status)),
                        None => Cell::from(""),
                    },
                }
            })
            .collect()
    }
}

/// A column's room to show its content whole (with its header); 0 for
/// an optional column with no content.
fn want(content: &Widths, c: Col) -> u16 {
    match (c, content.get(c)) {
        (Mark, _) => 1,
        (Score | Seen | Email | City | Category | Job, 0) => 0,
        (_, w) => w.max(cells(c.header())),
    }
}

/// The cells every column at its widest would take, gaps included.
pub fn wanted(content: &Widths) -> u16 {
    let widths: Vec<u16> = DISPLAY
        .iter()
        .map(|&c| want(content, c))
        .filter(|&w| w > 0)
        .collect();
    widths.iter().sum::<u16>() + (widths.len() as u16).saturating_sub(1)
}

/// Shares `inner` cells between the columns (see the module header).
pub fn budget(inner: u16, content: &Widths) -> Layout {
    let want = |c: Col| want(content, c);
    let mut w = [0u16; 10];
    w[Mark as usize] = 1;
    w[Status as usize] = want(Status);
    // Mark, status, business and site with the three gaps between them.
    let fixed = 1 + w[Status as usize] + 3;
    let room = inner.saturating_sub(fixed);
    let important = want(Business) + want(Site);
    if important >= room {
        // No optional column; the business name is cut first.
        let site = want(Site).min(room.saturating_sub(MIN_BUSINESS));
        w[Site as usize] = site;
        w[Business as usize] = room - site;
        return Layout(w);
    }
    w[Business as usize] = want(Business);
    w[Site as usize] = want(Site);
    let mut left = room - important;
    let mut kept = Vec::new();
    for c in OPTIONAL {
        let wanted = want(c);
        if wanted == 0 {
            continue;
        }
        let least = c.min().min(wanted);
        if least + 1 > left {
            break;
        }
        w[c as usize] = least;
        left -= least + 1;
        kept.push(c);
    }
    // What is left goes to columns still cut, the nearest to whole
    // first (so as many as can be show whole), then by rank.
    kept.sort_by_key(|&c| want(c) - w[c as usize]);
    for c in kept {
        let more = (want(c) - w[c as usize]).min(left);
        w[c as usize] += more;
        left -= more;
    }
    // The rest pads the last column, so the table spans its pane.
    if let Some(last) = DISPLAY.iter().rev().find(|&&c| w[c as usize] > 0) {
        w[*last as usize] += left;
    }
    Layout(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widths(pairs: &[(Col, u16)]) -> Widths {
        let mut w = Widths::default();
        w.set(Mark, 1);
        w.set(Status, 7);
        for &(c, n) in pairs {
            w.set(c, n);
        }
        w
    }

    fn lead(website: &str, domain: &str) -> LeadView {
        LeadView {
            id: crate::domain::LeadId::from_ulid(ulid::Ulid(1)),
            campaign: "c".into(),
            business_name: "Name".into(),
            website: website.into(),
            domain: domain.into(),
            email: None,
            phone: None,
            city: None,
            category: None,
            status: crate::domain::LeadStatus::New,
            score: None,
            created_at: crate::domain::Timestamp::UNIX_EPOCH,
            views: 0,
            last_viewed_at: None,
            hot: false,
            status_before_blacklist: None,
            followup_waiting: None,
            last_job: None,
        }
    }

    #[test]
    fn the_site_keeps_its_port_and_shows_in_unicode() {
        let l = lead("http://127.0.0.1:8931/", "127.0.0.1:8931");
        assert_eq!(site(&l), "127.0.0.1:8931");
        // Websites are stored with their host in punycode.
        let stored = url::Url::parse("https://www.bäckerei-süß.example:8443/x").unwrap();
        let l = lead(stored.as_str(), "x");
        assert_eq!(site(&l), "bäckerei-süß.example:8443");
        let l = lead("https://shop.example.co.uk/", "example.co.uk");
        assert_eq!(site(&l), "shop.example.co.uk");
    }

    #[test]
    fn wide_characters_count_two_cells() {
        let mut w = Widths::default();
        let mut l = lead("https://例え.jp/", "例え.jp");
        l.business_name = "東京ラーメン".into();
        w.grow(&l, None);
        assert_eq!(w.get(Business), 12);
        assert_eq!(w.get(Site), 7);
        assert_eq!(fit("東京ラーメン", 7), "東京ラ…");
    }

    #[test]
    fn important_columns_show_whole_and_leftover_goes_to_optional_ones() {
        let content = widths(&[
            (Business, 46),
            (Site, 37),
            (Email, 40),
            (Score, 2),
            (City, 7),
            (Job, 18),
        ]);
        // 200 columns: the campaigns pane and the detail take the rest.
        let l = budget(120, &content);
        assert_eq!((l.get(Business), l.get(Site)), (46, 37), "{l:?}");
        assert_eq!(l.get(Score), 2, "{l:?}");
        assert!(l.get(Email) >= Email.min(), "{l:?}");
        assert_eq!(l.used(), 120, "{l:?}");
        // Wide enough for all: every column whole, the rest pads the last.
        let l = budget(200, &content);
        assert_eq!((l.get(Email), l.get(City)), (40, 7), "{l:?}");
        assert!(l.get(Job) >= 18, "the last column takes the rest: {l:?}");
        assert_eq!(l.used(), 200, "{l:?}");
    }

    #[test]
    fn optional_columns_drop_out_before_important_ones_are_cut() {
        let content = widths(&[
            (Business, 30),
            (Site, 30),
            (Email, 30),
            (Score, 2),
            (Job, 15),
            (City, 7),
        ]);
        // 78 cells: mark+status+gaps 11, business+site 60, 7 left: the
        // score (2+1) fits, the email (14+1) does not; nothing after it,
        // and the site, last on screen, takes the 4 left.
        let l = budget(78, &content);
        assert_eq!((l.get(Business), l.get(Site)), (30, 34), "{l:?}");
        assert_eq!(l.get(Score), 2, "{l:?}");
        assert_eq!((l.get(Email), l.get(Job), l.get(City)), (0, 0, 0), "{l:?}");
        // Narrower than the important columns: business is cut first.
        let l = budget(60, &content);
        assert_eq!(l.get(Site), 30, "{l:?}");
        assert_eq!(l.get(Business), 60 - 11 - 30, "{l:?}");
        assert_eq!(l.get(Score), 0, "{l:?}");
        let l = budget(40, &content);
        assert_eq!(l.get(Business), MIN_BUSINESS, "{l:?}");
        assert_eq!(l.get(Site), 40 - 11 - MIN_BUSINESS, "{l:?}");
    }

    #[test]
    fn leftover_room_makes_the_nearest_to_whole_column_whole_first() {
        let content = widths(&[(Business, 20), (Site, 20), (Email, 30), (Job, 15)]);
        // 3 cells after every minimum: the last job (3 short) reads whole.
        let l = budget(11 + 40 + 15 + 13 + 3, &content);
        assert_eq!((l.get(Job), l.get(Email)), (15, 14), "{l:?}");
    }

    #[test]
    fn the_wanted_width_is_every_column_whole() {
        let content = widths(&[(Business, 20), (Site, 25), (Email, 30)]);
        assert_eq!(wanted(&content), 1 + 7 + 20 + 25 + 30 + 4);
        assert_eq!(budget(wanted(&content), &content).get(Email), 30);
    }

    #[test]
    fn empty_columns_take_no_room_and_columns_never_overflow() {
        let content = widths(&[(Business, 20), (Site, 25)]);
        let l = budget(100, &content);
        assert_eq!(l.header(), vec!["", "status", "business", "domain"]);
        let content = widths(&[
            (Business, 60),
            (Site, 45),
            (Email, 50),
            (Score, 3),
            (Seen, 3),
            (Job, 22),
            (City, 20),
            (Category, 20),
        ]);
        for inner in 20..=260 {
            let l = budget(inner, &content);
            assert!(
                l.used() <= inner.max(1 + 7 + 3 + MIN_BUSINESS),
                "{inner} {l:?}"
            );
            // An optional column is shown only when all before it are.
            let shown: Vec<bool> = OPTIONAL.iter().map(|&c| l.get(c) > 0).collect();
            assert!(shown.windows(2).all(|p| p[0] || !p[1]), "{inner} {l:?}");
        }
    }
}
