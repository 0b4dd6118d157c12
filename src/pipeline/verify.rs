//! Asks DNS whether an address's domain receives mail: its MX records, or
//! when it has none an address record (RFC 5321 §5.1), and RFC 7505's null
//! MX as a "no". One resolver serves every check, so its cache answers
//! the many leads of one domain (and of one mail host) without asking
//! again. `[verify] nameserver` points it at a DNS server of the
//! operator's (or a test's) choosing. Nothing here talks SMTP.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::config::VerifyConfig;
use crate::domain::Timestamp;
use crate::domain::address_check::{AddressCheck, MailRoute};
use crate::domain::email::Email;

/// The DNS side of the address check.
pub struct MailDns {
    resolver: TokioResolver,
    /// Named in "not known" answers, so the operator knows whom to ask.
    server: String,
    timeout: Duration,
}

impl MailDns {
    /// A resolver for `[verify]`; `Err` says why none could be made (an
    /// unreadable /etc/resolv.conf, say).
    pub fn new(config: &VerifyConfig) -> Result<Self, String> {
        let mut options = ResolverOpts::default();
        options.timeout = config.timeout;
        // One try per question: a DNS server that does not answer within
        // the timeout makes the check "not known", and the job is retried
        // later with its own backoff.
        options.attempts = 1;
        // Mail routing is DNS's answer, not /etc/hosts'.
        options.use_hosts_file = ResolveHosts::Never;
        options.cache_size = 4096;
        let (builder, server) = match config.nameserver_addr()? {
            Some(addr) => (
                TokioResolver::builder_with_config(
                    ResolverConfig::from_parts(None, Vec::new(), vec![name_server(addr)]),
                    TokioRuntimeProvider::default(),
                ),
                addr.to_string(),
            ),
            None => (
                TokioResolver::builder_tokio()
                    .map_err(|e| format!("cannot read the system's DNS settings: {e}"))?,
                "the system's DNS server".to_string(),
            ),
        };
        let resolver = builder
            .with_options(options)
            .build()
            .map_err(|e| format!("cannot set up DNS lookups: {e}"))?;
        Ok(Self {
            resolver,
            server,
            timeout: config.timeout,
        })
    }

    /// Checks `address` now: how its domain receives mail, and its flags.
    pub async fn check(&self, address: &Email, now: Timestamp) -> AddressCheck {
        let route = self.route(address.host()).await;
        AddressCheck::new(address.clone(), now, route)
    }

    async fn route(&self, domain: &str) -> MailRoute {
        // Fully qualified: no search domains appended.
        let name = format!("{}.", domain.trim_end_matches('.'));
        match self.resolver.mx_lookup(name.as_str()).await {
            Ok(lookup) => {
                let mut hosts: Vec<(u16, String)> = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => Some((
                            mx.preference,
                            mx.exchange.to_ascii().trim_end_matches('.').to_string(),
                        )),
                        _ => None,
                    })
                    .collect();
                if hosts.is_empty() {
                    return self.address_route(&name).await;
                }
                // RFC 7505: a single MX whose exchange is the root.
                if hosts.len() == 1 && hosts[0].1.is_empty() {
                    return MailRoute::NullMx;
                }
                hosts.retain(|(_, host)| !host.is_empty());
                hosts.sort();
                MailRoute::Mx {
                    hosts: hosts.into_iter().map(|(_, host)| host).collect(),
                }
            }
            Err(e) if e.is_nx_domain() => self.negative(e, domain, MailRoute::NoDomain),
            Err(e) if e.is_no_records_found() => self.address_route(&name).await,
            Err(e) => self.unknown(&e),
        }
    }

    /// A "no" is believed only with the zone's SOA, as real negative
    /// answers carry it (RFC 2308). A filtering or offline resolver that
    /// says NXDOMAIN to everything gives none, and must not cost every
    /// lead its draft.
    fn negative(&self, e: NetError, domain: &str, route: MailRoute) -> MailRoute {
        if e.into_soa().is_some() {
            return route;
        }
        let said = match route {
            MailRoute::NoDomain => "does not exist",
            _ => "has no mail server",
        };
        MailRoute::Unknown {
            reason: format!(
                "{} says {domain} {said} but names no zone authority (SOA), as filtering or offline resolvers do; set verify.nameserver to one that answers for the internet",
                self.server
            ),
        }
    }

    /// No MX: mail goes to the domain's own address, if it has one.
    async fn address_route(&self, name: &str) -> MailRoute {
        let domain = name.trim_end_matches('.');
        match self.resolver.lookup_ip(name).await {
            Ok(ips) if ips.iter().next().is_some() => MailRoute::Address,
            Ok(_) => MailRoute::NoRecords,
            Err(e) if e.is_nx_domain() => self.negative(e, domain, MailRoute::NoDomain),
            Err(e) if e.is_no_records_found() => self.negative(e, domain, MailRoute::NoRecords),
            Err(e) => self.unknown(&e),
        }
    }

    fn unknown(&self, e: &NetError) -> MailRoute {
        let reason = match e {
            NetError::Timeout => format!(
                "{} did not answer within {}",
                self.server,
                humantime::format_duration(self.timeout)
            ),
            other => format!("{} could not answer: {other}", self.server),
        };
        MailRoute::Unknown { reason }
    }
}

fn name_server(addr: SocketAddr) -> NameServerConfig {
    let mut server = NameServerConfig::udp_and_tcp(addr.ip());
    for connection in &mut server.connections {
        connection.port = addr.port();
    }
    server
}
