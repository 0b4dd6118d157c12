//! A hostile web server on loopback: decompression bombs, endless and
//! trickling bodies, redirect loops, redirects into the local network, a
//! huge header, bad bytes, a PDF posing as HTML, errors, resets, and a
//! self-signed TLS endpoint. Each behaviour has its own port, so each is a
//! separate site (and lead).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Case {
    Ok,
    GzipBomb,
    ZstdBomb,
    Endless,
    Trickle,
    RedirectLoop,
    RedirectLocal,
    RedirectMetadata,
    BigHeader,
    InvalidUtf8,
    Pdf,
    ServerError,
    Reset,
    SelfSignedTls,
}

pub const ALL: [Case; 14] = [
    Case::Ok,
    Case::GzipBomb,
    Case::ZstdBomb,
    Case::Endless,
    Case::Trickle,
    Case::RedirectLoop,
    Case::RedirectLocal,
    Case::RedirectMetadata,
    Case::BigHeader,
    Case::InvalidUtf8,
    Case::Pdf,
    Case::ServerError,
    Case::Reset,
    Case::SelfSignedTls,
];

pub struct HostileServer {
    pub ports: BTreeMap<Case, u16>,
    /// A port no allowed site may reach; it notes any connection.
    pub secret_port: u16,
    pub secret_touched: Arc<AtomicBool>,
    _runtime: std::thread::JoinHandle<()>,
}

impl HostileServer {
    pub fn url(&self, case: Case) -> String {
        let scheme = if case == Case::SelfSignedTls {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}/", self.ports[&case])
    }

    /// The `fetch.allow_hosts` value naming every case's port (and not the
    /// secret one), as TOML.
    pub fn allow_hosts(&self) -> String {
        let hosts: Vec<String> = self
            .ports
            .values()
            .map(|p| format!("\"127.0.0.1:{p}\""))
            .collect();
        format!("[{}]", hosts.join(", "))
    }

    pub fn start() -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let secret_touched = Arc::new(AtomicBool::new(false));
        let touched = secret_touched.clone();
        let runtime = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let gzip_bomb = Arc::new(gzip_bomb());
                let zstd_bomb = Arc::new(zstd_bomb());
                let tls = Arc::new(tls_acceptor());
                let secret = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let secret_port = secret.local_addr().unwrap().port();
                tokio::spawn(async move {
                    while let Ok((_stream, _)) = secret.accept().await {
                        touched.store(true, Ordering::SeqCst);
                    }
                });
                let mut ports = BTreeMap::new();
                for case in ALL {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    ports.insert(case, listener.local_addr().unwrap().port());
                    let (gzip_bomb, zstd_bomb, tls) =
                        (gzip_bomb.clone(), zstd_bomb.clone(), tls.clone());
                    tokio::spawn(async move {
                        while let Ok((stream, _)) = listener.accept().await {
                            let (gzip_bomb, zstd_bomb, tls) =
                                (gzip_bomb.clone(), zstd_bomb.clone(), tls.clone());
                            tokio::spawn(async move {
                                let _ =
                                    serve(case, stream, secret_port, &gzip_bomb, &zstd_bomb, &tls)
                                        .await;
                            });
                        }
                    });
                }
                tx.send((ports, secret_port)).unwrap();
                std::future::pending::<()>().await;
            });
        });
        let (ports, secret_port) = rx.recv().unwrap();
        Self {
            ports,
            secret_port,
            secret_touched,
            _runtime: runtime,
        }
    }
}

const PAGE: &[u8] = b"<!doctype html><html lang=\"en\"><head><title>A perfectly normal page</title></head><body><h1>Hello</h1></body></html>";

/// Reads the request head; returns the path.
async fn read_request<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head);
    Ok(line.split_whitespace().nth(1).unwrap_or("/").to_string())
}

async fn respond<S: tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

