//! Serves the corpus: each page in `corpus/` on its own loopback port, as a
//! small business's site would be its own origin. Assets are made on
//! request from their path, so the corpus stays a handful of HTML files:
//!
//! - `/a/img/WxH.png`: a photo-like PNG (noise in one row of eight, about
//!   0.4 bytes a pixel, what a JPEG photo weighs); `WxH-flat.png`: one colour;
//! - `/a/css/pad-K.css`: K KiB of rules;
//! - `/a/js/busy-MS-K.js`: a K KiB script whose evaluation keeps the main
//!   thread busy for MS ms;
//! - `/a/js/slider-MSxN-K.js`: N tasks of MS ms after load, 500 ms apart,
//!   as a carousel does;
//! - `/a/js/app-MS-K.js`: a client-rendered page: MS ms of work, then the
//!   whole page built from script (the gym page).
//!
//! A page whose first line is `<!-- delay: MS -->` answers after MS ms.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

pub struct Site {
    pub name: String,
    /// 0 for the page Lighthouse also judges; 1.. for the copies that only
    /// add load to leadscout's throughput run.
    pub copy: usize,
    pub url: String,
}

/// Starts `copies` servers per corpus page, each its own origin.
pub async fn serve(corpus: &Path, copies: usize) -> Vec<Site> {
    let mut names: Vec<String> = std::fs::read_dir(corpus)
        .expect("the corpus directory")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".html").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut sites = Vec::new();
    for name in names {
        let html = std::fs::read_to_string(corpus.join(format!("{name}.html"))).expect("page");
        for copy in 0..copies {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let html = html.clone();
            let app = Router::new().fallback(move |uri: Uri| {
                let html = html.clone();
                async move { answer(&uri, &html).await }
            });
            tokio::spawn(async move { axum::serve(listener, app).await });
            sites.push(Site {
                name: name.clone(),
                copy,
                url: format!("http://127.0.0.1:{port}/"),
            });
        }
    }
    sites
}

async fn answer(uri: &Uri, html: &str) -> Response {
    let path = uri.path();
    if path == "/" {
        let (delay, body) = match html.strip_prefix("<!-- delay: ") {
            Some(rest) => {
                let (ms, body) = rest.split_once(" -->\n").expect("delay line");
                (ms.parse::<u64>().expect("delay ms"), body)
            }
            None => (0, html),
        };
        tokio::time::sleep(Duration::from_millis(delay)).await;
        return (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body.to_owned(),
        )
            .into_response();
    }
    let Some(asset) = path.strip_prefix("/a/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let seed = uri.to_string();
    let made = match asset.split_once('/') {
        Some(("img", file)) => image(file, &seed).map(|b| ("image/png", b)),
        Some(("css", file)) => css(file).map(|b| ("text/css", b.into_bytes())),
        Some(("js", file)) => script(file).map(|b| ("text/javascript", b.into_bytes())),
        _ => None,
    };
    match made {
        Some((kind, body)) => (
            [
                (header::CONTENT_TYPE, kind),
                (header::CACHE_CONTROL, "max-age=3600"),
            ],
            body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn numbers(s: &str, sep: char) -> Option<Vec<u64>> {
    s.split(sep).map(|n| n.parse().ok()).collect()
}

fn image(file: &str, seed: &str) -> Option<Vec<u8>> {
    let stem = file.strip_suffix(".png")?;
    let (size, flat) = match stem.strip_suffix("-flat") {
        Some(size) => (size, true),
        None => (stem, false),
    };
    let wh = numbers(size, 'x')?;
    let (w, h) = (*wh.first()? as u32, *wh.get(1)? as u32);
    let mut state = seed
        .bytes()
        .fold(0x9e37_79b9_u32, |a, b| a.rotate_left(5) ^ u32::from(b));
    let picture = image::RgbImage::from_fn(w, h, |x, y| {
        if flat || y % 8 != 0 {
            image::Rgb([(x * 200 / w.max(1)) as u8, (y * 200 / h.max(1)) as u8, 140])
        } else {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let [a, b, c, _] = state.to_le_bytes();
            image::Rgb([a, b, c])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

fn css(file: &str) -> Option<String> {
    let kib = file
        .strip_prefix("pad-")?
        .strip_suffix(".css")?
        .parse::<usize>()
        .ok()?;
    let mut out = String::from("body{margin:0}\n");
    let mut i = 0;
    while out.len() < kib * 1024 {
        out.push_str(&format!(
            ".c{i} .item-{i}>a:hover{{color:#{:06x};padding:{}px}}\n",
            i * 2654435 % 0xffffff,
            i % 17
        ));
        i += 1;
    }
    Some(out)
}

/// `K` KiB of script: the code, then a comment that pads it.
fn padded(code: String, kib: u64) -> String {
    let mut out = code;
    out.push_str("\n/*");
    while (out.len() as u64) < kib * 1024 {
        out.push_str(" vendor bundle padding");
    }
    out.push_str(" */\n");
    out
}

const BUSY: &str = "function busy(ms){var t=performance.now();while(performance.now()-t<ms){}}";

fn script(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".js")?;
    let (kind, rest) = stem.split_once('-')?;
    let parts: Vec<&str> = rest.split('-').collect();
    let kib = parts.get(1)?.parse().ok()?;
    let code = match kind {
        "busy" => format!("{BUSY}busy({});", parts[0].parse::<u64>().ok()?),
        "slider" => {
            let spec = numbers(parts[0], 'x')?;
            let (ms, n) = (*spec.first()?, *spec.get(1)?);
            format!(
                "{BUSY}window.addEventListener('load',function(){{for(var i=0;i<{n};i++)setTimeout(function(){{busy({ms});}},300+500*i);}});"
            )
        }
        "app" => format!(
            "{BUSY}busy({});document.getElementById('app').innerHTML=\
             '<header><h1>IronWorks Gym</h1><nav><a href=\"/classes\">Classes</a> <a href=\"/join\">Join</a></nav></header>'+\
             '<main><img src=\"/a/img/1200x700.png\" alt=\"The weights floor\" style=\"width:100%;height:auto\">'+\
             '<h2>Open 24 hours, 365 days</h2><p>Free weights, 40 machines, 30 classes a week and a sauna. Your first week is free.</p>'+\
             '<form action=\"/join\"><label>Email <input name=\"email\" type=\"email\"></label> <button>Get my free week</button></form></main>';",
            parts[0].parse::<u64>().ok()?
        ),
        _ => return None,
    };
    Some(padded(code, kib))
}
