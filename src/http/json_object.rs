//! Serde's derived structs also take a JSON array of their fields in order
//! (`"options": []` would read as all defaults); the API documents objects,
//! so nested request objects go through these and refuse anything else. Also
//! [`nullable`], for PATCH fields where `null` means something (clear it).

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer};

/// `#[serde(deserialize_with = "json_object::deserialize")]`: only a JSON object.
pub fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    from_object(JsonMap::deserialize(deserializer)?)
}

type JsonMap = serde_json::Map<String, serde_json::Value>;

/// `T` read from one JSON object.
fn from_object<T: DeserializeOwned, E: Error>(object: JsonMap) -> Result<T, E> {
    T::deserialize(serde_json::Value::Object(object)).map_err(E::custom)
}

/// A request body that must be a JSON object (`[null, null]` is not one).
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<T> std::ops::Deref for Object<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Object)
    }
}

/// `Option<T>` (absent or `null`), `T` only from an object.
pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Option::<JsonMap>::deserialize(deserializer)?
        .map(from_object)
        .transpose()
}

/// A list of objects.
pub fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Vec::<JsonMap>::deserialize(deserializer)?
        .into_iter()
        .map(from_object)
        .collect()
}

/// An optional list of objects (`null` as absent).
pub fn optional_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Option::<Vec<JsonMap>>::deserialize(deserializer)?
        .map(|objects| objects.into_iter().map(from_object).collect())
        .transpose()
}

/// With `#[serde(default)]`: absent → `None`, `null` → `Some(None)`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    struct Inner {
        #[serde(default)]
        a: Option<u8>,
    }

    #[derive(Debug, Deserialize)]
    struct Outer {
        #[serde(default, deserialize_with = "super::deserialize")]
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "super::optional_list")]
        items: Option<Vec<Inner>>,
        #[serde(default, deserialize_with = "super::nullable")]
        at: Option<Option<String>>,
    }

    #[test]
    fn a_body_must_be_an_object() {
        assert!(serde_json::from_str::<super::Object<Inner>>("[null]").is_err());
        assert!(serde_json::from_str::<super::Object<Inner>>("[]").is_err());
        let read = serde_json::from_str::<super::Object<Inner>>(r#"{"a": 3}"#).ok();
        assert_eq!(read.and_then(|o| o.0.a), Some(3));
    }

    #[test]
    fn lists_hold_objects_and_null_differs_from_absent() {
        assert!(serde_json::from_str::<Patch>(r#"{"items": [[1]]}"#).is_err());
        let listed = serde_json::from_str::<Patch>(r#"{"items": [{"a": 2}], "at": null}"#).ok();
        assert!(listed.as_ref().is_some_and(|p| p.at == Some(None)));
        assert_eq!(listed.and_then(|p| p.items).map(|i| i.len()), Some(1));
        let absent = serde_json::from_str::<Patch>("{}").ok();
        assert!(absent.is_some_and(|p| p.items.is_none() && p.at.is_none()));
    }

    #[test]
    fn an_array_in_place_of_an_object_is_refused() {
        assert!(serde_json::from_str::<Outer>(r#"{"inner": []}"#).is_err());
        assert!(serde_json::from_str::<Outer>(r#"{"inner": [1]}"#).is_err());
        let read = serde_json::from_str::<Outer>(r#"{"inner": {"a": 1}}"#).ok();
        assert_eq!(read.and_then(|o| o.inner.a), Some(1));
        let absent = serde_json::from_str::<Outer>("{}").ok();
        assert!(absent.is_some_and(|o| o.inner.a.is_none()));
    }
}
