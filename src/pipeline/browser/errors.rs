//! What a WebDriver error says: its message for the run log, without the
//! stack traces, build banners and repeated headings that chromedriver and
//! a Selenium Grid wrap it in, and what it means for the session — the page
//! could not be loaded (the session is fine), the session is broken
//! (replace it), or neither. Works on the error's text, because the same
//! failure reaches leadscout from chromedriver, from a Grid (which wraps
//! chromedriver's answer in its own), or from thirtyfour's HTTP client.

/// The longest message kept: enough for chromedriver's or the Grid's own
/// explanation, short enough for a run-log line and a job record.
pub const MAX_MESSAGE: usize = 600;

/// What an error means for the session that raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The browser could not load the page (Chromium's `net::ERR_*` code):
    /// the lead's page fails, the session goes on.
    Page(String),
    /// The session is gone (closed, crashed, disconnected, unknown to the
    /// WebDriver): close it and start another.
    Broken,
    /// Anything else.
    Other,
}

/// Lines that carry no message: headings thirtyfour adds, the Grid's build
/// and host banners, and the version chromedriver appends.
const NOISE: &[&str] = &[
    "status:",
    "state:",
    "additional info:",
    "error:",
    "build info:",
    "system info:",
    "driver info:",
    "host info:",
    "(session info:",
    "(driver info:",
];

/// The message of an error, on one line: stack traces and banners dropped,
/// a heading that only repeats the next line dropped, whitespace collapsed,
/// cut at [`MAX_MESSAGE`] characters.
pub fn describe(text: &str) -> String {
    let text = unwrap_answer(text);
    let mut parts: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let lower = line.to_ascii_lowercase();
        // Everything after these is the stack (chromedriver's native frames,
        // the Grid's Java ones) or a dump of the answer's data.
        if lower.starts_with("stacktrace:") || lower.starts_with("data:") {
            break;
        }
        if line.is_empty() || NOISE.iter().any(|n| lower.starts_with(n)) || is_frame(line) {
            continue;
        }
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        // "Unknown error:" followed by "unknown error: net::ERR_…": keep the
        // second only.
        if let Some(last) = parts.last_mut()
            && last.ends_with(':')
        {
            let body = last.trim_end_matches(':').to_string();
            let (head, heading) = match body.rsplit_once(": ") {
                Some((head, heading)) => (Some(head.to_string()), heading.to_string()),
                None => (None, body.clone()),
            };
            if line
                .to_ascii_lowercase()
                .starts_with(&heading.to_ascii_lowercase())
            {
                match head {
                    Some(head) => *last = format!("{head}:"),
                    None => {
                        parts.pop();
                    }
                }
            }
        }
        parts.push(line);
    }
    let joined = parts.join(" ");
    let joined = joined.trim_end_matches(':').trim().to_string();
    cut(&joined, MAX_MESSAGE)
}

/// An answer thirtyfour could not read passes through whole: the Grid's
/// "session not created" answers carry their stack as a list of frames,
/// not as text. Keeps the text before it and the answer's error and
/// message.
fn unwrap_answer(text: &str) -> String {
    let (Some(start), Some(end)) = (text.find('{'), text.rfind('}')) else {
        return text.to_string();
    };
    let Ok(answer) = serde_json::from_str::<serde_json::Value>(&text[start..=end]) else {
        return text.to_string();
    };
    let value = answer.get("value").unwrap_or(&answer);
    let Some(message) = value["message"].as_str() else {
        return text.to_string();
    };
    let before = text[..start].trim_end().trim_end_matches("::").trim_end();
    let error = value["error"].as_str().unwrap_or("");
    let said = if error.is_empty() || message.starts_with(error) {
        message.to_string()
    } else {
        format!("{error}: {message}")
    };
    format!("{before} {said}")
}

