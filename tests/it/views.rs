//! Report page views over real HTTP: browsers count, bots, link previews
//! and mail scanners do not, and a lead turns hot only when a person looks
//! after its email went out.

use std::io::{Read, Write};
use std::time::Duration;

use leadscout::service::Opener;

use crate::smtp::SmtpServer;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET `path` with a user agent; returns the status code.
fn get(port: u16, path: &str, agent: &str) -> u16 {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn only_people_count_and_a_lead_turns_hot_after_its_send() {
    let smtp = SmtpServer::start(Duration::ZERO);
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let s = crate::outreach::setup(
        smtp.port,
        &[("Alpha Bakery", "a@alpha.example")],
        &[
            ("LEADSCOUT_SERVER__BIND", bind.as_str()),
            ("LEADSCOUT_SERVER__SCANNER_WINDOW", "1s"),
        ],
    );
    let lead = s.leads["a@alpha.example"].clone();
    let url = s.cli.json(&["report", "url", &lead])["url"]
        .as_str()
        .unwrap()
        .to_string();
    let path = &url[url.find("/r/").unwrap()..];
    let cli = s.cli.attached();
    let views = |lead: &str| {
        let v = cli.json(&["leads", "show", lead]);
        (v["views"].as_u64().unwrap(), v["hot"].as_bool().unwrap())
    };

    assert_eq!(get(port, path, FIREFOX), 200);
    assert_eq!(get(port, path, IPHONE), 200);
    for bot in [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36 Barracuda",
        "curl/8.5.0",
        "",
    ] {
        assert_eq!(get(port, path, bot), 200, "{bot}");
    }
    assert_eq!(get(port, &format!("{path}.json"), FIREFOX), 200);
    assert_eq!(views(&lead), (2, false), "two people; nothing sent yet");
    assert_eq!(
        get(port, "/r/00000000000000000000000000000000", FIREFOX),
        404
    );

    cli.json(&["outreach", "approve", &lead]);
    let sent = cli.json(&["outreach", "send", "-c", "c"]);
    assert_eq!(sent["sent"], 1, "{sent}");
    // Right after delivery: a scanner opening the link, not a person.
    assert_eq!(get(port, path, FIREFOX), 200);
    assert_eq!(views(&lead), (2, false));
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(get(port, path, IPHONE), 200);
    assert_eq!(views(&lead), (3, true), "a person looked after the send");

    let listed = cli.json(&["leads", "list", "-c", "c"]);
    assert_eq!(listed[0]["views"], 3, "{listed}");
    assert_eq!(listed[0]["hot"], true);
    assert!(listed[0]["last_viewed_at"].is_string(), "{listed}");

    // The campaign's funnel counts the same leads.
    let shown = cli.json(&["campaign", "show", "c"]);
    let funnel: Vec<(String, u64)> = shown["dashboard"]["funnel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("leads", 1),
        ("audited", 1),
        ("drafted", 1),
        ("approved", 1),
        ("sent", 1),
        ("viewed", 1),
        ("replied", 0),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), *n))
    .collect();
    assert_eq!(funnel, expected, "{shown}");
    let scores = shown["dashboard"]["scores"].as_array().unwrap();
    let score = listed[0]["score"].as_u64().unwrap() as usize;
    assert_eq!(scores[(score / 10).min(9)], 1, "{shown}");
    assert!(shown["dashboard"]["problems_sampled"] == 1, "{shown}");
    assert!(
        cli.ok(&["campaign", "show", "c"])
            .contains("Funnel: 1 leads")
    );
}

fn dir_size(dir: &std::path::Path) -> u64 {
    crate::helpers::files_under(dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// Anyone holding a link can open it as often as they like: the view
/// record is counters and a capped list of recent views, so 100,000 views
/// (some over HTTP, the rest through the service, which the page handler
/// calls) grow the store by less than 1 MiB and still all count.
#[test]
fn a_flood_of_views_of_one_link_costs_no_more_disk_than_a_few() {
    const VIEWS: u64 = 100_000;
    const OVER_HTTP: u64 = 2_000;
    let p = crate::report::publish(&[]);
    let lead_id: leadscout::domain::LeadId = p.lead.parse().unwrap();
    let db = p.cli.data.join("db");
    let before = dir_size(&db);
    let rt = crate::report::runtime();
    rt.block_on(async {
        let service = crate::report::opener(&p.cli, leadscout::config::Config::default())
            .open("test")
            .unwrap();
        let server = leadscout::web::WebServer::start_on(service.clone(), "127.0.0.1:0")
            .await
            .unwrap();
        let url = format!("http://{}/r/{}", server.addr(), p.token);
        let http = reqwest::Client::builder()
            .user_agent(FIREFOX)
            .build()
            .unwrap();
        for _ in 0..OVER_HTTP {
            let page = http.get(&url).send().await.unwrap();
            assert_eq!(page.status(), 200);
            page.bytes().await.unwrap();
        }
        for _ in OVER_HTTP..VIEWS {
            service.record_view(lead_id, FIREFOX).unwrap();
        }
        server.stop().await;
        service.shutdown().await;
    });
    drop(rt);
    let after = dir_size(&db);
    let grown = after.saturating_sub(before);
    println!("{VIEWS} views: store {before} → {after} bytes");
    assert!(
        grown < 1024 * 1024,
        "{VIEWS} views grew the store by {grown} bytes ({before} → {after})"
    );
    let shown = p.cli.json(&["leads", "show", &p.lead]);
    assert_eq!(shown["views"], VIEWS, "{shown}");
    assert_eq!(shown["hot"], false, "nothing was sent");
    assert!(shown["last_viewed_at"].is_string(), "{shown}");
}
