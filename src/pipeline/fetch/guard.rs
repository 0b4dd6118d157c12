//! The egress guard: which addresses a fetch may reach. Only http and https;
//! every address a host resolves to must be public, unless the host (or
//! host:port) is allowed by config. The addresses checked are the ones
//! connected to: the client's resolver only hands out what the guard pinned,
//! so a name cannot resolve to something else between check and connect.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnet::{Ipv4Net, Ipv6Net};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::config::{FetchConfig, UnservedDemoSite};

/// Why a URL may not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("refused {url}: only http and https are fetched")]
    Scheme { url: String },
    #[error("refused {url}: it has no host")]
    NoHost { url: String },
    #[error("refused {url}: {}", internal_reason(host, addr, kind, host_port))]
    Internal {
        url: String,
        host: String,
        addr: IpAddr,
        kind: &'static str,
        host_port: String,
    },
    #[error(
        "refused {url}: it is the demo site of {business}, which could not be served again when this demo workspace was opened ({why}); free port {port} and open it again, or run `leadscout demo` again"
    )]
    DemoUnserved {
        url: String,
        business: String,
        why: String,
        port: u16,
    },
    #[error("cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
}

fn internal_reason(host: &str, addr: &IpAddr, kind: &str, host_port: &str) -> String {
    let what = if host.trim_start_matches('[').trim_end_matches(']') == addr.to_string() {
        format!("{host} is a {kind} address")
    } else {
        format!("{host} resolves to {addr}, a {kind} address")
    };
    if private_kind(kind) {
        format!(
            "{what}; leadscout does not fetch internal addresses (to allow it, add \"{host_port}\" to fetch.allow_hosts)"
        )
    } else {
        format!(
            "{what}; leadscout does not fetch such addresses, not even with fetch.allow_private (only an exact fetch.allow_hosts entry, \"{host_port}\", admits it)"
        )
    }
}

/// Loopback and private networks, which `fetch.allow_private` admits (tests,
/// intranets). Link-local (cloud metadata), multicast, internal addresses
/// in IPv6 disguise and the like it never admits: only an exact
/// `fetch.allow_hosts` entry does.
fn private_kind(kind: &str) -> bool {
    ["loopback", "private", "unique-local", "carrier-grade NAT"].contains(&kind)
}

/// What the guard allows beyond public addresses.
#[derive(Debug, Clone, Default)]
pub struct EgressGuard {
    allow_private: bool,
    /// Hosts allowed on every port.
    hosts: Vec<String>,
    /// (host, port) pairs allowed.
    host_ports: Vec<(String, u16)>,
    /// A reopened demo's sites that could not listen again, and why.
    demo_unserved: Vec<UnservedDemoSite>,
    resolver: Arc<PinnedResolver>,
}

/// A check that passed: where to connect, and how long DNS took.
#[derive(Debug, Clone)]
pub struct Cleared {
    pub addrs: Vec<IpAddr>,
    pub dns: Duration,
}

impl EgressGuard {
    pub fn new(config: &FetchConfig) -> Self {
        let mut guard = Self {
            allow_private: config.allow_private,
            demo_unserved: config.demo_unserved.clone(),
            ..Self::default()
        };
        for entry in &config.allow_hosts {
            let entry = entry.trim().to_ascii_lowercase();
            match split_host_port(&entry) {
                Some((host, port)) => guard.host_ports.push((host, port)),
                None => guard.hosts.push(
                    entry
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_string(),
                ),
            }
        }
        guard
    }

    /// The resolver to give the HTTP client: it answers only for hosts this
    /// guard cleared.
    pub fn resolver(&self) -> Arc<PinnedResolver> {
        self.resolver.clone()
    }

    /// Whether an exact `allow_hosts` entry names this host (and port).
    fn allowed(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.hosts.iter().any(|h| h == host)
            || self.host_ports.iter().any(|(h, p)| h == host && *p == port)
    }

