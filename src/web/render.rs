//! The page templates (minijinja, auto-escaped: everything scraped from a
//! site is text, never markup) and the stylesheet, compiled into the binary
//! so the server and the static export need no files at run time.

use minijinja::{Environment, context};

use crate::domain::Email;
use crate::service::report::ReportView;

pub const REPORT_CSS: &str = include_str!("../../assets/report.css");

/// Where a rendered page finds the rest of the site.
pub struct PageLinks<'a> {
    /// The site's root relative to the page: `/` on the server, `../../`
    /// in the static export (pages live at `r/TOKEN/index.html`).
    pub root: &'a str,
    /// Where the unsubscribe link goes.
    pub unsubscribe: &'a str,
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Addresses as people read them: internationalised hosts in
        // Unicode. Only for text; links keep the ASCII host.
        env.add_filter("unicode_url", |url: String| {
            crate::domain::idn::unicode_url(&url).into_owned()
        });
        // `.html` names get HTML auto-escaping (minijinja's default rule).
        for (name, source) in [
            (
                "base.html",
                include_str!("../../assets/templates/base.html"),
            ),
            (
                "report.html",
                include_str!("../../assets/templates/report.html"),
            ),
            (
                "unsubscribe.html",
                include_str!("../../assets/templates/unsubscribe.html"),
            ),
        ] {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("built-in template {name} does not compile: {e}"));
        }
        Self { env }
    }

    pub fn report(&self, view: &ReportView, links: &PageLinks) -> Result<String, minijinja::Error> {
        let sender_mailto = view
            .sender
            .email
            .as_deref()
            .and_then(|e| Email::parse(e).ok())
            .map(|e| format!("mailto:{e}"));
        self.env.get_template("report.html")?.render(context! {
            r => minijinja::value::Serde(view),
            root => links.root,
            unsubscribe_href => links.unsubscribe,
            sender_mailto,
        })
    }

    /// The unsubscribe confirmation (`done == false`) or its result.
    pub fn unsubscribe(
        &self,
        business_name: &str,
        token: &str,
        done: bool,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template("unsubscribe.html")?.render(context! {
            business_name,
            token,
            done,
            root => "/",
        })
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::report::Sender;

    #[test]
    fn an_internationalised_website_reads_in_unicode_and_links_in_ascii() {
        let ascii = url::Url::parse("https://bäckerei-süß.example/")
            .unwrap()
            .to_string();
        let view = ReportView {
            business_name: "Bäckerei Süß".into(),
            website: Some(ascii.clone()),
            audited_at: "2026-11-27".into(),
            overall: 50,
            grade: "fair",
            categories: Vec::new(),
            problems: Vec::new(),
            more_problems: 0,
            passed: 3,
            desktop: None,
            mobile: None,
            changes: None,
            metrics: None,
            search_preview: Some(crate::service::report::SearchPreview {
                title: "Bäckerei".into(),
                description: None,
                url: ascii.clone(),
            }),
            sender: Sender::default(),
            cta: None,
            unsubscribe_path: "/u/x".into(),
        };
        let links = PageLinks {
            root: "/",
            unsubscribe: "/u/x",
        };
        // Auto-escaping writes `/` as `&#x2f;`.
        let page = Templates::new()
            .report(&view, &links)
            .unwrap()
            .replace("&#x2f;", "/");
        assert!(page.contains(&format!("href=\"{ascii}\"")), "{page}");
        assert!(
            page.contains(">https://bäckerei-süß.example/</a>"),
            "the link text in Unicode:\n{page}"
        );
        assert!(
            page.contains("<p class=\"serp-url\">https://bäckerei-süß.example/</p>"),
            "{page}"
        );
    }
}

#[cfg(test)]
#[path = "render_metrics_tests.rs"]
mod metrics_tests;
