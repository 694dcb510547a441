//! Per-target text: a post may carry its own text for some of its targets
//! (shorter for Bluesky, with a hashtag for Mastodon…), each checked against
//! that target's platform instead of the post's text.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::PublishError;
use crate::domain::{ConnectionId, PostContent};

/// Most variations a post may carry (one per target at most).
const MAX_VARIATIONS: usize = 50;

/// The text one connection publishes instead of the post's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variation {
    /// One of the post's targets.
    pub connection_id: uuid::Uuid,
    /// That target's own text; the platform's own limit applies.
    #[schema(min_length = 1, max_length = 10000)]
    pub content: String,
}

/// Each variation's text by its connection, checked to be one of `targets`,
/// listed once, and valid post text.
pub(super) fn variation_texts(
    variations: &[Variation],
    targets: &[(ConnectionId, String)],
) -> Result<HashMap<ConnectionId, PostContent>, PublishError> {
    if variations.len() > MAX_VARIATIONS {
        return Err(PublishError::InvalidVariations(format!(
            "a post takes at most {MAX_VARIATIONS} variations"
        )));
    }
    let mut texts = HashMap::with_capacity(variations.len());
    for variation in variations {
        let connection = ConnectionId(variation.connection_id);
        if !targets.iter().any(|(c, _)| *c == connection) {
            return Err(PublishError::InvalidVariations(format!(
                "connection {} has a variation but is not one of the post's targets; add it to connection_ids or drop its variation",
                variation.connection_id
            )));
        }
        let text = PostContent::parse(variation.content.clone()).map_err(|e| {
            PublishError::InvalidVariations(format!(
                "the variation for connection {}: {e}",
                variation.connection_id
            ))
        })?;
        if texts.insert(connection, text).is_some() {
            return Err(PublishError::InvalidVariations(format!(
                "connection {} has two variations; keep one",
                variation.connection_id
            )));
        }
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variation(connection: &ConnectionId, text: &str) -> Variation {
        Variation {
            connection_id: connection.0,
            content: text.into(),
        }
    }

    #[test]
    fn variations_belong_to_targets_once_and_hold_text() {
        let a = ConnectionId(uuid::Uuid::new_v4());
        let b = ConnectionId(uuid::Uuid::new_v4());
        let targets = vec![(a, "manch".to_owned())];
        let texts = variation_texts(&[variation(&a, "short")], &targets).unwrap_or_default();
        assert_eq!(texts.get(&a).map(PostContent::as_str), Some("short"));
        for wrong in [
            vec![variation(&b, "not a target")],
            vec![variation(&a, "one"), variation(&a, "two")],
            vec![variation(&a, "   ")],
        ] {
            assert!(matches!(
                variation_texts(&wrong, &targets),
                Err(PublishError::InvalidVariations(_))
            ));
        }
    }
}
