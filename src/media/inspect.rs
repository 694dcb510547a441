//! Checking an upload and making what is sent to platforms. Blocking work:
//! callers run it with `spawn_blocking`.
//!
//! Images: the pixel count is read from the header and refused above the
//! limit before anything is decoded (a decompression bomb); the whole image is
//! then decoded under memory limits (a truncated or corrupt file fails here),
//! its EXIF orientation applied, and it is re-encoded in its own format —
//! which drops every metadata block, GPS included. GIFs are passed through
//! (re-encoding would lose their animation). Videos: container, codec,
//! dimensions and duration are read from the MP4 boxes; the file is passed
//! through unchanged.

use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::domain::{MediaKind, SniffedType};

/// What an upload turned out to be.
#[derive(Debug)]
pub struct Inspected {
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// A video's codec, e.g. `h264`.
    pub codec: Option<String>,
    /// What platforms get instead of the original (metadata stripped); `None`:
    /// the original itself.
    pub clean: Option<Vec<u8>>,
    /// A small JPEG for the web app (images and a GIF's first frame).
    pub thumbnail: Option<Vec<u8>>,
}

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIZE: u32 = 320;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectError {
    #[error(
        "the image is {width} × {height} pixels; at most {limit} pixels are accepted (is it a decompression bomb?)"
    )]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    #[error("the file could not be read as {mime}: {reason}")]
    Corrupt { mime: &'static str, reason: String },
    #[error("the video has no video track")]
    NoVideoTrack,
}

pub fn inspect(
    path: &Path,
    sniffed: SniffedType,
    max_pixels: u64,
) -> Result<Inspected, InspectError> {
    match sniffed.kind {
        MediaKind::Video => video(path, sniffed.mime),
        MediaKind::Gif => {
            // Checked and measured by decoding its first frame; passed through
            // unchanged (re-encoding would lose the animation).
            let first = decode(path, sniffed.mime, ImageFormat::Gif, max_pixels)?;
            Ok(Inspected {
                width: Some(first.width()),
                height: Some(first.height()),
                duration_ms: None,
                codec: None,
                clean: None,
                thumbnail: Some(thumbnail(&first).map_err(corrupt(sniffed.mime))?),
            })
        }
        MediaKind::Image => image(path, sniffed.mime, max_pixels),
    }
}

fn corrupt(mime: &'static str) -> impl Fn(image::ImageError) -> InspectError {
    move |e| InspectError::Corrupt {
        mime,
        reason: e.to_string(),
    }
}

fn io_corrupt(mime: &'static str) -> impl Fn(std::io::Error) -> InspectError {
    move |e| InspectError::Corrupt {
        mime,
        reason: e.to_string(),
    }
}

fn format_of(mime: &'static str) -> Result<ImageFormat, InspectError> {
    ImageFormat::from_mime_type(mime).ok_or(InspectError::Corrupt {
        mime,
        reason: "not an image type".into(),
    })
}

fn reader(
    path: &Path,
    mime: &'static str,
    format: ImageFormat,
) -> Result<ImageReader<BufReader<File>>, InspectError> {
    let file = File::open(path).map_err(io_corrupt(mime))?;
    Ok(ImageReader::with_format(BufReader::new(file), format))
}

/// Width and height from the header only.
fn dimensions(
    path: &Path,
    mime: &'static str,
    format: ImageFormat,
) -> Result<(u32, u32), InspectError> {
    reader(path, mime, format)?
        .into_dimensions()
        .map_err(corrupt(mime))
}

fn check_pixels(width: u32, height: u32, limit: u64) -> Result<(), InspectError> {
    if u64::from(width) * u64::from(height) > limit {
        return Err(InspectError::TooManyPixels {
            width,
            height,
            limit,
        });
    }
    Ok(())
}

/// A JPEG must end with its end-of-image marker: the decoder fills in what a
/// truncated file lacks instead of failing, so a cut-off upload would pass.
fn check_jpeg_complete(path: &Path, mime: &'static str) -> Result<(), InspectError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = File::open(path).map_err(io_corrupt(mime))?;
    let len = file.metadata().map_err(io_corrupt(mime))?.len();
    let tail_len = len.min(4096);
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(io_corrupt(mime))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.read_to_end(&mut tail).map_err(io_corrupt(mime))?;
    // Some writers pad after the marker with zeros.
    let end = tail.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    if tail[..end].ends_with(&[0xFF, 0xD9]) {
        Ok(())
    } else {
        Err(InspectError::Corrupt {
            mime,
            reason: "the file ends before its end-of-image marker (truncated?)".into(),
        })
    }
}

fn image(path: &Path, mime: &'static str, max_pixels: u64) -> Result<Inspected, InspectError> {
    let format = format_of(mime)?;
    if format == ImageFormat::Jpeg {
        check_jpeg_complete(path, mime)?;
    }
    let decoded = decode(path, mime, format, max_pixels)?;
    let clean = encode(&decoded, format).map_err(corrupt(mime))?;
    Ok(Inspected {
        width: Some(decoded.width()),
        height: Some(decoded.height()),
        duration_ms: None,
        codec: None,
        clean: Some(clean),
        thumbnail: Some(thumbnail(&decoded).map_err(corrupt(mime))?),
    })
}

