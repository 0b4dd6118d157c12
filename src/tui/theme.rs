//! Colours and styles, in one place; `NO_COLOR` turns colour off and keeps
//! only bold and reverse, so nothing depends on colour alone.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::{JobStatus, LeadStatus};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Self {
        Self {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            self.fg(Color::DarkGray)
        }
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn marked(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// Good news worth seeing first: a person answered.
    pub fn good(&self) -> Style {
        self.fg(Color::Green).add_modifier(Modifier::BOLD)
    }

    /// Worth a look, not an error: an auto-reply, a temporary failure.
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn score(&self, score: Option<u8>) -> Style {
        match score {
            Some(90..) => self.fg(Color::Green),
            Some(50..=89) => self.fg(Color::Yellow),
            Some(_) => self.fg(Color::Red),
            None => self.dim(),
        }
    }

    pub fn lead_status(&self, status: LeadStatus) -> Style {
        match status {
            LeadStatus::Failed | LeadStatus::Bounced => self.fg(Color::Red),
            LeadStatus::Blacklisted | LeadStatus::Rejected => self.dim(),
            LeadStatus::Sent | LeadStatus::Replied | LeadStatus::Won => self.fg(Color::Green),
            LeadStatus::Approved | LeadStatus::Drafted => self.fg(Color::Cyan),
            _ => Style::new(),
        }
    }

    pub fn job_status(&self, status: JobStatus) -> Style {
        if status.is_failure() {
            self.fg(Color::Red)
        } else if status == JobStatus::Running {
            self.fg(Color::Cyan)
        } else if status.is_terminal() {
            self.fg(Color::Green)
        } else {
            self.dim()
        }
    }
}
