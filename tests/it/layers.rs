//! The module layers of DESIGN.md, checked on the source: which layer may
//! name which (`crate::…` paths, comments aside). The command layers
//! (cli, tui, web) reach the store, the jobs and the pipeline only through
//! the service.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs")
            // A layer's own test modules (`tests.rs`, `*_tests.rs`) may wire
            // a whole service from the layers above to test it; they are
            // not part of what the layer ships.
            && !path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("tests.rs"))
        {
            out.push(path);
        }
    }
    out
}

/// Every `crate::NAME` a layer's code names, with where.
fn crate_paths(layer: &str) -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let root = src.join(layer);
    let mut files = if root.is_dir() {
        rust_files(&root)
    } else {
        vec![src.join(format!("{layer}.rs"))]
    };
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let name: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push((name, format!("{}:{}", file.display(), n + 1)));
            }
        }
    }
    out
}

#[test]
fn each_layer_names_only_the_layers_below_it() {
    let rules: &[(&str, &[&str])] = &[
        ("domain", &["domain"]),
        ("store", &["domain", "store"]),
        ("pipeline", &["domain", "pipeline", "config"]),
        ("jobs", &["domain", "store", "pipeline", "jobs", "config"]),
        ("config", &["domain", "config"]),
        // `VERSION` is the crate root's constant, not a layer.
        (
            "service",
            &["domain", "store", "jobs", "config", "service", "VERSION"],
        ),
    ];
    for (layer, allowed) in rules {
        let paths = crate_paths(layer);
        // The domain names itself through `super::`; the others show the
        // scan works.
        assert!(
            *layer == "domain" || !paths.is_empty(),
            "no crate:: paths found in src/{layer}"
        );
        for (name, at) in paths {
            assert!(
                allowed.contains(&name.as_str()),
                "{layer} names crate::{name} at {at}; it may use only {allowed:?}"
            );
        }
    }
    for layer in ["cli", "tui", "web"] {
        for (name, at) in crate_paths(layer) {
            assert!(
                !matches!(name.as_str(), "store" | "jobs" | "pipeline"),
                "{layer} names crate::{name} at {at}; commands go through the service"
            );
        }
    }
}

#[test]
fn the_job_acknowledger_does_not_reach_into_the_backend() {
    let ack = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/jobs/ack.rs");
    let text = std::fs::read_to_string(ack).unwrap();
    assert!(
        !text.contains("backend::"),
        "jobs/ack.rs imports jobs/backend.rs; shared queue state lives in jobs/queue.rs"
    );
}
