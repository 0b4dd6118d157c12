//! A real IMAP server on loopback: Debian's dovecot, started in the
//! foreground with a throw-away configuration in a temp dir (plain text on
//! 127.0.0.1 only, a static password, maildirs owned by `nobody` since
//! dovecot refuses to run a mail session as root), and a small IMAP client
//! to append, create and delete mailboxes as a mail provider would.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const DOVECOT: &str = "/usr/sbin/dovecot";
pub const USER: &str = "jane";
pub const PASSWORD: &str = "secret";

pub struct Dovecot {
    pub port: u16,
    /// The implicit-TLS port, when started with a certificate.
    pub tls_port: Option<u16>,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM: the master stops its children and removes its sockets.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

/// dovecot, or `None` (with the reason printed) where it is not installed.
/// Under CI it must be there: `.ci/run` installs it.
pub fn dovecot() -> Option<Dovecot> {
    dovecot_with(&Options::default())
}

/// How a test wants its server.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Announce no IDLE (the CAPABILITY answer lists the rest), as servers
    /// without it do.
    pub no_idle: bool,
    /// PEM certificate chain and key files: STARTTLS on `port` and
    /// implicit TLS on `tls_port`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Listen on this port (a server started again where the last one
    /// was); any free one when `None`.
    pub port: Option<u16>,
}

/// dovecot started with `options`, or `None` as [`dovecot`].
pub fn dovecot_with(options: &Options) -> Option<Dovecot> {
    if !std::path::Path::new(DOVECOT).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{DOVECOT} is missing under CI; .ci/run installs dovecot-imapd"
        );
        eprintln!("skipped: {DOVECOT} is not installed (apt-get install dovecot-imapd)");
        return None;
    }
    Some(Dovecot::start(options))
}

/// A loopback port nothing listens on (bound, then let go).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Dovecot {
    fn start(options: &Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // The mail session runs as nobody: it must reach its home.
        std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let home = root.join("home");
        std::fs::create_dir(&home).unwrap();
        std::os::unix::fs::chown(&home, Some(65534), Some(65534)).unwrap();
        let port = options.port.unwrap_or_else(free_port);
        let tls_port = options.tls.as_ref().map(|_| free_port());
        let d = root.display();
        let ssl = match &options.tls {
            Some((cert, key)) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                cert.display(),
                key.display()
            ),
            None => "ssl = no\n".into(),
        };
        // dovecot 2.3 announces IDLE by default; this list is its default
        // without it.
        let capability = if options.no_idle {
            "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ SORT THREAD=REFERENCES MULTIAPPEND UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 ESEARCH\n"
        } else {
            ""
        };
        let imaps = tls_port.unwrap_or(0);
        let conf = format!(
            "base_dir = {d}/run\n\
state_dir = {d}/state\n\
log_path = {d}/dovecot.log\n\
protocols = imap\n\
listen = 127.0.0.1\n\
{ssl}{capability}\
disable_plaintext_auth = no\n\
auth_mechanisms = plain login\n\
default_internal_user = nobody\n\
default_internal_group = nogroup\n\
default_login_user = nobody\n\
mail_location = maildir:~/Maildir\n\
passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={d}/home/%u\n}}\n\
service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n  }}\n}}\n\
service anvil {{\n  chroot =\n}}\n"
        );
        let conf_path = root.join("dovecot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(DOVECOT)
            .args(["-F", "-c"])
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let server = Self {
            port,
            tls_port,
            dir,
            child,
        };
        // Waits for the listener (a condition, not a fixed sleep).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dovecot did not listen on {port}: {}",
                std::fs::read_to_string(server.log()).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("dovecot.log")
    }

    /// The environment that points leadscout at this server.
    pub fn env(&self, mailbox: &str) -> Vec<(String, String)> {
        [
            ("LEADSCOUT_IMAP__HOST", "127.0.0.1".to_string()),
            ("LEADSCOUT_IMAP__PORT", self.port.to_string()),
            ("LEADSCOUT_IMAP__TLS", "none".into()),
            ("LEADSCOUT_IMAP__USERNAME", USER.into()),
            ("LEADSCOUT_IMAP__PASSWORD_ENV", "TEST_IMAP_PASSWORD".into()),
            ("TEST_IMAP_PASSWORD", PASSWORD.into()),
            ("LEADSCOUT_IMAP__MAILBOX", mailbox.into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    pub fn client(&self) -> Imap {
        Imap::login(self.port)
    }
}

/// Just enough IMAP to play the mail provider: tagged commands, literals
/// for APPEND.
pub struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Imap {
    fn login(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut imap = Self {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
            tag: 0,
        };
        let mut greeting = String::new();
        imap.reader.read_line(&mut greeting).unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        imap.command(&format!("LOGIN {USER} {PASSWORD}"));
        imap
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the IMAP server closed the connection");
        line
    }

    /// Runs one command; returns the untagged lines. Panics unless OK.
    pub fn command(&mut self, command: &str) -> Vec<String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.writer, "{tag} {command}\r\n").unwrap();
        self.finish(&tag)
    }

    fn finish(&mut self, tag: &str) -> Vec<String> {
        let mut untagged = Vec::new();
        loop {
            let line = self.line();
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(rest.starts_with("OK"), "{tag}: {rest}");
                return untagged;
            }
            untagged.push(line);
        }
    }

    /// Appends a message (LF or CRLF line ends) to `mailbox`.
    pub fn append(&mut self, mailbox: &str, message: &str) {
        let body = message.replace("\r\n", "\n").replace('\n', "\r\n");
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(
            self.writer,
            "{tag} APPEND \"{mailbox}\" {{{}}}\r\n",
            body.len()
        )
        .unwrap();
        let go = self.line();
        assert!(go.starts_with('+'), "{go}");
        self.writer.write_all(body.as_bytes()).unwrap();
        self.writer.write_all(b"\r\n").unwrap();
        self.finish(&tag);
    }

    /// The flags of every message in `mailbox`, one string per message.
    pub fn flags(&mut self, mailbox: &str) -> Vec<String> {
        self.command(&format!("EXAMINE \"{mailbox}\""));
        self.command("UID FETCH 1:* (FLAGS)")
            .into_iter()
            .filter(|l| l.contains("FETCH"))
            .collect()
    }
}