fn thumbnail(image: &DynamicImage) -> image::ImageResult<Vec<u8>> {
    // Shrunk to fit, never enlarged.
    let small = if image.width() > THUMBNAIL_SIZE || image.height() > THUMBNAIL_SIZE {
        image.thumbnail(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
    } else {
        image.clone()
    };
    let mut out = Cursor::new(Vec::new());
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    DynamicImage::ImageRgb8(small.to_rgb8()).write_with_encoder(encoder)?;
    Ok(out.into_inner())
}

/// The whole image, oriented as its EXIF says: the pixel count is checked
/// from the header first, then decoding runs under memory limits.
fn decode(
    path: &Path,
    mime: &'static str,
    format: ImageFormat,
    max_pixels: u64,
) -> Result<DynamicImage, InspectError> {
    let (width, height) = dimensions(path, mime, format)?;
    check_pixels(width, height, max_pixels)?;
    let mut reader = reader(path, mime, format)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    // Decoded RGBA16 at most, and the decoder's own buffers.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt(mime))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(corrupt(mime))?;
    decoded.apply_orientation(orientation);
    Ok(decoded)
}

/// A JPEG of `image` (already free of metadata) no larger than `max_bytes`:
/// lower quality first, then smaller, a quarter off each side at a time.
/// `None` when even a tiny copy does not fit.
pub fn fit(bytes: &[u8], max_bytes: u64) -> Result<Option<Vec<u8>>, image::ImageError> {
    let mut image = image::load_from_memory(bytes)?;
    for _ in 0..8 {
        for quality in [85, 70, 55] {
            let mut out = Cursor::new(Vec::new());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
            DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)?;
            let out = out.into_inner();
            if out.len() as u64 <= max_bytes {
                return Ok(Some(out));
            }
        }
        let (w, h) = (image.width() * 3 / 4, image.height() * 3 / 4);
        if w < 16 || h < 16 {
            break;
        }
        image = image.resize(w, h, image::imageops::FilterType::Triangle);
    }
    Ok(None)
}

/// The image in `format` again, with nothing but its pixels.
pub fn encode(image: &DynamicImage, format: ImageFormat) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            DynamicImage::ImageRgb8(image.to_rgb8()).write_with_encoder(encoder)?;
        }
        ImageFormat::WebP => {
            let encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
            DynamicImage::ImageRgba8(image.to_rgba8()).write_with_encoder(encoder)?;
        }
        other => image.write_to(&mut out, other)?,
    }
    Ok(out.into_inner())
}

fn video(path: &Path, mime: &'static str) -> Result<Inspected, InspectError> {
    let file = File::open(path).map_err(io_corrupt(mime))?;
    let size = file.metadata().map_err(io_corrupt(mime))?.len();
    let mp4 = mp4::Mp4Reader::read_header(BufReader::new(file), size).map_err(|e| {
        InspectError::Corrupt {
            mime,
            reason: e.to_string(),
        }
    })?;
    let track = mp4
        .tracks()
        .values()
        .find(|t| matches!(t.track_type(), Ok(mp4::TrackType::Video)))
        .ok_or(InspectError::NoVideoTrack)?;
    let duration_ms = u64::try_from(mp4.duration().as_millis()).unwrap_or(u64::MAX);
    Ok(Inspected {
        width: Some(u32::from(track.width())),
        height: Some(u32::from(track.height())),
        duration_ms: Some(duration_ms),
        codec: track.media_type().ok().map(|codec| codec.to_string()),
        clean: None,
        thumbnail: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sniff;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::new_rgb8(width, height);
        encode(&image, ImageFormat::Png).unwrap()
    }

    fn inspect_bytes(bytes: &[u8], max_pixels: u64) -> Result<Inspected, InspectError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload");
        std::fs::write(&path, bytes).unwrap();
        inspect(&path, sniff(bytes).unwrap(), max_pixels)
    }

    #[test]
    fn an_image_is_measured_and_re_encoded() {
        let inspected = inspect_bytes(&png(3, 2), 100).unwrap();
        assert_eq!((inspected.width, inspected.height), (Some(3), Some(2)));
        let clean = inspected.clean.unwrap();
        assert_eq!(sniff(&clean).unwrap().mime, "image/png");
        let thumb = inspected.thumbnail.unwrap();
        assert_eq!(sniff(&thumb).unwrap().mime, "image/jpeg");
    }

    #[test]
    fn a_copy_is_fitted_under_a_byte_limit() {
        let noise = image::RgbImage::from_fn(400, 300, |x, y| {
            image::Rgb([(x * 7 + y * 13) as u8, (x * y) as u8, (x ^ y) as u8])
        });
        let png = encode(&DynamicImage::ImageRgb8(noise), ImageFormat::Png).unwrap();
        let limit = png.len() as u64 / 4;
        let fitted = fit(&png, limit).unwrap().unwrap();
        assert!(fitted.len() as u64 <= limit);
        assert_eq!(sniff(&fitted).unwrap().mime, "image/jpeg");
        assert_eq!(fit(&png, 10).unwrap(), None, "nothing fits ten bytes");
    }

    #[test]
    fn too_many_pixels_are_refused_before_decoding() {
        assert_eq!(
            inspect_bytes(&png(20, 20), 399).unwrap_err(),
            InspectError::TooManyPixels {
                width: 20,
                height: 20,
                limit: 399
            }
        );
    }

    #[test]
    fn a_truncated_image_is_corrupt_not_a_panic() {
        let gradient =
            image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 9]));
        let whole = encode(&DynamicImage::ImageRgb8(gradient), ImageFormat::Jpeg).unwrap();
        let cut = &whole[..whole.len() / 2];
        assert!(matches!(
            inspect_bytes(cut, 1_000_000),
            Err(InspectError::Corrupt { .. })
        ));
    }
}
