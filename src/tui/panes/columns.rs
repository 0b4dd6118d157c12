//! Column widths of the leads table from what the columns hold: the
//! domain shows whole first, an empty column takes no room, and what is
//! left goes to the business name.

use ratatui::layout::Constraint;

use crate::domain::idn::{unicode_email, unicode_host};
use crate::service::views::LeadView;

/// The status, score and seen columns and the mark.
const FIXED: [u16; 4] = [1, 11, 3, 4];
/// The business name keeps at least this much.
const MIN_BUSINESS: u16 = 10;
const MAX_JOB: u16 = 22;

/// The widest text of each sized column, in characters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Widths {
    pub business: u16,
    pub domain: u16,
    pub email: u16,
    pub job: u16,
}

fn chars(text: &str) -> u16 {
    u16::try_from(text.chars().count()).unwrap_or(u16::MAX)
}

impl Widths {
    pub fn grow(&mut self, lead: &LeadView, job: Option<&str>) {
        self.business = self.business.max(chars(&lead.business_name));
        self.domain = self.domain.max(chars(&unicode_host(&lead.domain)));
        self.email = self.email.max(
            lead.email
                .as_deref()
                .map_or(0, |e| chars(&unicode_email(e))),
        );
        if let Some(job) = job {
            self.grow_job(usize::from(chars(job)));
        }
    }

    pub fn grow_job(&mut self, width: usize) {
        self.job = self.job.max(u16::try_from(width).unwrap_or(u16::MAX));
    }
}

/// How wide each sized column is drawn; 0 leaves the column out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub business: u16,
    pub domain: u16,
    pub email: u16,
    pub job: u16,
}

/// Shares `inner` columns of table between the sized columns: the domain
/// first (whole, if the business name keeps its minimum), then the last
/// job (only when some lead has one), then the email (at most half of
/// what is left when it and the business name do not both fit); the
/// business name takes the rest. `wide` tables have the email and last-job columns.
pub fn layout(inner: u16, wide: bool, content: &Widths) -> Layout {
    let header = |w: u16, title: &str| if w == 0 { 0 } else { w.max(chars(title)) };
    let fixed: u16 = FIXED.iter().sum();
    let mut columns = FIXED.len() as u16 + 2;
    let job_wanted = if wide {
        header(content.job.min(MAX_JOB), "last job")
    } else {
        0
    };
    let email_wanted = if wide {
        header(content.email, "email")
    } else {
        0
    };
    columns += u16::from(job_wanted > 0) + u16::from(email_wanted > 0);
    let mut left = inner.saturating_sub(fixed + columns.saturating_sub(1));
    let domain = header(content.domain, "domain")
        .max(6)
        .min(left.saturating_sub(MIN_BUSINESS));
    left -= domain;
    let job = job_wanted.min(left.saturating_sub(MIN_BUSINESS) / 2);
    left -= job;
    // When both do not fit, the email gets at most half of what is left.
    let email = email_wanted
        .min(left.saturating_sub(MIN_BUSINESS))
        .min((left / 2).max(left.saturating_sub(content.business)));
    left -= email;
    Layout {
        business: left,
        domain,
        email: if email < 5 { 0 } else { email },
        job: if job < 5 { 0 } else { job },
    }
}

impl Layout {
    pub fn constraints(&self) -> Vec<Constraint> {
        let mut c: Vec<Constraint> = FIXED.iter().map(|&w| Constraint::Length(w)).collect();
        c.push(Constraint::Fill(1));
        c.push(Constraint::Length(self.domain));
        if self.email > 0 {
            c.push(Constraint::Length(self.email));
        }
        if self.job > 0 {
            c.push(Constraint::Length(self.job));
        }
        c
    }

    pub fn header(&self) -> Vec<&'static str> {
        let mut h = vec!["", "status", "sc", "seen", "business", "domain"];
        if self.email > 0 {
            h.push("email");
        }
        if self.job > 0 {
            h.push("last job");
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Widths = Widths {
        business: 30,
        domain: 34,
        email: 40,
        job: 0,
    };

    #[test]
    fn an_empty_last_job_column_takes_no_room_and_the_domain_shows_whole() {
        // 120 columns: the campaigns pane takes 24, the leads the rest.
        let l = layout(96 - 2, true, &LONG);
        assert_eq!(l.domain, 34);
        assert_eq!(l.job, 0, "no lead has a job yet");
        assert!(l.business >= MIN_BUSINESS, "{l:?}");
    }

    #[test]
    fn at_100_columns_and_more_the_domain_still_shows_whole() {
        // 100 columns: the leads table alone; 160: 55 % of what the
        // campaigns pane leaves, beside the detail.
        for (inner, wide) in [(100 - 2, true), (74 - 2, false)] {
            let l = layout(inner, wide, &LONG);
            assert_eq!(l.domain, 34, "{l:?}");
            assert!(l.business >= MIN_BUSINESS, "{l:?}");
        }
    }

    #[test]
    fn jobs_get_room_when_there_are_some_and_columns_never_overflow() {
        let with_jobs = Widths { job: 30, ..LONG };
        for inner in [40u16, 60, 94, 158] {
            for wide in [false, true] {
                let l = layout(inner, wide, &with_jobs);
                let used: u16 = FIXED.iter().sum::<u16>()
                    + l.business
                    + l.domain
                    + l.email
                    + l.job
                    + (l.constraints().len() as u16 - 1);
                assert!(used <= inner, "{inner} {l:?}");
            }
        }
        let l = layout(158, true, &with_jobs);
        assert_eq!((l.domain, l.job, l.email), (34, MAX_JOB, 40), "{l:?}");
    }
}
