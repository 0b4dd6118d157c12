//! PNG helpers: the size in the header, and small thumbnails for report
//! pages and the terminal.

use std::io::Cursor;

/// Width and height from a PNG's header, without decoding it.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    if png.len() < 24 || &png[..8] != b"\x89PNG\r\n\x1a\n" || &png[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(png[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(png[20..24].try_into().ok()?);
    Some((width, height))
}

/// A copy at most `width` pixels wide (the same picture when it is already
/// that small).
pub fn thumbnail(png: &[u8], width: u32) -> Result<Vec<u8>, String> {
    let picture = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| format!("not a readable PNG: {e}"))?;
    if picture.width() <= width {
        return Ok(png.to_vec());
    }
    let height = ((u64::from(picture.height()) * u64::from(width)) / u64::from(picture.width()))
        .max(1) as u32;
    let small = picture.resize_exact(width, height, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| format!("cannot encode the thumbnail: {e}"))?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn thumbnails_keep_the_aspect_ratio() {
        let big = png(1366, 768);
        assert_eq!(png_size(&big), Some((1366, 768)));
        let small = thumbnail(&big, 400).unwrap();
        assert_eq!(png_size(&small), Some((400, 224)));
        let tiny = png(100, 50);
        assert_eq!(thumbnail(&tiny, 400).unwrap(), tiny);
        assert!(thumbnail(b"not a png", 400).is_err());
        assert_eq!(png_size(b"GIF89a..."), None);
    }
}
