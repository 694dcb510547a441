//! The `app.bsky.feed.post` record: text, facets and `createdAt`, made once
//! when the task is created; images joined in at publish from blobs that are
//! content-addressed, so every attempt writes the identical record.

use std::collections::HashMap;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use super::facets::{Feature, Found};
use super::link_card::Card;

pub const POST: &str = "app.bsky.feed.post";

/// The record for `text`. Mentions whose handle did not resolve (`dids` has
/// no DID for it) stay plain text, as in Bluesky's own app. A link card goes
/// in as the embed (images, if the post has any, take its place).
pub fn planned(
    text: &str,
    found: &[Found],
    dids: &HashMap<String, String>,
    card: Option<&Card>,
) -> Value {
    let facets: Vec<Value> = found
        .iter()
        .filter_map(|f| {
            let feature = match &f.feature {
                Feature::Link(uri) => json!({"$type": "app.bsky.richtext.facet#link", "uri": uri}),
                Feature::Tag(tag) => json!({"$type": "app.bsky.richtext.facet#tag", "tag": tag}),
                Feature::Mention(handle) => json!({
                    "$type": "app.bsky.richtext.facet#mention",
                    "did": dids.get(&handle.to_ascii_lowercase())?,
                }),
            };
            Some(json!({
                "index": {"byteStart": f.start, "byteEnd": f.end},
                "features": [feature],
            }))
        })
        .collect();
    let mut record = json!({
        "$type": POST,
        "text": text,
        "createdAt": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    if !facets.is_empty() {
        record["facets"] = Value::Array(facets);
    }
    if let Some(card) = card {
        record["embed"] = json!({
            "$type": "app.bsky.embed.external",
            "external": {"uri": card.uri, "title": card.title, "description": card.description},
        });
    }
    record
}

/// One uploaded image as it goes into the post's embed: the blob, its alt
/// text and aspect ratio. Kept (serialised) as the task's platform media id.
pub fn image(blob: Value, alt: Option<&str>, size: Option<(u32, u32)>) -> Value {
    let mut image = json!({"image": blob, "alt": alt.unwrap_or_default()});
    if let Some((width, height)) = size
        && width > 0
        && height > 0
    {
        image["aspectRatio"] = json!({"width": width, "height": height});
    }
    image
}

/// The planned record with the task's images, in order, as its embed.
pub fn with_images(mut record: Value, images: &[String]) -> Result<Value, serde_json::Error> {
    if images.is_empty() {
        return Ok(record);
    }
    let images = images
        .iter()
        .map(|id| serde_json::from_str(id))
        .collect::<Result<Vec<Value>, _>>()?;
    record["embed"] = json!({"$type": "app.bsky.embed.images", "images": images});
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::bluesky::facets::detect;

    #[test]
    fn an_unresolved_mention_stays_text_and_the_rest_are_facets() {
        let text = "@alice.test @ghost.test #rust";
        let dids = HashMap::from([("alice.test".to_owned(), "did:plc:alice".to_owned())]);
        let record = planned(text, &detect(text), &dids, None);
        let facets = record["facets"].as_array().unwrap();
        assert_eq!(facets.len(), 2, "{record}");
        assert_eq!(facets[0]["features"][0]["did"], "did:plc:alice");
        assert_eq!(facets[0]["index"]["byteEnd"], 11);
        assert_eq!(facets[1]["features"][0]["tag"], "rust");
        assert!(planned("plain", &[], &dids, None).get("facets").is_none());
        let card = Card {
            uri: "https://example.com/".into(),
            title: "Example".into(),
            description: String::new(),
        };
        let with_card = planned("https://example.com/", &[], &dids, Some(&card));
        assert_eq!(with_card["embed"]["$type"], "app.bsky.embed.external");
        assert_eq!(with_card["embed"]["external"]["title"], "Example");
        // Images take the card's place.
        let pictured = with_images(with_card, &[image(json!({}), None, None).to_string()]).unwrap();
        assert_eq!(pictured["embed"]["$type"], "app.bsky.embed.images");
    }

    #[test]
    fn images_go_in_order_with_alt_text_and_aspect_ratio() {
        let blob = |n: u8| json!({"$type": "blob", "ref": {"$link": format!("cid{n}")}, "mimeType": "image/jpeg", "size": n});
        let ids = [
            image(blob(1), Some("a cat"), Some((400, 300))).to_string(),
            image(blob(2), None, None).to_string(),
        ];
        let record = with_images(json!({"text": "x"}), &ids).unwrap();
        let images = &record["embed"]["images"];
        assert_eq!(record["embed"]["$type"], "app.bsky.embed.images");
        assert_eq!(images[0]["alt"], "a cat");
        assert_eq!(images[0]["aspectRatio"]["width"], 400);
        assert_eq!(images[1]["image"]["ref"]["$link"], "cid2");
        assert!(images[1].get("aspectRatio").is_none());
        assert!(with_images(json!({}), &["not json".into()]).is_err());
    }
}
