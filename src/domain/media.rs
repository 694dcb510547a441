//! What an uploaded file is, as sniffed from its bytes (never from its name
//! or declared type), and its alt text.

use serde::{Deserialize, Serialize};

/// The kinds of media Prasaran accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Gif,
    Video,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Gif => "gif",
            MediaKind::Video => "video",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "image" => Some(MediaKind::Image),
            "gif" => Some(MediaKind::Gif),
            "video" => Some(MediaKind::Video),
            _ => None,
        }
    }
}

/// A type recognised from a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SniffedType {
    pub kind: MediaKind,
    pub mime: &'static str,
}

/// Bytes enough for [`sniff`] to decide.
pub const SNIFF_LEN: usize = 16;

/// The type of a file from its first bytes: JPEG, PNG, GIF, WebP or MP4.
pub fn sniff(head: &[u8]) -> Option<SniffedType> {
    let image = |mime| {
        Some(SniffedType {
            kind: MediaKind::Image,
            mime,
        })
    };
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        image("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        image("image/png")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(SniffedType {
            kind: MediaKind::Gif,
            mime: "image/gif",
        })
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        image("image/webp")
    } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
        // ISO base media: MP4 and its relatives (M4V, QuickTime's `qt  ` brand).
        let brand = &head[8..12];
        let mime = if brand == b"qt  " {
            "video/quicktime"
        } else {
            "video/mp4"
        };
        Some(SniffedType {
            kind: MediaKind::Video,
            mime,
        })
    } else {
        None
    }
}

/// Alt text: at most 1,500 characters, no control characters but line breaks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AltText(String);

pub const MAX_ALT_TEXT_CHARS: usize = 1_500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AltTextError {
    #[error("alt text must be at most 1500 characters")]
    TooLong,
    #[error("alt text must not contain control characters")]
    Control,
}

impl AltText {
    pub fn parse(raw: &str) -> Result<Self, AltTextError> {
        let text = raw.trim();
        if text.chars().count() > MAX_ALT_TEXT_CHARS {
            return Err(AltTextError::TooLong);
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(AltTextError::Control);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest").unwrap().mime, "image/jpeg");
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap().mime,
            "image/png"
        );
        assert_eq!(sniff(b"GIF89a....").unwrap().kind, MediaKind::Gif);
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap().mime, "image/webp");
        let mp4 = sniff(b"\0\0\0\x18ftypmp42\0\0\0\0").unwrap();
        assert_eq!((mp4.kind, mp4.mime), (MediaKind::Video, "video/mp4"));
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn alt_text_rules() {
        assert_eq!(AltText::parse("  a cat  ").unwrap().as_str(), "a cat");
        assert!(AltText::parse("line\nbreak").is_ok());
        assert_eq!(AltText::parse("nul\0"), Err(AltTextError::Control));
        assert_eq!(
            AltText::parse(&"x".repeat(1501)),
            Err(AltTextError::TooLong)
        );
    }
}
