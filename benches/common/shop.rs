//! The shop site the browser benches load: numbered pages of cards with
//! pictures, served from loopback with no per-request work worth measuring.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Shop page `n`: a header, 24 cards with pictures, a footer.
pub fn page(n: usize) -> String {
    let mut html = format!(
        "<!doctype html><html lang=en><head><meta name=viewport content='width=device-width'><title>Shop {n}</title>\
         <style>body{{font:16px sans-serif;margin:0}} header{{background:#2a6;color:#fff;padding:2em}} .card{{display:inline-block;width:280px;margin:8px;vertical-align:top}}</style>\
         </head><body><header><h1>Shop {n}</h1><nav><a href=/>Home</a> <a href=/about>About</a></nav></header><main>"
    );
    for i in 0..24 {
        html.push_str(&format!(
            "<div class=card><img src='/img/{i}.png' width=280 height=160 alt='item {i}'><h3>Item {i}</h3><p>Hand-made goods from our workshop, item {i} of the season, with free local delivery.</p></div>"
        ));
    }
    html.push_str("</main><footer>© 2026 Shop</footer></body></html>");
    html
}

/// One card picture.
fn image() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(280, 160, |x, y| {
        image::Rgb([(x % 255) as u8, (y % 255) as u8, 120])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// Serves `/pN` (page N) and `/img/…` (the picture) on a loopback port;
/// returns the port.
pub async fn serve() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let png = Arc::new(image());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let png = png.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (kind, body) = if path.starts_with("/img/") {
                    ("image/png", png.as_ref().clone())
                } else {
                    let n: usize = path.trim_start_matches("/p").parse().unwrap_or(0);
                    ("text/html; charset=utf-8", page(n).into_bytes())
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: max-age=60\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    port
}
