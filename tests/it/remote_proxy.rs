//! The egress proxy for browsers on other machines (`webdriver.proxy_bind`):
//! raw clients against it (credentials, revocation, the allow list, the
//! guard behind it), screenshots through it with the local chromedriver,
//! and `doctor` walking the path and naming the hop that broke.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine as _;
use leadscout::config::Config;
use leadscout::pipeline::browser::Browser;
use leadscout::pipeline::browser::proxy::{EgressProxy, ProxyServer};
use leadscout::pipeline::fetch::guard::EgressGuard;

use crate::browser::{PageServer, browser_available, one_at_a_time};
use crate::helpers::{Cli, serve_pages};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A loopback port nobody listens on (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn authorization(user: &str, secret: &str) -> String {
    format!(
        "Proxy-Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

/// Sends one request and reads the answer until the server closes or the
/// head (and, with a length, the body) is in.
fn exchange(stream: &mut TcpStream, request: &str) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = stream.read(&mut chunk) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(proxy: SocketAddr, url: &str, auth: &str) -> String {
    let mut stream = TcpStream::connect(proxy).unwrap();
    exchange(
        &mut stream,
        &format!("GET {url} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
    )
}

/// A shared proxy on loopback, open to loopback clients, whose guard lets
/// through the site on `port` only.
fn proxy_for(rt: &tokio::runtime::Runtime, port: u16) -> std::sync::Arc<ProxyServer> {
    let mut config = Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{port}")];
    rt.block_on(ProxyServer::remote(
        "127.0.0.1:0".parse().unwrap(),
        "http://127.0.0.1:1",
        vec!["127.0.0.1/32".parse().unwrap()],
        EgressGuard::new(&config.fetch),
    ))
    .unwrap()
}

#[test]
fn the_remote_proxy_serves_only_live_sessions_from_allowed_addresses() {
    let site = serve_pages(|_| ("200 OK", "text/html", b"<p>allowed site</p>".to_vec()));
    let forbidden = free_port();
    let rt = runtime();
    let server = proxy_for(&rt, site);
    let addr = server.local_addr();
    let session: EgressProxy = server.session();
    let other = server.session();
    let good = authorization(&session.credentials().user, &session.credentials().secret);
    let page = format!("http://127.0.0.1:{site}/");

    let none = get(addr, &page, "");
    assert!(none.starts_with("HTTP/1.1 407"), "{none}");
    assert!(
        none.to_ascii_lowercase()
            .contains("proxy-authenticate: basic realm=\"leadscout\""),
        "{none}"
    );
    let crossed = authorization(&session.credentials().user, &other.credentials().secret);
    let wrong = get(addr, &page, &crossed);
    assert!(wrong.starts_with("HTTP/1.1 407"), "{wrong}");

    let through = get(addr, &page, &good);
    assert!(
        through.starts_with("HTTP/1.1 200") && through.contains("allowed site"),
        "{through}"
    );
    let mut tunnel = TcpStream::connect(addr).unwrap();
    let opened = exchange(
        &mut tunnel,
        &format!("CONNECT 127.0.0.1:{site} HTTP/1.1\r\nHost: 127.0.0.1:{site}\r\n{good}\r\n"),
    );
    assert!(opened.starts_with("HTTP/1.1 200"), "{opened}");
    let inside = exchange(
        &mut tunnel,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(inside.contains("allowed site"), "{inside}");

    // The guard still decides, for plain http and for CONNECT, and what was
    // refused is the session's whose credentials were used.
    let refused = get(addr, &format!("http://127.0.0.1:{forbidden}/"), &good);
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    let mut tunnel = TcpStream::connect(addr).unwrap();
    let metadata = exchange(
        &mut tunnel,
        &format!("CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: x\r\n{good}\r\n"),
    );
    assert!(metadata.starts_with("HTTP/1.1 403"), "{metadata}");
    let seen = session.take_refused();
    assert!(
        seen.iter().any(|r| r.contains(&forbidden.to_string()))
            && seen.iter().any(|r| r.contains("169.254.169.254")),
        "{seen:?}"
    );
    assert!(other.take_refused().is_empty());

    // Closing the session revokes its credentials.
    drop(session);
    let revoked = get(addr, &page, &good);
    assert!(revoked.starts_with("HTTP/1.1 407"), "{revoked}");

    // From an address outside proxy_allow the connection is closed at
    // accept, whatever it carries.
    let socket = socket2_bind("127.0.0.2");
    if let Some(mut stream) = socket.and_then(|s| connect_from(s, addr)) {
        let answer = exchange(
            &mut stream,
            &format!("GET {page} HTTP/1.1\r\nHost: x\r\n{good}Connection: close\r\n\r\n"),
        );
        assert!(
            answer.is_empty(),
            "answered from outside the allow list: {answer}"
        );
    }
    drop(other);
}

/// A site that keeps its connections open: every request head it read,
/// and how many connections it accepted.
struct KeepAliveSite {
    port: u16,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl KeepAliveSite {
    /// Answers every request with `ok` and headers that describe the hop
    /// (`Keep-Alive`, one named by `Connection`, a `Proxy-Authenticate`);
    /// the first answer also says `Connection: close` and closes.
    fn start() -> Self {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (seen, count) = (heads.clone(), connections.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = std::io::BufReader::new(stream);
                    loop {
                        let mut head = String::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            head.push_str(&line);
                        }
                        let first = {
                            let mut seen = seen.lock().unwrap();
                            seen.push(head);
                            seen.len() == 1
                        };
                        let connection = if first { "close" } else { "keep-alive" };
                        let answer = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\
                             Connection: {connection}, X-Site-Hop\r\nX-Site-Hop: 1\r\n\
                             Keep-Alive: timeout=1\r\nProxy-Authenticate: Basic realm=\"site\"\r\n\
                             X-Site-Kept: 1\r\n\r\nok"
                        );
                        if writer.write_all(answer.as_bytes()).is_err() || first {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            port,
            heads,
            connections,
        }
    }
}

/// Plain http through the proxy: the headers that describe one connection
/// are not passed on in either direction (the proxy's credentials least of
/// all), the rest are; a site closing its connection does not close the
/// browser's to the proxy; and a page's requests to one site share kept
/// connections instead of opening one each.
#[test]
fn plain_http_passes_no_hop_headers_and_keeps_its_connection_to_the_site() {
    let site = KeepAliveSite::start();
    let rt = runtime();
    let server = proxy_for(&rt, site.port);
    let session = server.session();
    let auth = authorization(&session.credentials().user, &session.credentials().secret);
    // One connection from the "browser" carries every request.
    let mut browser = TcpStream::connect(server.local_addr()).unwrap();
    const REQUESTS: usize = 5;
    for n in 0..REQUESTS {
        let answer = exchange(
            &mut browser,
            &format!(
                "GET http://127.0.0.1:{port}/r{n}?q=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\
                 Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Browser-Hop\r\n\
                 X-Browser-Hop: 1\r\nTE: trailers\r\nX-Browser-Kept: 1\r\n\r\n",
                port = site.port
            ),
        );
        let lower = answer.to_ascii_lowercase();
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"),
            "{answer}"
        );
        assert!(lower.contains("x-site-kept: 1"), "{answer}");
        for hop in [
            "x-site-hop",
            "keep-alive: timeout",
            "proxy-authenticate",
            "connection: close",
        ] {
            assert!(
                !lower.contains(hop),
                "{hop} was passed to the browser: {answer}"
            );
        }
    }
    let heads = site.heads.lock().unwrap().clone();
    assert_eq!(heads.len(), REQUESTS, "{heads:?}");
    for (n, head) in heads.iter().enumerate() {
        let lower = head.to_ascii_lowercase();
        assert!(
            head.starts_with(&format!("GET /r{n}?q=1 HTTP/1.1\r\n")),
            "{head}"
        );
        assert!(
            lower.contains(&format!("host: 127.0.0.1:{}", site.port)),
            "{head}"
        );
        assert!(lower.contains("x-browser-kept: 1"), "{head}");
        for hop in [
            "proxy-authorization",
            "proxy-connection",
            "x-browser-hop",
            "te:",
        ] {
            assert!(!lower.contains(hop), "{hop} was passed to the site: {head}");
        }
    }
    // The site closed the first connection; after that each answer was
    // whole before the next request was sent, so a kept connection was
    // free for it (its return to the pool is a separate task, hence
    // "fewer", not "two").
    let opened = site.connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        opened < REQUESTS,
        "{REQUESTS} requests opened {opened} connections to the site"
    );
}

/// A TCP socket bound to `ip` (port chosen by the kernel), through libc:
/// std cannot bind a client socket before connecting.
fn socket2_bind(ip: &str) -> Option<i32> {
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    // SAFETY: plain socket calls on a descriptor this function owns.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        let bound = libc::bind(
            fd,
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        assert_eq!(bound, 0, "bind a client socket to {ip}");
        Some(fd)
    }
}

/// Connects the bound socket; `None` when the connection is refused (the
/// proxy may close it before the client sees it open).
fn connect_from(fd: i32, to: SocketAddr) -> Option<TcpStream> {
    use std::os::fd::FromRawFd;
    let SocketAddr::V4(to) = to else { return None };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: to.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*to.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `fd` is a socket this test made; ownership passes to the stream.
    unsafe {
        let rc = libc::connect(
            fd,
            &addr as *const libc::sockaddr_in as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        );
        let stream = TcpStream::from_raw_fd(fd);
        (rc == 0).then_some(stream)
    }
}

fn remote_config(server: &PageServer, proxy_port: u16) -> Config {
    let mut config = Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{}", server.port)];
    config.webdriver.sessions = 1;
    config.webdriver.page_timeout = Duration::from_secs(10);
    config.webdriver.proxy_bind = format!("127.0.0.1:{proxy_port}");
    config.webdriver.proxy_url = format!("http://127.0.0.1:{proxy_port}");
    config.webdriver.proxy_allow = vec!["127.0.0.1".into()];
    config
}

#[test]
fn screenshots_go_through_the_shared_proxy_and_the_guard_still_refuses() {
    if !browser_available("screenshots_go_through_the_shared_proxy_and_the_guard_still_refuses") {
        return;
    }
    let _one = one_at_a_time();
    let server = PageServer::start();
    let browser = Browser::new(&remote_config(&server, free_port())).unwrap();
    let rt = runtime();
    let capture = rt
        .block_on(browser.capture(&server.url("/colour")))
        .unwrap();
    assert!(capture.desktop_png.starts_with(b"\x89PNG"));
    assert!(capture.mobile_png.starts_with(b"\x89PNG"));
    let capture = rt
        .block_on(browser.capture(&server.url("/egress")))
        .unwrap();
    assert!(
        capture
            .refused
            .iter()
            .any(|r| r.contains(&format!("127.0.0.1:{}", server.secret_port))),
        "{:?}",
        capture.refused
    );
    rt.block_on(browser.shutdown());
    assert!(
        !server
            .secret_touched
            .load(std::sync::atomic::Ordering::SeqCst),
        "the browser reached a port that was not allowed"
    );
}

/// doctor's browser hops: (name, status, detail).
pub fn hops(doctor: &serde_json::Value) -> Vec<(String, String, String)> {
    doctor
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().starts_with("webdriver"))
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn doctor_walks_the_browser_path_and_names_the_hop_that_broke() {
    if !browser_available("doctor_walks_the_browser_path_and_names_the_hop_that_broke") {
        return;
    }
    let _one = one_at_a_time();
    let port = free_port();
    let cli = Cli::new()
        .one_browser()
        .env(
            "LEADSCOUT_WEBDRIVER__PROXY_BIND",
            &format!("127.0.0.1:{port}"),
        )
        .env(
            "LEADSCOUT_WEBDRIVER__PROXY_URL",
            &format!("http://127.0.0.1:{port}"),
        )
        .env("LEADSCOUT_WEBDRIVER__PROXY_ALLOW", "[\"127.0.0.1\"]");
    let doctor = cli.json(&["doctor"]);
    let names: Vec<(String, String, String)> = hops(&doctor);
    let expected = [
        "webdriver",
        "webdriver: session created",
        "webdriver: proxy reachable from the browser",
        "webdriver: page loaded",
        "webdriver: screenshot taken",
    ];
    assert_eq!(
        names.iter().map(|h| h.0.as_str()).collect::<Vec<_>>(),
        expected,
        "{doctor}"
    );
    assert!(names.iter().all(|h| h.1 == "ok"), "{doctor}");

    // The browser is told a port where nothing listens.
    let closed = free_port();
    let cli = Cli::new()
        .one_browser()
        .env(
            "LEADSCOUT_WEBDRIVER__PROXY_BIND",
            &format!("127.0.0.1:{port}"),
        )
        .env(
            "LEADSCOUT_WEBDRIVER__PROXY_URL",
            &format!("http://127.0.0.1:{closed}"),
        )
        .env("LEADSCOUT_WEBDRIVER__PROXY_ALLOW", "[\"127.0.0.1\"]");
    let run = cli.run(&["doctor", "--json"]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(!run.status.success(), "{text}");
    let doctor: serde_json::Value = serde_json::from_str(&text).unwrap();
    let last = hops(&doctor).pop().unwrap();
    assert_eq!(
        last.0, "webdriver: proxy reachable from the browser",
        "{doctor}"
    );
    assert_eq!(last.1, "fail", "{doctor}");
    assert!(
        last.2.contains("ERR_PROXY_CONNECTION_FAILED") && last.2.contains("webdriver.proxy_url"),
        "{}",
        last.2
    );
}
