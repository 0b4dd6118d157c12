//! The phone screenshot in the detail pane, through `ratatui-image`: kitty,
//! sixel or iTerm2 graphics at full resolution where the terminal speaks
//! one, Unicode half blocks elsewhere. Owns the protocol choice and the
//! encoded picture of the lead on screen.

use std::time::Duration;

use image::DynamicImage;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui_image::FontSize;
use ratatui_image::picker::{Picker, ProtocolType};
use ratatui_image::protocol::StatefulProtocol;
use ratatui_image::{Resize, StatefulImage};

/// How long the terminal has to answer the capability query. Every
/// terminal answers the status report sent with it at once, tmux and SSH
/// included; one that does not gets half blocks.
const QUERY_TIMEOUT: Duration = Duration::from_millis(800);

/// Set `LEADSCOUT_PICTURES=halfblocks` to skip the terminal query (a
/// terminal that garbles escape sequences, say).
pub const ENV: &str = "LEADSCOUT_PICTURES";

mod query;

pub struct Pictures {
    picker: Picker,
    shown: Option<StatefulProtocol>,
}

impl Default for Pictures {
    /// Half blocks, with no terminal query: what tests and pipes get.
    fn default() -> Self {
        Self::with(Picker::halfblocks())
    }
}

impl Pictures {
    pub fn with(picker: Picker) -> Self {
        Self {
            picker,
            shown: None,
        }
    }

    /// Asks the terminal which graphics it draws. Call with the terminal
    /// in raw mode and before anything else reads its input. Inside tmux
    /// (whose answers would have to come from the terminal outside it,
    /// with no bound on when) and on a dumb terminal: half blocks.
    pub fn detect() -> Self {
        let wanted = std::env::var(ENV).unwrap_or_default();
        let tmux = std::env::var_os("TMUX").is_some()
            || std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"));
        if wanted.eq_ignore_ascii_case("halfblocks")
            || tmux
            || std::env::var("TERM").is_ok_and(|t| t == "dumb")
        {
            return Self::default();
        }
        let answer = query::ask(QUERY_TIMEOUT);
        let iterm2 =
            std::env::var("TERM_PROGRAM").is_ok_and(|p| p == "iTerm.app" || p == "WezTerm");
        let protocol = if answer.kitty {
            ProtocolType::Kitty
        } else if answer.sixel {
            ProtocolType::Sixel
        } else if iterm2 {
            ProtocolType::Iterm2
        } else {
            ProtocolType::Halfblocks
        };
        match (protocol, answer.cell.or_else(query::cell_from_ioctl)) {
            (ProtocolType::Halfblocks, _) | (_, None) => Self::default(),
            (protocol, Some((width, height))) => {
                // The font size only comes this way; the constructor is
                // deprecated in favour of a query that reads stdin on a
                // thread which, when the terminal never answers, stays
                // blocked and swallows the operator's first keys.
                #[allow(deprecated)]
                let mut picker = Picker::from_fontsize(FontSize::new(width, height));
                picker.set_protocol_type(protocol);
                Self::with(picker)
            }
        }
    }

    /// Whether pictures draw at full resolution (worth loading the
    /// full-size screenshot rather than its thumbnail).
    pub fn full_resolution(&self) -> bool {
        self.picker.protocol_type() != ProtocolType::Halfblocks
    }

    pub fn protocol(&self) -> &'static str {
        match self.picker.protocol_type() {
            ProtocolType::Halfblocks => "half blocks",
            ProtocolType::Sixel => "sixel",
            ProtocolType::Kitty => "kitty",
            ProtocolType::Iterm2 => "iTerm2",
        }
    }

    pub fn show(&mut self, picture: Option<&image::RgbImage>) {
        self.shown = picture.map(|p| {
            self.picker
                .new_resize_protocol(DynamicImage::ImageRgb8(p.clone()))
        });
    }

    /// Draws the picture scaled into `area`; false when there is none.
    /// The encoding is redone only when the area changes.
    pub fn draw(&mut self, frame: &mut Frame, area: Rect) -> bool {
        let Some(state) = self.shown.as_mut() else {
            return false;
        };
        frame.render_stateful_widget(
            StatefulImage::default().resize(Resize::Scale(None)),
            area,
            state,
        );
        true
    }
}
