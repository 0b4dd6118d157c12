//! The config's loading, validation and example file, end to end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

fn write(text: &str) -> (tempfile::TempDir, ConfigFile) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    (
        dir,
        ConfigFile {
            path,
            explicit: true,
        },
    )
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn example_file_parses_to_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example");
    let file = ConfigFile {
        path,
        explicit: true,
    };
    let config = Config::load(Some(&file), no_env()).unwrap();
    assert_eq!(config, Config::default());
}

#[test]
fn metrics_stay_on_loopback_unless_meant_otherwise() {
    let check = |pairs: &[(&str, &str)]| {
        let env: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(None, env).map_err(|e| e.to_string())
    };
    let open = [("LEADSCOUT_SERVER__METRICS_BIND", "0.0.0.0:9464")];
    let err = check(&open).unwrap_err();
    assert!(err.contains("server.metrics_bind"), "{err}");
    assert!(err.contains("metrics_public"), "{err}");
    let meant = [open[0], ("LEADSCOUT_SERVER__METRICS_PUBLIC", "true")];
    assert!(check(&meant).is_ok());
    let off = check(&[("LEADSCOUT_SERVER__METRICS_BIND", "off")]).unwrap();
    assert_eq!(off.server.metrics_addr(), None);
    assert_eq!(
        Config::default().server.metrics_addr(),
        Some("127.0.0.1:9464")
    );
    let same = check(&[
        ("LEADSCOUT_SERVER__BIND", "127.0.0.1:9000"),
        ("LEADSCOUT_SERVER__METRICS_BIND", "127.0.0.1:9000"),
    ])
    .unwrap_err();
    assert!(same.contains("port of their own"), "{same}");
    for (key, value) in [
        ("LEADSCOUT_SERVER__HEADER_TIMEOUT", "0s"),
        ("LEADSCOUT_SERVER__MAX_CONNECTIONS", "0"),
    ] {
        let err = check(&[(key, value)]).unwrap_err();
        let name = key.trim_start_matches("LEADSCOUT_SERVER__").to_lowercase();
        assert!(err.contains(&format!("server.{name}")), "{err}");
    }
}

#[test]
fn example_file_documents_every_key() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml.example"))
            .unwrap();
    let example: toml::Table = text.parse().unwrap();
    let defaults = toml::Table::try_from(Config::default()).unwrap();
    for (section, keys) in &defaults {
        if keys.as_table().is_some_and(|t| t.is_empty()) {
            // A map with no default entries, e.g. [stages.NAME]: shown
            // as a commented example.
            assert!(
                text.contains(&format!("# [{section}.")),
                "no example of [{section}.NAME] in config.toml.example"
            );
            continue;
        }
        let documented = example.get(section).and_then(|s| s.as_table());
        let documented = documented
            .unwrap_or_else(|| panic!("section [{section}] missing from config.toml.example"));
        for key in keys.as_table().unwrap().keys() {
            assert!(
                documented.contains_key(key),
                "`{section}.{key}` missing from config.toml.example"
            );
        }
    }
}

#[test]
fn file_then_env_override_the_defaults() {
    let (_dir, file) = write("[log]\nlevel = \"debug\"\n[import]\nbatch_size = 50\n");
    let env = vec![
        ("LEADSCOUT_IMPORT__BATCH_SIZE".to_string(), "75".to_string()),
        ("LEADSCOUT_LOG__FORMAT".to_string(), "json".to_string()),
        ("LEADSCOUT_DATA_DIR".to_string(), "/ignored".to_string()),
    ];
    let config = Config::load(Some(&file), env).unwrap();
    assert_eq!(config.log.level, "debug");
    assert_eq!(config.log.format, LogFormat::Json);
    assert_eq!(config.import.batch_size, 75);
}

#[test]
fn plain_text_smtp_is_only_for_this_machine() {
    let env = |host: &str| {
        vec![
            ("LEADSCOUT_SMTP__HOST".to_string(), host.to_string()),
            ("LEADSCOUT_SMTP__TLS".to_string(), "none".to_string()),
        ]
    };
    assert!(Config::load(None, env("127.0.0.1")).is_ok());
    assert!(Config::load(None, env("localhost")).is_ok());
    let err = Config::load(None, env("smtp.example.com"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("smtp.tls") && err.contains("only accepted for a server on this machine"),
        "{err}"
    );
    let bad_window = vec![(
        "LEADSCOUT_SENDING__WINDOW".to_string(),
        "17:00-09:00".to_string(),
    )];
    let err = Config::load(None, bad_window).unwrap_err().to_string();
    assert!(err.contains("sending.window"), "{err}");
    let bad_zone = vec![(
        "LEADSCOUT_SENDING__TIMEZONE".to_string(),
        "Mars/Base".to_string(),
    )];
    let err = Config::load(None, bad_zone).unwrap_err().to_string();
    assert!(err.contains("sending.timezone"), "{err}");
}

#[test]
fn a_plain_string_for_a_list_key_is_comma_separated() {
    let env = vec![(
        "LEADSCOUT_FETCH__ALLOW_HOSTS".to_string(),
        "127.0.0.1:8001, intranet.example".to_string(),
    )];
    let config = Config::load(None, env).unwrap();
    assert_eq!(
        config.fetch.allow_hosts,
        ["127.0.0.1:8001", "intranet.example"]
    );
    let env = vec![(
        "LEADSCOUT_FETCH__ALLOW_HOSTS".to_string(),
        r#"["a.example", "b.example"]"#.to_string(),
    )];
    let config = Config::load(None, env).unwrap();
    assert_eq!(config.fetch.allow_hosts, ["a.example", "b.example"]);
}

#[test]
fn unknown_keys_name_the_key_and_the_file() {
    let (_dir, file) = write("[import]\nbatch_sise = 5\n");
    let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "unknown config key `import.batch_sise` in {}",
            file.path.display()
        )
    );
    let (_dir, file) = write("[imports]\nx = 1\n");
    let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
    assert!(err.starts_with("unknown config key `imports`"), "{err}");
}

