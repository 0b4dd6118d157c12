//! The terminal graphics query, bounded: kitty graphics (a one-pixel
//! query image), Device Attributes (sixel is attribute 4) and the cell
//! size in pixels, followed by a status report that every terminal
//! answers, so the reply ends there. Stdin is polled with a deadline on
//! this thread; nothing is left reading after it returns.

use std::io::Write;
use std::time::{Duration, Instant};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub kitty: bool,
    pub sixel: bool,
    /// One cell's size in pixels (width, height).
    pub cell: Option<(u16, u16)>,
}

const QUERY: &str = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[c\x1b[16t\x1b[5n";

/// Sends the query and reads the replies until the status report or the
/// deadline. A terminal that answers nothing costs `timeout`.
pub fn ask(timeout: Duration) -> Answer {
    let mut out = std::io::stdout();
    if out
        .write_all(QUERY.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return Answer::default();
    }
    let deadline = Instant::now() + timeout;
    let mut replies = Vec::new();
    while !done(&replies) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let mut poll = libc::pollfd {
            fd: libc::STDIN_FILENO,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX).max(1);
        // SAFETY: one valid pollfd for the length given.
        if unsafe { libc::poll(&mut poll, 1, ms) } <= 0 {
            break;
        }
        let mut buf = [0u8; 256];
        // SAFETY: reads at most the buffer's length into it.
        let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        replies.extend_from_slice(&buf[..n as usize]);
    }
    parse(&String::from_utf8_lossy(&replies))
}

fn done(replies: &[u8]) -> bool {
    replies
        .windows(4)
        .any(|w| w == b"\x1b[0n" || w == b"\x1b[3n")
}

pub fn parse(text: &str) -> Answer {
    let mut answer = Answer {
        kitty: text.contains("_Gi=31;OK"),
        ..Answer::default()
    };
    for reply in text.split('\x1b').filter_map(|r| r.strip_prefix('[')) {
        if let Some(attributes) = reply.strip_prefix('?').and_then(|r| r.split_once('c')) {
            answer.sixel |= attributes.0.split(';').any(|a| a == "4");
        } else if let Some(size) = reply.strip_prefix("6;").and_then(|r| r.split_once('t')) {
            let mut parts = size.0.split(';').map(str::parse::<u16>);
            if let (Some(Ok(h)), Some(Ok(w))) = (parts.next(), parts.next())
                && h > 0
                && w > 0
            {
                answer.cell = Some((w, h));
            }
        }
    }
    answer
}

/// The cell size from the window size in pixels, when the terminal
/// reports one.
pub fn cell_from_ioctl() -> Option<(u16, u16)> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ fills the winsize it is given.
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0 && size.ws_row > 0 && size.ws_xpixel > 0 && size.ws_ypixel > 0)
        .then(|| (size.ws_xpixel / size.ws_col, size.ws_ypixel / size.ws_row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_name_the_protocols_and_the_cell_size() {
        let kitty = "\x1b_Gi=31;OK\x1b\\\x1b[?62;22c\x1b[6;20;10t\x1b[0n";
        assert_eq!(
            parse(kitty),
            Answer {
                kitty: true,
                sixel: false,
                cell: Some((10, 20))
            }
        );
        let sixel = "\x1b[?62;4;6;22c\x1b[6;18;9t\x1b[0n";
        let a = parse(sixel);
        assert!(a.sixel && !a.kitty && a.cell == Some((9, 18)), "{a:?}");
        assert_eq!(parse("\x1b[?1;2c\x1b[0n"), Answer::default());
        assert!(done(b"\x1b[?1;2c\x1b[0n"));
        assert!(!done(b"\x1b[?1;2c"));
    }
}
