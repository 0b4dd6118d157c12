//! robots.txt as search engines read it: whether a crawler may fetch a
//! path, and the sitemaps it names. The parsing and matching are the
//! `robotstxt` crate's (a port of Google's reference parser), so grouped
//! `User-agent` lines, `Allow` overriding a shorter `Disallow`, and the
//! `*` and `$` wildcards follow RFC 9309; this module only asks it.
//!
//! Uses nothing of the crate.

use robotstxt::{DefaultMatcher, RobotsParseHandler};

/// An address on no real site: the matcher only reads its path.
const ANY_SITE: &str = "https://site.invalid";

/// A crawler that no robots.txt names, so the `*` group's rules apply.
pub const ANY_CRAWLER: &str = "AnyCrawler";

/// Whether `agent` may fetch `path` (which starts with `/`) under `robots`.
pub fn allows(robots: &str, agent: &str, path: &str) -> bool {
    let url = format!("{ANY_SITE}{path}");
    DefaultMatcher::default().one_agent_allowed_by_robots(robots, agent, &url)
}

/// The crawlers of those search engines operators care about that may not
/// fetch the home page; `ANY_CRAWLER` stands for every crawler not named.
pub fn home_blocked_for(robots: &str) -> Vec<&'static str> {
    [ANY_CRAWLER, "Googlebot", "Bingbot"]
        .into_iter()
        .filter(|agent| !allows(robots, agent, "/"))
        .collect()
}

/// The absolute `Sitemap:` addresses, in order. They belong to no group.
pub fn sitemaps(robots: &str) -> Vec<String> {
    let mut found = Sitemaps(Vec::new());
    robotstxt::parse_robotstxt(robots, &mut found);
    found.0
}

struct Sitemaps(Vec<String>);

impl RobotsParseHandler for Sitemaps {
    fn handle_robots_start(&mut self) {}
    fn handle_robots_end(&mut self) {}
    fn handle_user_agent(&mut self, _line: u32, _agent: &str) {}
    fn handle_allow(&mut self, _line: u32, _value: &str) {}
    fn handle_disallow(&mut self, _line: u32, _value: &str) {}
    fn handle_sitemap(&mut self, _line: u32, value: &str) {
        let value = value.trim();
        if value.starts_with("http://") || value.starts_with("https://") {
            self.0.push(value.to_string());
        }
    }
    fn handle_unknown_action(&mut self, _line: u32, _action: &str, _value: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disallow_all_blocks_everyone_not_named_otherwise() {
        let robots = "User-agent: *\nDisallow: /\n";
        assert_eq!(
            home_blocked_for(robots),
            [ANY_CRAWLER, "Googlebot", "Bingbot"]
        );
        assert!(home_blocked_for("User-agent: *\nDisallow: /admin\n").is_empty());
        assert!(home_blocked_for("").is_empty(), "no rules, no limits");
    }

    #[test]
    fn grouped_user_agent_lines_share_their_rules() {
        // Both agents head one group: the rule binds each of them.
        let robots =
            "User-agent: Googlebot\nUser-agent: Bingbot\nDisallow: /\n\nUser-agent: *\nAllow: /\n";
        assert_eq!(home_blocked_for(robots), ["Googlebot", "Bingbot"]);
        // `*` grouped with a named agent still covers everyone else (the
        // hand-written reader let the second line undo the first).
        let robots = "User-agent: *\nUser-agent: SomeBot\nDisallow: /\n";
        assert!(!allows(robots, ANY_CRAWLER, "/"));
        assert!(!allows(robots, "SomeBot", "/"));
        // A crawler named in its own group ignores the `*` group.
        let robots = "User-agent: BadBot\nDisallow: /\n\nUser-agent: *\nDisallow:\n";
        assert!(home_blocked_for(robots).is_empty());
        assert!(!allows(robots, "BadBot", "/"));
        // Agent names match case-insensitively.
        assert!(!allows(robots, "badbot", "/"));
    }

    #[test]
    fn allow_overrides_a_shorter_disallow() {
        let robots = "User-agent: *\nDisallow: /\nAllow: /$\nAllow: /shop/\n";
        assert!(
            allows(robots, ANY_CRAWLER, "/"),
            "`/$` allows the home page"
        );
        assert!(allows(robots, ANY_CRAWLER, "/shop/shoes"));
        assert!(!allows(robots, ANY_CRAWLER, "/admin"));
        // The longest match wins, whichever line comes first.
        let robots = "User-agent: *\nAllow: /private/press\nDisallow: /private\n";
        assert!(allows(robots, ANY_CRAWLER, "/private/press/2024"));
        assert!(!allows(robots, ANY_CRAWLER, "/private/accounts"));
    }

    #[test]
    fn wildcards_match_anywhere_and_dollar_anchors_the_end() {
        let robots = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?session=\n";
        assert!(!allows(robots, ANY_CRAWLER, "/files/menu.pdf"));
        assert!(allows(robots, ANY_CRAWLER, "/files/menu.pdf.html"));
        assert!(!allows(robots, ANY_CRAWLER, "/cart?session=42"));
        assert!(allows(robots, ANY_CRAWLER, "/cart"));
        assert!(allows(robots, ANY_CRAWLER, "/"));
    }

    #[test]
    fn sitemap_lines_are_found_outside_any_group() {
        let robots = "Sitemap: https://a.example/map.xml\nUser-agent: *\nDisallow:\nsitemap: https://a.example/news.xml\nSitemap: /relative.xml\n";
        assert_eq!(
            sitemaps(robots),
            ["https://a.example/map.xml", "https://a.example/news.xml"]
        );
        assert!(sitemaps("User-agent: *\n").is_empty());
    }
}
