//! The keys: one table that both handles keys and writes the `?` overlay,
//! so the help can never disagree with what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Command;

pub struct Binding {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
    pub command: Command,
    pub help: &'static str,
}

const fn key(code: KeyCode, command: Command, help: &'static str) -> Binding {
    Binding {
        code,
        modifiers: KeyModifiers::NONE,
        command,
        help,
    }
}

const fn ctrl(c: char, command: Command, help: &'static str) -> Binding {
    Binding {
        code: KeyCode::Char(c),
        modifiers: KeyModifiers::CONTROL,
        command,
        help,
    }
}

use Command::*;
use KeyCode::Char;

pub const BINDINGS: &[Binding] = &[
    key(Char('j'), Down, "next row / scroll the detail"),
    key(KeyCode::Down, Down, "next row / scroll the detail"),
    key(Char('k'), Up, "previous row / scroll the detail"),
    key(KeyCode::Up, Up, "previous row / scroll the detail"),
    key(Char('g'), Top, "first row / top of the detail"),
    key(KeyCode::Home, Top, "first row / top of the detail"),
    key(Char('G'), Bottom, "last row / end of the detail"),
    key(KeyCode::End, Bottom, "last row / end of the detail"),
    ctrl('d', PageDown, "half a page down (rows, detail)"),
    key(
        KeyCode::PageDown,
        PageDown,
        "half a page down (rows, detail)",
    ),
    ctrl('u', PageUp, "half a page up (rows, detail)"),
    key(KeyCode::PageUp, PageUp, "half a page up (rows, detail)"),
    key(KeyCode::Tab, FocusNext, "next pane"),
    key(KeyCode::BackTab, FocusPrev, "previous pane"),
    key(Char('1'), ShowTab(0), "detail: audit"),
    key(Char('2'), ShowTab(1), "detail: screenshot"),
    key(Char('3'), ShowTab(2), "detail: draft"),
    key(Char('4'), ShowTab(3), "detail: contacts"),
    key(Char('5'), ShowTab(4), "detail: history"),
    key(Char('6'), ShowTab(5), "detail: conversation"),
    key(KeyCode::Enter, Open, "open campaign, error; to detail"),
    key(
        KeyCode::Esc,
        Back,
        "close; clear marks, filter; leave detail",
    ),
    key(Char('/'), Filter, "filter (syntax below)"),
    key(Char('n'), NextMatch, "next match"),
    key(Char('N'), PrevMatch, "previous match"),
    key(Char('s'), Sort, "sort by the next column"),
    key(Char('S'), SortReverse, "reverse the sort"),
    key(Char(' '), Mark, "mark / unmark"),
    key(Char('v'), RangeMark, "mark a range (press twice)"),
    key(Char('*'), MarkAll, "mark all matching the filter"),
    key(Char('a'), Approve, "approve draft(s)"),
    key(Char('x'), Reject, "reject draft(s)"),
    key(Char('u'), Undo, "undo the last reject or blacklist"),
    key(Char('b'), Blacklist, "blacklist (asks: email or domain)"),
    key(Char('r'), Rerun, "re-run a stage (asks which)"),
    key(Char('R'), RetryFailed, "retry failed jobs"),
    key(Char('e'), Edit, "edit the draft (Ctrl-S saves)"),
    key(
        Char('o'),
        ReportUrl,
        "report URL (copied where the terminal allows)",
    ),
    key(Char('i'), Import, "import a file"),
    key(Char('A'), AddLead, "add a lead"),
    key(
        Char(':'),
        Palette,
        "command: run, send, blacklist, campaign new",
    ),
    key(Char('D'), Dashboard, "campaign dashboard"),
    key(Char('L'), ActionLog, "action log: who changed what"),
    key(Char('M'), Messages, "message history (also :messages)"),
    key(Char('?'), Help, "this help"),
    key(Char('q'), Quit, "quit"),
    ctrl('c', Quit, "quit"),
];

/// The command a key stands for in normal mode.
pub fn command_for(event: &KeyEvent) -> Option<Command> {
    // Shifted letters arrive as upper case with SHIFT; compare without it.
    let modifiers = event.modifiers - KeyModifiers::SHIFT;
    BINDINGS
        .iter()
        .find(|b| b.code == event.code && b.modifiers == modifiers)
        .map(|b| b.command)
}

/// Help lines: the keys of each command together, in table order.
/// Read-only leaves out the commands that change data.
pub fn help_lines(read_only: bool) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut seen: Vec<Command> = Vec::new();
    for b in BINDINGS {
        if seen.contains(&b.command) || (read_only && b.command.changes_data()) {
            continue;
        }
        seen.push(b.command);
        let keys: Vec<String> = BINDINGS
            .iter()
            .filter(|o| o.command == b.command)
            .map(label)
            .collect();
        out.push((keys.join(" "), b.help));
    }
    out
}

pub fn label(b: &Binding) -> String {
    let base = match b.code {
        Char(' ') => "Space".to_string(),
        Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        other => format!("{other:?}"),
    };
    if b.modifiers.contains(KeyModifiers::CONTROL) {
        format!("C-{base}")
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_key_and_keys_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for b in BINDINGS {
            assert!(
                seen.insert((b.code, b.modifiers)),
                "{:?} bound twice",
                b.code
            );
        }
        assert_eq!(
            command_for(&KeyEvent::new(Char('G'), KeyModifiers::SHIFT)),
            Some(Bottom)
        );
        assert_eq!(
            command_for(&KeyEvent::new(Char('d'), KeyModifiers::CONTROL)),
            Some(PageDown)
        );
        assert_eq!(
            command_for(&KeyEvent::new(Char('z'), KeyModifiers::NONE)),
            None
        );
        let help = help_lines(false);
        assert!(help.iter().any(|(keys, _)| keys == "j ↓"), "{help:?}");
        // Keys that move rows scroll the detail when it has the focus.
        for keys in ["j ↓", "k ↑", "g Home", "G End", "C-d PgDn", "C-u PgUp"] {
            assert!(
                help.iter().any(|(k, h)| k == keys && h.contains("detail")),
                "{keys}: {help:?}"
            );
        }
    }
}