#[test]
fn bad_values_name_the_key_and_the_origin() {
    let (_dir, file) = write("[import]\nbatch_size = \"many\"\n");
    let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
    assert!(
        err.starts_with("bad value for config key `import.batch_size` in "),
        "{err}"
    );
    assert!(err.contains("config.toml"), "{err}");

    let env = vec![("LEADSCOUT_LOG__FORMAT".to_string(), "xml".to_string())];
    let err = Config::load(None, env).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "bad value for config key `log.format` in environment variable LEADSCOUT_LOG__FORMAT"
        ),
        "{err}"
    );

    let env = vec![("LEADSCOUT_IMPORT__BATCH_SIZE".to_string(), "0".to_string())];
    let err = Config::load(None, env).unwrap_err().to_string();
    assert!(
        err.contains("`import.batch_size`") && err.contains("between 1 and 10000"),
        "{err}"
    );

    let env = vec![("LEADSCOUT_NOPE__X".to_string(), "1".to_string())];
    let err = Config::load(None, env).unwrap_err().to_string();
    assert_eq!(
        err,
        "unknown config key `nope` in environment variable LEADSCOUT_NOPE__X"
    );
}

#[test]
fn secrets_in_the_file_are_refused_without_echoing_them() {
    let (_dir, file) = write("[smtp]\npassword = \"hunter2\"\n");
    let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
    assert!(
        err.starts_with("config key `smtp.password`") && err.contains("`smtp.password_env`"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let (_dir, file) = write("[llm]\napi_key_env = \"sk-live-abc123\"\n");
    let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
    assert!(
        err.contains("`llm.api_key_env`") && err.contains("NAME of an environment variable"),
        "{err}"
    );
    assert!(!err.contains("sk-live-abc123"), "{err}");
}

#[test]
fn a_bad_ca_file_is_a_config_error_naming_the_key_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let load = |path: &Path| {
        let env = vec![(
            "LEADSCOUT_SMTP__CA_FILE".to_string(),
            path.display().to_string(),
        )];
        Config::load(None, env).map_err(|e| e.to_string())
    };
    let ca = rcgen::generate_simple_self_signed(vec!["ca.test".to_string()]).unwrap();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, format!("# our CA\n{}", ca.cert.pem())).unwrap();
    let config = load(&good).unwrap();
    assert_eq!(config.smtp.ca_file, good.display().to_string());

    let missing = dir.path().join("missing.pem");
    let not_pem = dir.path().join("notes.txt");
    std::fs::write(&not_pem, "just text").unwrap();
    let key = dir.path().join("with-key.pem");
    std::fs::write(
        &key,
        format!("{}{}", ca.cert.pem(), ca.signing_key.serialize_pem()),
    )
    .unwrap();
    let garbled = dir.path().join("garbled.pem");
    std::fs::write(
        &garbled,
        "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let cut = dir.path().join("cut.pem");
    let pem = ca.cert.pem();
    std::fs::write(&cut, &pem[..pem.len() / 2]).unwrap();
    let relative = PathBuf::from("relative/ca.pem");
    for (path, says) in [
        (&missing, "cannot read"),
        (&not_pem, "holds no PEM certificate"),
        (&key, "never a private key"),
        (&garbled, "certificate 1"),
        (&cut, "has no END line"),
        (&relative, "not an absolute path"),
    ] {
        let err = load(path).unwrap_err();
        assert!(
            err.contains("`smtp.ca_file`")
                && err.contains("LEADSCOUT_SMTP__CA_FILE")
                && err.contains(&format!("`{}`", path.display()))
                && err.contains(says),
            "{err}"
        );
    }
}

#[test]
fn imap_ca_file_is_checked_like_smtp_ca_file() {
    let dir = tempfile::tempdir().unwrap();
    let load = |path: &Path| {
        let env = vec![(
            "LEADSCOUT_IMAP__CA_FILE".to_string(),
            path.display().to_string(),
        )];
        Config::load(None, env).map_err(|e| e.to_string())
    };
    let ca = rcgen::generate_simple_self_signed(vec!["ca.test".to_string()]).unwrap();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, ca.cert.pem()).unwrap();
    assert_eq!(
        load(&good).unwrap().imap.ca_file,
        good.display().to_string()
    );
    let key = dir.path().join("key.pem");
    std::fs::write(&key, ca.signing_key.serialize_pem()).unwrap();
    for (path, says) in [
        (dir.path().join("missing.pem"), "cannot read"),
        (key, "never a private key"),
    ] {
        let err = load(&path).unwrap_err();
        assert!(
            err.contains("`imap.ca_file`")
                && err.contains("LEADSCOUT_IMAP__CA_FILE")
                && err.contains(says),
            "{err}"
        );
    }
}

