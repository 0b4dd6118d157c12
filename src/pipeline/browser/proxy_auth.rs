//! Who may use the egress proxy: the per-session credentials (a random
//! user and secret, issued when a browser session starts and revoked when
//! it ends), the `Proxy-Authorization: Basic` header that carries them, and
//! the networks connections may come from. Knows nothing of forwarding.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use ipnet::IpNet;

/// What the proxy keeps for one live session: its secret and the requests
/// it was refused.
pub(super) struct Entry {
    secret: String,
    pub(super) refused: Mutex<Vec<String>>,
    /// Probe tokens this session's browser fetched (see `PROBE_HOST`).
    pub(super) probes: Mutex<Vec<String>>,
}

/// The live sessions, by user name.
#[derive(Default)]
pub(super) struct Registry {
    sessions: Mutex<HashMap<String, Arc<Entry>>>,
}

/// A session's credentials. Debug shows the user only.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// 128 random bits for the user, 256 for the secret, in hex (no character
/// that Basic's `user:secret` would need to escape).
fn random_hex<const N: usize>() -> String {
    hex::encode(rand::random::<[u8; N]>())
}

impl Registry {
    /// Issues fresh credentials for a new session.
    pub(super) fn issue(&self) -> (Credentials, Arc<Entry>) {
        let credentials = Credentials {
            user: random_hex::<16>(),
            secret: random_hex::<32>(),
        };
        let entry = Arc::new(Entry {
            secret: credentials.secret.clone(),
            refused: Mutex::new(Vec::new()),
            probes: Mutex::new(Vec::new()),
        });
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(credentials.user.clone(), entry.clone());
        (credentials, entry)
    }

    /// Revokes a session's credentials: its browser gets 407 from now on.
    pub(super) fn revoke(&self, user: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(user);
    }

    /// The session a `Proxy-Authorization` header value belongs to, if its
    /// credentials are live and right.
    pub(super) fn authenticate(&self, header: Option<&[u8]>) -> Option<Arc<Entry>> {
        let (user, secret) = parse_basic(header?)?;
        let entry = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&user)
            .cloned()?;
        constant_time_eq(entry.secret.as_bytes(), secret.as_bytes()).then_some(entry)
    }
}

/// `Basic base64(user:secret)` → (user, secret).
pub fn parse_basic(value: &[u8]) -> Option<(String, String)> {
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, secret) = decoded.split_once(':')?;
    Some((user.to_string(), secret.to_string()))
}

/// Compares without stopping at the first difference, so the time taken
/// says nothing about how much of a guessed secret was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The networks connections may come from; others are closed at accept,
/// and each such address is logged once.
pub(super) struct Allow {
    nets: Vec<IpNet>,
    warned: Mutex<HashSet<IpAddr>>,
}

impl Allow {
    pub(super) fn new(nets: Vec<IpNet>) -> Self {
        Self {
            nets,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// Loopback only: the local proxy of a browser on this machine.
    pub(super) fn loopback() -> Self {
        Self::new(vec![
            IpNet::V4(ipnet::Ipv4Net::new_assert(std::net::Ipv4Addr::LOCALHOST, 8)),
            IpNet::V6(ipnet::Ipv6Net::new_assert(
                std::net::Ipv6Addr::LOCALHOST,
                128,
            )),
        ])
    }

    pub(super) fn admits(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        if self.nets.iter().any(|net| net.contains(&peer)) {
            return true;
        }
        let first = self
            .warned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer);
        if first {
            tracing::warn!(
                %peer,
                "refused a connection to the browser proxy from an address outside webdriver.proxy_allow"
            );
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(text: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
        .into_bytes()
    }

    #[test]
    fn basic_credentials_parse_and_bad_ones_do_not() {
        assert_eq!(
            parse_basic(&basic("u:s:with:colons")),
            Some(("u".into(), "s:with:colons".into()))
        );
        assert_eq!(parse_basic(b"basic dTpw"), Some(("u".into(), "p".into())));
        assert_eq!(parse_basic(b"Bearer dTpw"), None);
        assert_eq!(parse_basic(b"Basic !!!"), None);
        assert_eq!(parse_basic(&basic("no-colon")), None);
        assert_eq!(parse_basic(b""), None);
    }

    #[test]
    fn only_live_credentials_authenticate() {
        let registry = Registry::default();
        let (mine, _) = registry.issue();
        let (other, _) = registry.issue();
        assert!(mine.user.len() >= 32 && mine.secret.len() >= 64);
        assert_ne!(mine.secret, other.secret);
        let good = basic(&format!("{}:{}", mine.user, mine.secret));
        assert!(registry.authenticate(Some(&good)).is_some());
        let crossed = basic(&format!("{}:{}", mine.user, other.secret));
        assert!(registry.authenticate(Some(&crossed)).is_none());
        assert!(registry.authenticate(None).is_none());
        registry.revoke(&mine.user);
        assert!(registry.authenticate(Some(&good)).is_none());
        let still = basic(&format!("{}:{}", other.user, other.secret));
        assert!(registry.authenticate(Some(&still)).is_some());
    }

    #[test]
    fn the_allow_list_admits_its_networks_only() {
        let allow = Allow::new(vec![
            "10.0.0.0/24".parse().unwrap(),
            "::1/128".parse().unwrap(),
        ]);
        assert!(allow.admits("10.0.0.7".parse().unwrap()));
        assert!(allow.admits("::ffff:10.0.0.9".parse().unwrap()));
        assert!(!allow.admits("10.0.1.7".parse().unwrap()));
        let local = Allow::loopback();
        assert!(local.admits("127.0.0.2".parse().unwrap()));
        assert!(local.admits("::1".parse().unwrap()));
        assert!(!local.admits("192.0.2.1".parse().unwrap()));
    }
}
