//! Views of report pages: who looked (a coarse client kind from the user
//! agent, never an address), and when a lead turns *hot* (a person looked
//! after the email went out). Link previews and mail scanners, which open
//! every link right after delivery, are counted apart from people.

use serde::{Deserialize, Serialize};

use super::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    Desktop,
    Mobile,
    /// Crawlers, scripts, headless browsers, no user agent at all.
    Bot,
    /// Link previews and mail security scanners.
    Scanner,
}

impl ClientKind {
    /// A person, as far as anyone can tell.
    pub fn is_human(self) -> bool {
        matches!(self, Self::Desktop | Self::Mobile)
    }
}

/// Link previews and security scanners, by a piece of their user agent.
const SCANNERS: &[&str] = &[
    "slackbot",
    "slack-imgproxy",
    "facebookexternalhit",
    "twitterbot",
    "linkedinbot",
    "whatsapp",
    "telegrambot",
    "discordbot",
    "skypeuripreview",
    "microsoft office",
    "ms-office",
    "outlook",
    "googleimageproxy",
    "google-safety",
    "barracuda",
    "mimecast",
    "proofpoint",
    "zscaler",
    "symantec",
    "messagelabs",
    "trend micro",
    "sophos",
    "fireeye",
    "ironport",
    "cisco",
    "forcepoint",
    "safelinks",
    "safe links",
    "bitdefender",
    "kaspersky",
    "avast",
    "vade",
];

/// Crawlers and programs, by a piece of their user agent.
const BOTS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "slurp",
    "curl",
    "wget",
    "python",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "httpclient",
    "headless",
    "phantomjs",
    "node-fetch",
    "axios",
    "scrapy",
    "lighthouse",
    "pingdom",
    "uptime",
    "monitor",
    "preview",
    "fetcher",
];

/// What kind of client a user agent belongs to.
pub fn classify(user_agent: &str) -> ClientKind {
    let ua = user_agent.trim().to_ascii_lowercase();
    if ua.is_empty() {
        return ClientKind::Bot;
    }
    if SCANNERS.iter().any(|s| ua.contains(s)) {
        return ClientKind::Scanner;
    }
    if BOTS.iter().any(|s| ua.contains(s)) || !ua.starts_with("mozilla/") {
        return ClientKind::Bot;
    }
    if ["mobi", "android", "iphone", "ipad", "ipod"]
        .iter()
        .any(|s| ua.contains(s))
    {
        return ClientKind::Mobile;
    }
    ClientKind::Desktop
}

/// One recorded view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub at: Timestamp,
    pub client: ClientKind,
}

/// A lead's views at a glance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewStats {
    /// Views by people (desktop and mobile).
    pub views: u64,
    pub bots: u64,
    pub scanners: u64,
    /// The last view by a person.
    pub last_viewed_at: Option<Timestamp>,
    /// The first view by a person after the email was sent.
    pub hot_since: Option<Timestamp>,
}

impl ViewStats {
    /// Counts a view and returns how it was counted: a person's view
    /// within `scanner_window` of the send is a scanner's (mail scanners
    /// fetch every link on delivery, whatever they call themselves).
    pub fn record(
        &mut self,
        client: ClientKind,
        at: Timestamp,
        sent_at: Option<Timestamp>,
        scanner_window: std::time::Duration,
    ) -> ClientKind {
        let soon_after_send = sent_at.is_some_and(|sent| {
            at >= sent && at.duration_since(sent).unsigned_abs() < scanner_window
        });
        let client = if client.is_human() && soon_after_send {
            ClientKind::Scanner
        } else {
            client
        };
        match client {
            ClientKind::Desktop | ClientKind::Mobile => {
                self.views += 1;
                self.last_viewed_at = Some(at);
                if self.hot_since.is_none() && sent_at.is_some_and(|sent| at > sent) {
                    self.hot_since = Some(at);
                }
            }
            ClientKind::Bot => self.bots += 1,
            ClientKind::Scanner => self.scanners += 1,
        }
        client
    }

    pub fn is_hot(&self) -> bool {
        self.hot_since.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

    #[test]
    fn user_agents_are_sorted_into_kinds() {
        assert_eq!(classify(FIREFOX), ClientKind::Desktop);
        assert_eq!(classify(IPHONE), ClientKind::Mobile);
        assert_eq!(
            classify("Mozilla/5.0 (compatible; Googlebot/2.1)"),
            ClientKind::Bot
        );
        assert_eq!(classify("curl/8.5.0"), ClientKind::Bot);
        assert_eq!(classify(""), ClientKind::Bot);
        assert_eq!(
            classify("Mozilla/5.0 HeadlessChrome/148.0"),
            ClientKind::Bot
        );
        assert_eq!(classify("Slackbot-LinkExpanding 1.0"), ClientKind::Scanner);
        assert_eq!(
            classify("Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Barracuda/1.0"),
            ClientKind::Scanner
        );
        assert_eq!(classify("facebookexternalhit/1.1"), ClientKind::Scanner);
    }

    #[test]
    fn a_lead_turns_hot_on_a_person_after_the_send_not_on_scanners() {
        const W: std::time::Duration = std::time::Duration::from_secs(60);
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let mut stats = ViewStats::default();
        assert_eq!(
            stats.record(ClientKind::Desktop, t(0), None, W),
            ClientKind::Desktop
        );
        assert!(!stats.is_hot(), "viewed before any email went out");
        let sent = Some(t(100));
        assert_eq!(
            stats.record(ClientKind::Desktop, t(110), sent, W),
            ClientKind::Scanner
        );
        assert_eq!(
            stats.record(ClientKind::Bot, t(500), sent, W),
            ClientKind::Bot
        );
        assert!(!stats.is_hot());
        assert_eq!(
            stats.record(ClientKind::Mobile, t(900), sent, W),
            ClientKind::Mobile
        );
        assert_eq!(stats.hot_since, Some(t(900)));
        assert_eq!((stats.views, stats.bots, stats.scanners), (2, 1, 1));
        assert_eq!(stats.last_viewed_at, Some(t(900)));
    }
}
