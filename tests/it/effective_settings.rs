//! One answer to "what is the effective setting": a sender identity set
//! only in the config (here through its `LEADSCOUT_SENDER__*` overrides)
//! reaches the report page footer as it reaches emails, and `settings
//! list` says which layer each value came from.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use leadscout::config::Config;
use leadscout::service::Opener;
use serde_json::Value;
use tower::ServiceExt;

use crate::report::{opener, publish, runtime};

const COMPANY: &str = "Config-Only Webdesign";
const POSTAL: &str = "Hauptstraße 1, 10115 Berlin";

fn source_of(list: &Value, key: &str) -> (Value, Value) {
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("{key} missing from {list}"));
    (entry["value"].clone(), entry["source"].clone())
}

#[test]
fn the_report_footer_shows_a_sender_identity_set_only_in_config() {
    let p = publish(&[
        ("LEADSCOUT_SENDER__NAME", "Jana Config"),
        ("LEADSCOUT_SENDER__COMPANY", COMPANY),
        ("LEADSCOUT_SENDER__EMAIL", "jana@config.example"),
        ("LEADSCOUT_SENDER__POSTAL_ADDRESS", POSTAL),
    ]);
    // `publish` stores a sender name and email; without them the identity
    // lives in the config alone.
    p.cli.ok(&["settings", "unset", "sender.name"]);
    p.cli.ok(&["settings", "unset", "sender.email"]);

    let list = p.cli.json(&["settings", "list", "-c", "c"]);
    assert_eq!(
        source_of(&list, "sender.company"),
        (Value::from(COMPANY), Value::from("config"))
    );
    assert_eq!(
        source_of(&list, "sender.name"),
        (Value::from("Jana Config"), Value::from("config"))
    );
    assert_eq!(
        source_of(&list, "report.cta_url"),
        (
            Value::from("https://agency.example/book"),
            Value::from("global")
        )
    );
    assert_eq!(
        source_of(&list, "sending.window"),
        (Value::from("09:00-17:00"), Value::from("default"))
    );
    assert_eq!(
        source_of(&list, "sender.reply_to"),
        (Value::Null, Value::from("default"))
    );
    let table = p.cli.ok(&["settings", "list", "-c", "c"]);
    assert!(
        table
            .lines()
            .any(|l| l.contains("sender.company") && l.contains("config")),
        "{table}"
    );

    let config = Config::load(None, p.cli.env_pairs()).unwrap();
    let rt = runtime();
    rt.block_on(async {
        let service = opener(&p.cli, config).open("test").unwrap();
        let response = leadscout::web::router(service.clone())
            .oneshot(
                Request::get(format!("/r/{}", p.token))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let html = String::from_utf8_lossy(&body).to_string();
        let doc = scraper::Html::parse_document(&html);
        let footer = scraper::Selector::parse("footer.sender").unwrap();
        let footer = doc
            .select(&footer)
            .next()
            .unwrap_or_else(|| panic!("no sender footer in\n{html}"));
        let text: String = footer.text().collect();
        for expected in ["Jana Config", COMPANY, POSTAL, "jana@config.example"] {
            assert!(text.contains(expected), "{expected} not in footer: {text}");
        }
        let mailto = scraper::Selector::parse("a[href^='mailto:']").unwrap();
        assert!(
            footer
                .select(&mailto)
                .any(|a| a.value().attr("href") == Some("mailto:jana@config.example")),
            "{}",
            footer.html()
        );
        service.shutdown().await;
    });
}