async fn serve(
    case: Case,
    mut stream: TcpStream,
    secret_port: u16,
    gzip_bomb: &[u8],
    zstd_bomb: &[u8],
    tls: &tokio_rustls::TlsAcceptor,
) -> std::io::Result<()> {
    if case == Case::SelfSignedTls {
        // A slow handshake, so the connect timing has something to show.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut tls_stream = tls.accept(stream).await?;
        read_request(&mut tls_stream).await?;
        return respond(
            &mut tls_stream,
            "200 OK",
            &[("Content-Type", "text/html; charset=utf-8".into())],
            PAGE,
        )
        .await;
    }
    let path = read_request(&mut stream).await?;
    let html = ("Content-Type", "text/html; charset=utf-8".to_string());
    // Side requests (robots.txt, sitemap, links) get plain 404s.
    if path != "/" && !(case == Case::RedirectLoop && path == "/a") {
        return respond(&mut stream, "404 Not Found", &[], b"not here").await;
    }
    match case {
        Case::Ok => respond(&mut stream, "200 OK", &[html], PAGE).await,
        Case::GzipBomb => respond(&mut stream, "200 OK", &[html, ("Content-Encoding", "gzip".into())], gzip_bomb).await,
        Case::ZstdBomb => respond(&mut stream, "200 OK", &[html, ("Content-Encoding", "zstd".into())], zstd_bomb).await,
        Case::Endless => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let chunk = vec![b'x'; 64 * 1024];
            loop {
                stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                stream.write_all(&chunk).await?;
                stream.write_all(b"\r\n").await?;
            }
        }
        Case::Trickle => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html>")
                .await?;
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                stream.write_all(b"x").await?;
            }
        }
        Case::RedirectLoop => {
            let next = if path == "/" { "/a" } else { "/" };
            respond(&mut stream, "302 Found", &[("Location", next.into())], b"").await
        }
        Case::RedirectLocal => {
            respond(&mut stream, "302 Found", &[("Location", format!("http://127.0.0.1:{secret_port}/secret"))], b"").await
        }
        Case::RedirectMetadata => {
            respond(&mut stream, "302 Found", &[("Location", "http://169.254.169.254/latest/meta-data/".into())], b"").await
        }
        Case::BigHeader => respond(&mut stream, "200 OK", &[html, ("X-Big", "a".repeat(1024 * 1024))], PAGE).await,
        Case::InvalidUtf8 => {
            respond(&mut stream, "200 OK", &[html], b"<html lang=en><head><title>Caf\xe9 \xff\xfe</title></head><body>\xc3\x28 bad</body></html>").await
        }
        Case::Pdf => respond(&mut stream, "200 OK", &[html], b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj").await,
        Case::ServerError => respond(&mut stream, "500 Internal Server Error", &[html], b"<html><body>Error establishing a database connection</body></html>").await,
        Case::Reset => {
            // SO_LINGER 0 makes the close a reset; the blocking-on-drop
            // caveat behind the deprecation does not apply to a zero linger.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            drop(stream);
            Ok(())
        }
        Case::SelfSignedTls => unreachable!("handled above"),
    }
}

fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..200 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

fn zstd_bomb() -> Vec<u8> {
    let zeros = vec![0u8; 200 * 1024 * 1024];
    zstd::bulk::compress(&zeros, 19).unwrap()
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = rustls_pki_types::CertificateDer::from(cert.cert.der().to_vec());
    let key = rustls_pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A well-behaved site whose home page can be swapped, to test re-audits.
pub struct SwitchSite {
    pub port: u16,
    page: Arc<std::sync::Mutex<&'static str>>,
    _thread: std::thread::JoinHandle<()>,
}

impl SwitchSite {
    pub fn start(first: &'static str) -> Self {
        let page = Arc::new(std::sync::Mutex::new(first));
        let shared = page.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap().port()).unwrap();
                while let Ok((mut stream, _)) = listener.accept().await {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let path = read_request(&mut stream).await.unwrap_or_default();
                        let body = if path == "/" {
                            *shared.lock().unwrap()
                        } else {
                            ""
                        };
                        let status = if path == "/" {
                            "200 OK"
                        } else {
                            "404 Not Found"
                        };
                        let _ = respond(
                            &mut stream,
                            status,
                            &[("Content-Type", "text/html; charset=utf-8".into())],
                            body.as_bytes(),
                        )
                        .await;
                    });
                }
            });
        });
        Self {
            port: rx.recv().unwrap(),
            page,
            _thread: thread,
        }
    }

    pub fn set(&self, page: &'static str) {
        *self.page.lock().unwrap() = page;
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}