    /// Checks a URL and pins the addresses its host may be reached at.
    pub async fn clear(&self, url: &Url, dns_timeout: Duration) -> Result<Cleared, Refused> {
        let shown = url.as_str().to_string();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refused::Scheme { url: shown });
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let host = url
            .host()
            .ok_or_else(|| Refused::NoHost { url: shown.clone() })?;
        let started = Instant::now();
        let (name, addrs): (String, Vec<IpAddr>) = match host {
            // The URL parser already turned decimal, octal and hex spellings
            // (2130706433, 0177.0.0.1, 0x7f000001) into the address.
            Host::Ipv4(ip) => (ip.to_string(), vec![IpAddr::V4(ip)]),
            Host::Ipv6(ip) => (format!("[{ip}]"), vec![IpAddr::V6(ip)]),
            Host::Domain(name) => {
                let lookup = tokio::net::lookup_host((name, port));
                let found = tokio::time::timeout(dns_timeout, lookup)
                    .await
                    .map_err(|_| Refused::Dns {
                        host: name.to_string(),
                        reason: format!("no answer within {}s", dns_timeout.as_secs()),
                    })?
                    .map_err(|e| Refused::Dns {
                        host: name.to_string(),
                        reason: e.to_string(),
                    })?;
                let mut addrs: Vec<IpAddr> = found.map(|a| a.ip()).collect();
                addrs.dedup();
                if addrs.is_empty() {
                    return Err(Refused::Dns {
                        host: name.to_string(),
                        reason: "it has no address".into(),
                    });
                }
                (name.to_string(), addrs)
            }
        };
        let dns = started.elapsed();
        if !self.allowed(&name, port) {
            // Every address must be public: one internal answer is enough to
            // refuse, or the connection could land on it.
            for addr in &addrs {
                if let Some(kind) = internal_kind(*addr)
                    && !(self.allow_private && private_kind(kind))
                {
                    let host_port = format!("{name}:{port}");
                    if let Some(site) = self.demo_unserved.iter().find(|s| s.addr == host_port) {
                        return Err(Refused::DemoUnserved {
                            url: shown,
                            business: site.business.clone(),
                            why: site.why.clone(),
                            port,
                        });
                    }
                    return Err(Refused::Internal {
                        url: shown,
                        host: name.clone(),
                        addr: *addr,
                        kind,
                        host_port: format!("{name}:{port}"),
                    });
                }
            }
        }
        if let Host::Domain(domain) = host {
            self.resolver.pin(domain, &addrs);
        }
        Ok(Cleared { addrs, dns })
    }
}

fn split_host_port(entry: &str) -> Option<(String, u16)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = after.strip_prefix(':')?.parse().ok()?;
        return Some((host.to_string(), port));
    }
    let (host, port) = entry.rsplit_once(':')?;
    if host.contains(':') {
        return None; // a bare IPv6 address, no port
    }
    Some((host.to_string(), port.parse().ok()?))
}

/// The kind of an address that must not be fetched, or `None` when public.
pub fn internal_kind(addr: IpAddr) -> Option<&'static str> {
    match addr {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4).map(|_| "IPv4-mapped internal");
            }
            v6_kind(v6)
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[(&str, &str)] = &[
        ("0.0.0.0/8", "unspecified"),
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local (cloud metadata)"),
        ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol"),
        ("192.0.2.0/24", "documentation"),
        ("192.168.0.0/16", "private"),
        ("198.18.0.0/15", "benchmarking"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),
    ];
    RANGES
        .iter()
        .find(|(net, _)| net.parse::<Ipv4Net>().is_ok_and(|n| n.contains(&ip)))
        .map(|(_, kind)| *kind)
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    let segments = ip.segments();
    // Forms that carry an IPv4 address inside: judge by that address.
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from(((hi as u32) << 16) | lo as u32);
    if segments[..6] == [0, 0, 0, 0, 0, 0] {
        return v4_kind(embedded(segments[6], segments[7])).map(|_| "IPv4-compatible internal");
    }
    if "64:ff9b::/96"
        .parse::<Ipv6Net>()
        .is_ok_and(|n| n.contains(&ip))
    {
        return v4_kind(embedded(segments[6], segments[7])).map(|_| "NAT64 internal");
    }
    if "2002::/16"
        .parse::<Ipv6Net>()
        .is_ok_and(|n| n.contains(&ip))
    {
        return v4_kind(embedded(segments[1], segments[2])).map(|_| "6to4 internal");
    }
    const RANGES: &[(&str, &str)] = &[
        ("fc00::/7", "unique-local"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
        ("2001::/32", "Teredo"),
        ("2001:db8::/32", "documentation"),
        ("100::/64", "discard"),
    ];
    RANGES
        .iter()
        .find(|(net, _)| net.parse::<Ipv6Net>().is_ok_and(|n| n.contains(&ip)))
        .map(|(_, kind)| *kind)
}

/// The HTTP client's resolver: it answers only with addresses the guard
/// checked, and refuses names it was not asked about.
#[derive(Debug, Default)]
pub struct PinnedResolver {
    pinned: Mutex<HashMap<String, Vec<IpAddr>>>,
}

impl PinnedResolver {
    fn pin(&self, host: &str, addrs: &[IpAddr]) {
        let mut pinned = self.pinned.lock().unwrap_or_else(|e| e.into_inner());
        if pinned.len() > 50_000 {
            pinned.clear(); // a bound, not a cache: re-checked on the next request
        }
        pinned.insert(host.to_ascii_lowercase(), addrs.to_vec());
    }
}

