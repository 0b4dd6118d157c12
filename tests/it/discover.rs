//! Discovery against a local server that speaks the Overpass API: places
//! become leads with the OpenStreetMap attribution, duplicates and the
//! blacklist are skipped, a timeout remark is "incomplete" (not "nothing
//! found"), and a busy server (429) is waited for, then given up on.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::helpers::Cli;

/// What the fixture saw: (User-Agent, query) per request.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

const BERLIN: &str = r#"{"version":0.6,"generator":"Overpass API (fixture)","osm3s":{"copyright":"The data included in this document is from www.openstreetmap.org. The data is made available under ODbL."},
"elements":[
 {"type":"node","id":101,"lat":52.5,"lon":13.4,"tags":{"amenity":"dentist","name":"Zahnarzt Mitte","website":"https://zahnarzt-mitte.example/","email":"praxis@zahnarzt-mitte.example","phone":"+49 30 1111","addr:street":"Torstraße","addr:housenumber":"5","addr:postcode":"10119","addr:city":"Berlin"}},
 {"type":"way","id":202,"center":{"lat":52.5,"lon":13.4},"tags":{"amenity":"dentist","name":"Zahnarzt Mitte (second entrance)","contact:website":"http://www.zahnarzt-mitte.example/kontakt"}},
 {"type":"node","id":303,"lat":52.5,"lon":13.4,"tags":{"amenity":"dentist","name":"Blocked Dental","website":"https://blocked-dental.example"}},
 {"type":"node","id":404,"lat":52.5,"lon":13.4,"tags":{"amenity":"dentist","name":"Broken","website":"not a website at all"}},
 {"type":"relation","id":505,"center":{"lat":52.5,"lon":13.4},"tags":{"amenity":"dentist","name":"Praxis Prenzlauer Berg","website":"praxis-pberg.example"}}
]}"#;

const PARTIAL: &str = r#"{"elements":[
 {"type":"node","id":606,"tags":{"name":"Early Bird","website":"https://early.example"}}
],"remark":"runtime error: Query timed out in \"query\" at line 3 after 91 seconds."}"#;

const TIMED_OUT: &str = r#"{"elements":[],"remark":"runtime error: Query timed out in \"query\" at line 3 after 91 seconds."}"#;

async fn overpass(
    State(seen): State<(Seen, Arc<Mutex<u32>>)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let agent = headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    seen.0.lock().unwrap().push((agent, query.clone()));
    let json = [("content-type", "application/json")];
    if query.contains(r#""name"="Berlin""#) {
        (json, BERLIN).into_response()
    } else if query.contains(r#""name"="Partial""#) {
        (json, PARTIAL).into_response()
    } else if query.contains(r#""name"="Slowtown""#) {
        (json, TIMED_OUT).into_response()
    } else if query.contains(r#""name"="Busy""#) {
        // Busy once, then fine.
        let mut busy = seen.1.lock().unwrap();
        *busy += 1;
        if *busy == 1 {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "0")],
                "rate limited",
            )
                .into_response();
        }
        (json, PARTIAL.replace(",\"remark\"", ",\"ignored\"")).into_response()
    } else if query.contains(r#""name"="Jammed""#) {
        (
            StatusCode::GATEWAY_TIMEOUT,
            "<html>504 Gateway Timeout</html>",
        )
            .into_response()
    } else {
        (json, r#"{"elements":[]}"#).into_response()
    }
}

/// The fixture on a loopback port; returns its URL and what it saw.
fn start_overpass() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let state = (seen.clone(), Arc::new(Mutex::new(0u32)));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new()
                .route("/api/interpreter", axum::routing::post(overpass))
                .with_state(state);
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (format!("http://{addr}/api/interpreter"), seen)
}

fn setup() -> (Cli, Seen) {
    let (url, seen) = start_overpass();
    let cli = Cli::new()
        .env("LEADSCOUT_DISCOVERY__OVERPASS_URL", &url)
        .env("LEADSCOUT_DISCOVERY__BACKOFF", "20ms")
        .env("LEADSCOUT_DISCOVERY__MAX_ATTEMPTS", "3");
    cli.campaign("c");
    (cli, seen)
}