#[test]
fn syntax_errors_and_missing_explicit_files_are_reported() {
    let (_dir, file) = write("[log\nlevel = 1");
    let err = Config::load(Some(&file), no_env()).unwrap_err().to_string();
    assert!(err.contains("is not valid TOML"), "{err}");
    let missing = ConfigFile {
        path: "/nonexistent/leadscout.toml".into(),
        explicit: true,
    };
    assert!(matches!(
        Config::load(Some(&missing), no_env()),
        Err(ConfigError::Read { .. })
    ));
    let optional = ConfigFile {
        path: "/nonexistent/leadscout.toml".into(),
        explicit: false,
    };
    assert_eq!(
        Config::load(Some(&optional), no_env()).unwrap(),
        Config::default()
    );
}

#[test]
fn the_grid_s_session_wait_is_validated_and_lengthens_the_screenshot_timeout() {
    let load = |pairs: &[(&str, &str)]| {
        let env: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(None, env).map_err(|e| e.to_string())
    };
    let local = load(&[]).unwrap();
    assert_eq!(local.webdriver.session_timeout, Duration::from_secs(300));
    assert_eq!(local.stage("screenshot").timeout, Duration::from_secs(120));
    let grid = load(&[
        ("LEADSCOUT_WEBDRIVER__URL", "http://127.0.0.1:4444"),
        ("LEADSCOUT_WEBDRIVER__SESSION_TIMEOUT", "90s"),
    ])
    .unwrap();
    assert_eq!(grid.stage("screenshot").timeout, Duration::from_secs(210));
    for bad in ["0s", "2h"] {
        let err = load(&[("LEADSCOUT_WEBDRIVER__SESSION_TIMEOUT", bad)]).unwrap_err();
        assert!(
            err.contains("`webdriver.session_timeout`") && err.contains("between 1s and 1h"),
            "{err}"
        );
    }
}

#[test]
fn the_remote_browser_proxy_needs_its_url_and_allow_list() {
    let check = |env: &[(&str, &str)]| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(None, env).map_err(|e| e.to_string())
    };
    let bind = ("LEADSCOUT_WEBDRIVER__PROXY_BIND", "0.0.0.0:3128");
    let url = (
        "LEADSCOUT_WEBDRIVER__PROXY_URL",
        "http://scout.internal:3128",
    );
    let allow = (
        "LEADSCOUT_WEBDRIVER__PROXY_ALLOW",
        "[\"10.0.0.0/24\", \"10.0.1.7\"]",
    );
    let config = check(&[bind, url, allow]).unwrap();
    let nets = config.webdriver.proxy_allow_nets().unwrap();
    assert!(nets[1].contains(&"10.0.1.7".parse::<std::net::IpAddr>().unwrap()));
    assert!(!nets[0].contains(&"10.0.1.7".parse::<std::net::IpAddr>().unwrap()));

    let err = check(&[bind, allow]).unwrap_err();
    assert!(
        err.contains("`webdriver.proxy_url`") && err.contains("required"),
        "{err}"
    );
    let err = check(&[bind, url]).unwrap_err();
    assert!(
        err.contains("`webdriver.proxy_allow`") && err.contains("never open"),
        "{err}"
    );
    let err = check(&[
        bind,
        url,
        ("LEADSCOUT_WEBDRIVER__PROXY_ALLOW", "[\"10.0.0.0/33\"]"),
    ])
    .unwrap_err();
    assert!(
        err.contains("`webdriver.proxy_allow`") && err.contains("10.0.0.0/33"),
        "{err}"
    );
    let err = check(&[
        ("LEADSCOUT_WEBDRIVER__PROXY_BIND", "scout:3128"),
        url,
        allow,
    ])
    .unwrap_err();
    assert!(
        err.contains("`webdriver.proxy_bind`") && err.contains("scout:3128"),
        "{err}"
    );
    let err = check(&[
        bind,
        ("LEADSCOUT_WEBDRIVER__PROXY_URL", "https://x:1"),
        allow,
    ])
    .unwrap_err();
    assert!(err.contains("`webdriver.proxy_url`"), "{err}");
    let err = check(&[url]).unwrap_err();
    assert!(err.contains("`webdriver.proxy_bind`"), "{err}");
    assert!(check(&[]).is_ok(), "empty keys keep the local proxy");
}
