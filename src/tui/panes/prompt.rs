//! The one-line questions at the bottom (blacklist which, re-run which
//! stages, import which file, add which website) and the `:` command
//! palette: what each answer asks the loop to do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::domain::LeadId;
use crate::tui::action::Effect;

/// A one-line question at the bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// Which to blacklist for the marked leads: their emails or domains.
    BlacklistWhich(Vec<LeadId>),
    /// Which stage(s) to re-run.
    RerunStage(Vec<LeadId>),
    ImportPath,
    AddLead,
    Palette,
}

impl Ask {
    pub fn question(&self) -> &'static str {
        match self {
            Self::BlacklistWhich(_) => "blacklist their (e)mail or (d)omain? ",
            Self::RerunStage(_) => "re-run stage(s), e.g. fetch,audit: ",
            Self::ImportPath => "import file: ",
            Self::AddLead => "website of the new lead: ",
            Self::Palette => ":",
        }
    }
}

pub const PALETTE_COMMANDS: &[&str] = &[
    "run ",
    "send",
    "stop-send",
    "blacklist ",
    "unblacklist ",
    "undo",
    "campaign new ",
    "retry",
    "import ",
    "messages",
];

/// `:messages` opens the message history (a view, not an effect).
pub fn opens_history(text: &str) -> bool {
    text == "messages"
}

/// What an answer leads to: effects, and a line for the operator (an
/// error when `true`).
#[derive(Debug, Default)]
pub struct Answer {
    pub effects: Vec<Effect>,
    pub say: Option<(String, bool)>,
}

impl Answer {
    fn effects(effects: Vec<Effect>) -> Self {
        Self { effects, say: None }
    }

    fn error(text: impl Into<String>) -> Self {
        Self {
            effects: Vec::new(),
            say: Some((text.into(), true)),
        }
    }
}

const NO_CAMPAIGN: &str = "no campaign yet: `:campaign new NAME` makes one";

/// Tab completes a palette command.
pub fn complete(text: &mut String) {
    if let Some(done) = PALETTE_COMMANDS
        .iter()
        .find(|c| !text.is_empty() && c.starts_with(text.as_str()))
    {
        *text = done.to_string();
    }
}

/// The answer to a typed question. `campaign` is empty when none is open;
/// `marks` are the marked leads (`:run` runs over them).
pub fn answer(ask: &Ask, text: &str, campaign: &str, marks: Vec<LeadId>) -> Answer {
    let campaign = campaign.to_string();
    match ask {
        Ask::RerunStage(ids) if !text.is_empty() => Answer::effects(vec![Effect::Rerun {
            campaign,
            stages: split_list(text),
            leads: ids.clone(),
        }]),
        Ask::ImportPath if !text.is_empty() => Answer::effects(vec![Effect::Import {
            campaign,
            path: text.to_string(),
        }]),
        Ask::AddLead if !text.is_empty() => Answer::effects(vec![Effect::AddLead {
            campaign,
            website: text.to_string(),
        }]),
        Ask::Palette => palette(text, campaign, marks),
        _ => Answer::default(),
    }
}

/// `:run fetch,audit`, `:send`, `:stop-send`, `:retry`, `:blacklist VALUE...`,
/// `:unblacklist VALUE...`, `:campaign new NAME`, `:import PATH` (`:undo`
/// is the app's: it knows the last change).
fn palette(text: &str, campaign: String, marks: Vec<LeadId>) -> Answer {
    let (head, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    let needs_campaign = matches!(head, "run" | "send" | "retry" | "import");
    if needs_campaign && campaign.is_empty() {
        return Answer::error(NO_CAMPAIGN);
    }
    match head {
        "run" => Answer::effects(vec![Effect::Rerun {
            campaign,
            stages: split_list(rest),
            leads: marks,
        }]),
        "send" => Answer {
            effects: vec![Effect::Send { campaign }],
            say: Some((
                "sending… (`:stop-send` stops after the message in hand)".into(),
                false,
            )),
        },
        "stop-send" => Answer::effects(vec![Effect::StopSends]),
        "retry" => Answer::effects(vec![Effect::RetryFailed {
            campaign,
            leads: Vec::new(),
        }]),
        "blacklist" if !rest.is_empty() => Answer::effects(vec![Effect::Blacklist(
            rest.split_whitespace().map(String::from).collect(),
        )]),
        "unblacklist" if !rest.is_empty() => Answer::effects(vec![Effect::Unblacklist(
            rest.split_whitespace().map(String::from).collect(),
        )]),
        "import" if !rest.is_empty() => Answer::effects(vec![Effect::Import {
            campaign,
            path: rest.into(),
        }]),
        "campaign" => match rest.split_once(' ') {
            Some(("new", name)) if !name.trim().is_empty() => {
                Answer::effects(vec![Effect::CreateCampaign(name.trim().into())])
            }
            _ => Answer::error("usage: :campaign new NAME"),
        },
        "" => Answer::default(),
        "blacklist" => Answer::error("usage: :blacklist EMAIL-OR-DOMAIN..."),
        "unblacklist" => Answer::error("usage: :unblacklist EMAIL-OR-DOMAIN..."),
        "import" => Answer::error("usage: :import PATH"),
        other => Answer::error(format!(
            "unknown command `{other}`; try run, send, stop-send, retry, blacklist, unblacklist, undo, import, campaign new, messages"
        )),
    }
}

pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Typing into a one-line input.
pub fn edit_line(text: &mut String, key: KeyEvent) {
    match key.code {
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => text.push(c),
        _ => {}
    }
}