/// A stack frame: chromedriver's `#3 0x55… <unknown>` or Java's
/// `at org.openqa…`.
fn is_frame(line: &str) -> bool {
    let native =
        line.starts_with('#') && line[1..].chars().next().is_some_and(|c| c.is_ascii_digit());
    native || line.starts_with("at ") || line.starts_with("... ")
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Texts that mean the session cannot be used any more.
const BROKEN: &[&str] = &[
    "invalid session id",
    "no such session",
    "unable to find session",
    "session deleted",
    "session terminated",
    "session timed out or not found",
    "chrome not reachable",
    "not connected to devtools",
    "disconnected:",
    "tab crashed",
    "target crashed",
    "target window already closed",
    "no such window",
    "browser has closed the connection",
];

/// What an error text means for its session.
pub fn classify(text: &str) -> Verdict {
    if let Some(code) = net_error(text) {
        return Verdict::Page(code);
    }
    let lower = text.to_ascii_lowercase();
    if BROKEN.iter().any(|b| lower.contains(b)) {
        return Verdict::Broken;
    }
    Verdict::Other
}

/// Chromium's network error code in a text (`net::ERR_NAME_NOT_RESOLVED`).
pub fn net_error(text: &str) -> Option<String> {
    let at = text.find("net::ERR_")?;
    let code: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    Some(code)
}

/// What a network error code means, in words, for the codes a page load
/// meets most; `None` for the rest (the code itself is then the reason).
pub fn net_error_meaning(code: &str) -> Option<&'static str> {
    Some(match code.trim_start_matches("net::") {
        "ERR_NAME_NOT_RESOLVED" => "the site's name does not resolve (DNS)",
        "ERR_CONNECTION_REFUSED" => "the site refused the connection",
        "ERR_CONNECTION_RESET" => "the site reset the connection",
        "ERR_CONNECTION_TIMED_OUT" | "ERR_TIMED_OUT" => "the site did not answer in time",
        "ERR_ADDRESS_UNREACHABLE" => "the site's address is unreachable",
        "ERR_PROXY_CONNECTION_FAILED" | "ERR_TUNNEL_CONNECTION_FAILED" => {
            "the browser could not reach leadscout's egress proxy (on a Grid on another machine: set webdriver.proxy_bind and webdriver.proxy_url)"
        }
        "ERR_CERT_AUTHORITY_INVALID" | "ERR_CERT_COMMON_NAME_INVALID" | "ERR_CERT_DATE_INVALID" => {
            "the site's certificate is not valid"
        }
        "ERR_TOO_MANY_REDIRECTS" => "the site redirects in a loop",
        "ERR_EMPTY_RESPONSE" => "the site closed the connection without an answer",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use thirtyfour::error::WebDriverError;

    /// Shortened stacks; the rest is what chromedriver 148 and Selenium
    /// Grid 4.48 answered on this machine.
    const DNS: &str = r##"{"value":{"error":"unknown error","message":"unknown error: net::ERR_NAME_NOT_RESOLVED\n  (Session info: chrome=148.0.7778.167)","stacktrace":"#0 0x55e8d6d08d2e \u003Cunknown>\n#1 0x55e8d6698f34 \u003Cunknown>\n#2 0x55e8d6695ed4 \u003Cunknown>\n"}}"##;
    const PROXY: &str = r##"{"value":{"error":"unknown error","message":"unknown error: net::ERR_PROXY_CONNECTION_FAILED\n  (Session info: chrome=148.0.7778.167)","stacktrace":"#0 0x55ac0a16cd2e \u003Cunknown>\n#1 0x55ac09afcf34 \u003Cunknown>\n"}}"##;
    const CRASHED: &str = r##"{"value":{"error":"invalid session id","message":"invalid session id: session deleted as the browser has closed the connection\nfrom disconnected: not connected to DevTools\n  (Session info: chrome=148.0.7778.167)","stacktrace":"#0 0x55ac0a16cd2e \u003Cunknown>\n#1 0x55ac09afcf34 \u003Cunknown>\n"}}"##;
    const GRID_UNKNOWN: &str = r##"{"value":{"message":"Unable to find session with ID: deadbeef\nBuild info: version: '4.48.0', revision: '27f5213 27f5213055e28398a5105b7892b7a3bb2012a6ef'\nSystem info: os.name: 'Linux', os.arch: 'amd64', os.version: '6.18.44-fc-v595', java.version: '17.0.15'\nDriver info: driver.version: unknown","error":"invalid session id","stacktrace":"org.openqa.selenium.NoSuchSessionException: Unable to find session with ID: deadbeef\nBuild info: version: '4.48.0'\n\tat org.openqa.selenium.grid.sessionmap.local.LocalSessionMap.get(LocalSessionMap.java:142)\n\tat org.openqa.selenium.grid.router.HandleSession.execute(HandleSession.java:230)\n"}}"##;

    /// The Grid's answer when its queue gave up, its stack a list of
    /// frames (two of the real 60 kept).
    const GRID_QUEUE: &str = r##"{
  "value": {
    "stacktrace": [
      {"fileName": "LocalNewSessionQueue.java", "moduleVersion": null, "nativeMethod": false, "moduleName": null, "methodName": "addToQueue", "className": "org.openqa.selenium.grid.sessionqueue.local.LocalNewSessionQueue", "lineNumber": 231, "classLoaderName": "app"},
      {"fileName": "NewSessionQueue.java", "moduleVersion": null, "nativeMethod": false, "moduleName": null, "methodName": "lambda$new$1", "className": "org.openqa.selenium.grid.sessionqueue.NewSessionQueue", "lineNumber": 68, "classLoaderName": "app"}
    ],
    "error": "session not created",
    "message": "Could not start a new session. New session request timed out \nHost info: host: 'vm', ip: '127.0.0.1'\nBuild info: version: '4.48.0', revision: '27f5213 27f5213055e28398a5105b7892b7a3bb2012a6ef'\nSystem info: os.name: 'Linux', os.arch: 'amd64', os.version: '6.18.44-fc-v595', java.version: '17.0.15'\nDriver info: driver.version: unknown"
  }
}"##;

    fn thirtyfour(status: u16, body: &str) -> String {
        format!(
            "load the page: {}",
            WebDriverError::parse(status, body.into())
        )
    }

    #[test]
    fn the_whole_message_is_kept_and_the_stack_is_dropped() {
        let dns = describe(&thirtyfour(500, DNS));
        assert_eq!(
            dns,
            "load the page: unknown error: net::ERR_NAME_NOT_RESOLVED"
        );
        let crashed = describe(&thirtyfour(404, CRASHED));
        assert_eq!(
            crashed,
            "load the page: The WebDriver session id is invalid: invalid session id: session deleted as the browser has closed the connection from disconnected: not connected to DevTools"
        );
        let grid = describe(&thirtyfour(404, GRID_UNKNOWN));
        assert_eq!(
            grid,
            "load the page: The WebDriver session id is invalid: Unable to find session with ID: deadbeef"
        );
        let queue = describe(&format!(
            "start a browser session at http://127.0.0.1:4444: {}",
            WebDriverError::parse(500, GRID_QUEUE.into())
        ));
        assert_eq!(
            queue,
            "start a browser session at http://127.0.0.1:4444: The WebDriver server returned an unrecognised response: 500 session not created: Could not start a new session. New session request timed out"
        );
        for text in [dns, crashed, grid, queue] {
            assert!(
                !text.contains("0x55") && !text.contains("org.openqa"),
                "{text}"
            );
        }
    }

    #[test]
    fn long_messages_are_cut_on_a_character() {
        let long = "é".repeat(2000);
        let cut = describe(&long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn a_page_that_cannot_load_is_not_a_broken_session() {
        assert_eq!(
            classify(&thirtyfour(500, DNS)),
            Verdict::Page("net::ERR_NAME_NOT_RESOLVED".into())
        );
        assert_eq!(
            classify(&thirtyfour(500, PROXY)),
            Verdict::Page("net::ERR_PROXY_CONNECTION_FAILED".into())
        );
        assert_eq!(classify(&thirtyfour(404, CRASHED)), Verdict::Broken);
        assert_eq!(classify(&thirtyfour(404, GRID_UNKNOWN)), Verdict::Broken);
        assert_eq!(
            classify("chrome not reachable\n  (Session info: chrome=148)"),
            Verdict::Broken
        );
        assert_eq!(
            classify("javascript error: x is not defined"),
            Verdict::Other
        );
        assert!(net_error_meaning("net::ERR_PROXY_CONNECTION_FAILED").is_some());
        assert!(net_error_meaning("net::ERR_SOMETHING_NEW").is_none());
    }
}