impl Resolve for PinnedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let found = self
            .pinned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name.as_str().to_ascii_lowercase())
            .cloned();
        Box::pin(async move {
            match found {
                Some(addrs) => {
                    let addrs: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
                    Ok(addrs)
                }
                None => {
                    Err(format!("{} was not checked by the egress guard", name.as_str()).into())
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow_hosts: &[&str], allow_private: bool) -> EgressGuard {
        EgressGuard::new(&FetchConfig {
            allow_hosts: allow_hosts.iter().map(|s| s.to_string()).collect(),
            allow_private,
            ..FetchConfig::default()
        })
    }

    async fn verdict(g: &EgressGuard, url: &str) -> Result<Cleared, Refused> {
        g.clear(&Url::parse(url).unwrap(), Duration::from_secs(5))
            .await
    }

    #[test]
    fn internal_addresses_are_classified() {
        for (ip, internal) in [
            ("127.0.0.1", true),
            ("10.1.2.3", true),
            ("172.31.255.255", true),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("100.64.0.1", true),
            ("0.0.0.0", true),
            ("224.0.0.1", true),
            ("255.255.255.255", true),
            ("::1", true),
            ("::", true),
            ("fc00::1", true),
            ("fd12:3456::1", true),
            ("fe80::1", true),
            ("ff02::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:169.254.169.254", true),
            ("::127.0.0.1", true),
            ("64:ff9b::a9fe:a9fe", true),
            ("2002:7f00:1::", true),
            ("8.8.8.8", false),
            ("93.184.216.34", false),
            ("2606:4700::1111", false),
            ("::ffff:8.8.8.8", false),
            ("2002:0808:0808::", false),
        ] {
            let addr: IpAddr = ip.parse().unwrap();
            assert_eq!(
                internal_kind(addr).is_some(),
                internal,
                "{ip}: {:?}",
                internal_kind(addr)
            );
        }
    }

    #[tokio::test]
    async fn every_spelling_of_an_internal_address_is_refused() {
        let g = guard(&[], false);
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00::1]:8080/",
            "http://10.0.0.1:9000/",
            "http://localhost:8080/",
            "http://0.0.0.0/",
        ] {
            let err = verdict(&g, url).await.unwrap_err();
            assert!(matches!(err, Refused::Internal { .. }), "{url}: {err}");
        }
        let err = verdict(&g, "ftp://example.com/").await.unwrap_err();
        assert!(matches!(err, Refused::Scheme { .. }));
        let err = verdict(&g, "file:///etc/passwd").await.unwrap_err();
        assert!(matches!(err, Refused::Scheme { .. }));
    }

    #[tokio::test]
    async fn allowances_are_exact() {
        let g = guard(&["127.0.0.1:8001", "localhost", "[::1]:9000"], false);
        assert!(verdict(&g, "http://127.0.0.1:8001/").await.is_ok());
        assert!(
            verdict(&g, "http://2130706433:8001/").await.is_ok(),
            "the same host in another spelling"
        );
        assert!(
            verdict(&g, "http://127.0.0.1:8002/").await.is_err(),
            "another port"
        );
        assert!(
            verdict(&g, "http://127.0.0.2:8001/").await.is_err(),
            "another host"
        );
        assert!(
            verdict(&g, "http://localhost:1234/").await.is_ok(),
            "a host without port: every port"
        );
        assert!(verdict(&g, "http://[::1]:9000/").await.is_ok());
        assert!(verdict(&g, "http://[::1]:9001/").await.is_err());
        assert!(verdict(&g, "http://169.254.169.254/").await.is_err());

        let open = guard(&[], true);
        for url in [
            "http://127.0.0.1/",
            "http://10.0.0.1/",
            "http://[::1]/",
            "http://localhost/",
        ] {
            assert!(verdict(&open, url).await.is_ok(), "{url}");
        }
        // allow_private never reaches link-local (cloud metadata) ranges
        // or multicast; only an exact allow_hosts entry does.
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[fe80::1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://224.0.0.1/",
        ] {
            let err = verdict(&open, url).await.unwrap_err();
            assert!(
                err.to_string()
                    .contains("not even with fetch.allow_private"),
                "{url}: {err}"
            );
        }
        let exact = guard(&["169.254.169.254"], true);
        assert!(verdict(&exact, "http://169.254.169.254/").await.is_ok());
    }

    #[test]
    fn refusals_say_how_to_allow() {
        let err = Refused::Internal {
            url: "http://127.0.0.1:8001/".into(),
            host: "127.0.0.1".into(),
            addr: "127.0.0.1".parse().unwrap(),
            kind: "loopback",
            host_port: "127.0.0.1:8001".into(),
        };
        assert_eq!(
            err.to_string(),
            "refused http://127.0.0.1:8001/: 127.0.0.1 is a loopback address; leadscout does not fetch internal addresses (to allow it, add \"127.0.0.1:8001\" to fetch.allow_hosts)"
        );
        let metadata = Refused::Internal {
            url: "http://evil.example/".into(),
            host: "evil.example".into(),
            addr: "169.254.169.254".parse().unwrap(),
            kind: "link-local (cloud metadata)",
            host_port: "evil.example:80".into(),
        };
        assert_eq!(
            metadata.to_string(),
            "refused http://evil.example/: evil.example resolves to 169.254.169.254, a link-local (cloud metadata) address; leadscout does not fetch such addresses, not even with fetch.allow_private (only an exact fetch.allow_hosts entry, \"evil.example:80\", admits it)"
        );
    }
}