fn discover(cli: &Cli, area: &str) -> serde_json::Value {
    cli.json(&[
        "discover",
        "-c",
        "c",
        "--category",
        "dentist",
        "--area",
        area,
    ])
}

#[test]
fn places_become_leads_with_the_attribution() {
    let (cli, seen) = setup();
    cli.ok(&["blacklist", "add", "blocked-dental.example"]);
    let dry = cli.json(&[
        "discover",
        "-c",
        "c",
        "--category",
        "dentist",
        "--area",
        "Berlin",
        "--dry-run",
    ]);
    assert_eq!(dry["imported"], 2, "{dry}");
    assert_eq!(
        cli.json(&["leads", "list", "-c", "c"])
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let report = discover(&cli, "Berlin");
    assert_eq!(report["found"], 5, "{report}");
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(
        report["duplicates"], 1,
        "the second entrance has the same domain"
    );
    assert_eq!(report["blacklisted"], 1);
    assert_eq!(report["rejected"][0]["reference"], "node/404");
    assert!(report["incomplete"].is_null());
    assert!(report["attribution"].as_str().unwrap().contains("ODbL"));

    let lead = cli.json(&["leads", "show", "zahnarzt-mitte.example"]);
    assert_eq!(lead["business_name"], "Zahnarzt Mitte");
    assert_eq!(lead["email"], "praxis@zahnarzt-mitte.example");
    assert_eq!(lead["phone"], "+49 30 1111");
    assert_eq!(lead["city"], "Berlin");
    let source = serde_json::to_string(&lead["source"]).unwrap();
    assert!(
        source.contains("OpenStreetMap node/101") && source.contains("ODbL"),
        "{source}"
    );
    let csv = cli.ok(&["export", "-c", "c", "--format", "csv"]);
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.contains("OpenStreetMap contributors, ODbL")),
        "every exported row keeps the attribution:\n{csv}"
    );
    assert!(csv.contains("Torstraße 5, 10119"), "{csv}");

    // Again: everything is already there.
    let again = discover(&cli, "Berlin");
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["duplicates"], 3, "{again}");

    let seen = seen.lock().unwrap();
    let (agent, query) = &seen[0];
    assert!(agent.starts_with("leadscout/"), "names itself: {agent}");
    assert!(
        query.contains(r#"nwr["amenity"="dentist"]["website"](area.a);"#)
            && query.contains("out center tags 100;"),
        "{query}"
    );
}

#[test]
fn a_timeout_remark_is_incomplete_not_empty() {
    let (cli, _) = setup();
    let partial = discover(&cli, "Partial");
    assert_eq!(partial["imported"], 1, "{partial}");
    assert!(
        partial["incomplete"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{partial}"
    );
    let text = cli.ok(&[
        "discover",
        "-c",
        "c",
        "--category",
        "dentist",
        "--area",
        "Partial",
    ]);
    assert!(
        text.contains("Incomplete: the server stopped early"),
        "{text}"
    );

    let err = cli.fails(&[
        "discover",
        "-c",
        "c",
        "--category",
        "dentist",
        "--area",
        "Slowtown",
    ]);
    assert!(
        err.contains("stopped before it found anything") && err.contains("discovery.timeout"),
        "{err}"
    );
    let none = discover(&cli, "Nowhere");
    assert_eq!(none["found"], 0, "{none}");
    assert!(none["incomplete"].is_null());
}

#[test]
fn a_busy_server_is_waited_for_then_given_up_on() {
    let (cli, seen) = setup();
    let report = discover(&cli, "Busy");
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(seen.lock().unwrap().len(), 2, "one 429, then the answer");

    let err = cli.fails(&[
        "discover",
        "-c",
        "c",
        "--category",
        "dentist",
        "--area",
        "Jammed",
    ]);
    assert!(err.contains("is busy (HTTP 504) after 3 tries"), "{err}");
    let err = cli.fails(&[
        "discover",
        "-c",
        "c",
        "--category",
        "astronaut",
        "--area",
        "Berlin",
    ]);
    assert!(err.contains("unknown category `astronaut`"), "{err}");
}
