//! A real SMTP server on loopback (mailin-embedded) that keeps what it
//! receives. Recipients starting with `unknown` get `550 5.1.1`, `later`
//! gets `451`; `slow_ms` delays each accepted message, so a test can kill
//! a sender in the middle of a hand-over.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::response::{OK, Response};
use mailin_embedded::{Handler, Server};

#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// Header name (lower case) → unfolded values, in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut out: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = out.last_mut() {
                    last.1.push_str(line.trim_start());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        out
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }
}

#[derive(Clone)]
struct Keeper {
    received: Arc<Mutex<Vec<Received>>>,
    hand_overs: Arc<std::sync::atomic::AtomicUsize>,
    slow: Duration,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Keeper {
    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, from: &str) -> Response {
        self.from = from.to_string();
        self.to.clear();
        self.data.clear();
        OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("unknown") {
            return Response::custom(550, "5.1.1 no such user here".into());
        }
        if to.starts_with("later") {
            return Response::custom(451, "4.7.1 greylisted, try again later".into());
        }
        self.to.push(to.to_string());
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.hand_overs
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::thread::sleep(self.slow);
        self.received.lock().unwrap().push(Received {
            from: self.from.clone(),
            to: self.to.clone(),
            data: String::from_utf8_lossy(&self.data).to_string(),
        });
        self.data.clear();
        OK
    }
}

pub struct SmtpServer {
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    hand_overs: Arc<std::sync::atomic::AtomicUsize>,
}

impl SmtpServer {
    pub fn start(slow: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let hand_overs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let keeper = Keeper {
            received: received.clone(),
            hand_overs: hand_overs.clone(),
            slow,
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::spawn(move || {
            let mut server = Server::new(keeper);
            server
                .with_name("smtp.test")
                .with_num_threads(4)
                .with_tcp_listener(listener);
            let _ = server.serve();
        });
        Self {
            port,
            received,
            hand_overs,
        }
    }

    /// Messages whose whole text arrived (the end of DATA), counted before
    /// the server answers: with `slow`, a sender is mid-hand-over from
    /// here until its answer.
    pub fn hand_overs(&self) -> usize {
        self.hand_overs.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many messages each recipient got.
    pub fn counts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for m in self.received() {
            for to in m.to {
                *out.entry(to).or_default() += 1;
            }
        }
        out
    }
}
