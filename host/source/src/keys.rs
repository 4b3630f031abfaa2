//! Unknown keys of a source's settings: refused, as `#[serde(deny_unknown_fields)]` would, for
//! the settings that embed the [`DirectoryScope`] with `#[serde(flatten)]`.
//!
//! Next to a flattened field, serde's `deny_unknown_fields` reports a key nobody took as a bare
//! ``unknown field `x` ``: serde keeps no list of a struct's keys once one of its fields is
//! flattened. So the scope's field reads the keys the settings' own fields left ([`scope_in`])
//! and refuses any that is not the scope's, with serde's usual message naming every key of the
//! settings in order, e.g. ``unknown field `bogus`, expected one of `path`, `format`,
//! `base_dn`, `guid_attribute`, …``.

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::de::value::{MapAccessDeserializer, StrDeserializer};
use serde::de::{DeserializeSeed, Deserializer, Error, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::scope::DirectoryScope;

/// `#[serde(flatten, deserialize_with = "keys::scope_in::<Settings, _>")]` on the `scope` field
/// of `Settings` (whose other fields are not flattened, and which has no
/// `deny_unknown_fields`): the scope, from the keys `Settings`' own fields did not take. Any
/// of those that is not the scope's is refused as unknown.
pub(crate) fn scope_in<'de, Settings, D>(deserializer: D) -> Result<DirectoryScope, D::Error>
where
    Settings: Default + Serialize,
    D: Deserializer<'de>,
{
    deserializer.deserialize_map(ScopeVisitor::<Settings>(PhantomData))
}

struct ScopeVisitor<Settings>(PhantomData<Settings>);

impl<'de, Settings: Default + Serialize> Visitor<'de> for ScopeVisitor<Settings> {
    type Value = DirectoryScope;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the source's settings")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DirectoryScope, A::Error> {
        DirectoryScope::deserialize(MapAccessDeserializer::new(ScopeKeys { map, settings: PhantomData::<Settings> }))
    }
}

/// The keys left to the scope, each checked to be one of the scope's before it is read.
struct ScopeKeys<A, Settings> {
    map: A,
    settings: PhantomData<Settings>,
}

impl<'de, A: MapAccess<'de>, Settings: Default + Serialize> MapAccess<'de> for ScopeKeys<A, Settings> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        let Some(key) = self.map.next_key::<String>()? else {
            return Ok(None);
        };
        static SCOPE_KEYS: OnceLock<Vec<String>> = OnceLock::new();
        if !SCOPE_KEYS.get_or_init(keys_of::<DirectoryScope>).contains(&key) {
            return Err(unknown_key(&key, &keys_of::<Settings>()));
        }
        seed.deserialize(StrDeserializer::new(&key)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// serde's message for an unknown field (`de::Error::unknown_field`), with a list made at run
/// time.
fn unknown_key<E: Error>(key: &str, expected: &[String]) -> E {
    let expected: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
    match expected.as_slice() {
        [] => E::custom(format_args!("unknown field `{key}`, there are no fields")),
        [one] => E::custom(format_args!("unknown field `{key}`, expected {one}")),
        [a, b] => E::custom(format_args!("unknown field `{key}`, expected {a} or {b}")),
        all => E::custom(format_args!("unknown field `{key}`, expected one of {}", all.join(", "))),
    }
}

/// The keys `T` is written with, in order: those of its default value, serialized. (serde keeps
/// no list of a struct's fields once one of them is flattened.)
fn keys_of<T: Default + Serialize>() -> Vec<String> {
    struct Keys(Vec<String>);

    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Vec<String>, A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                self.0.push(key);
            }
            Ok(self.0)
        }
    }

    let text = serde_json::to_string(&T::default()).unwrap_or_default();
    serde_json::Deserializer::from_str(&text).deserialize_map(Keys(Vec::new())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileSourceConfig;

    #[test]
    fn keys_are_listed_in_order() {
        let file = keys_of::<FileSourceConfig>();
        assert_eq!(file[..4], ["path", "format", "base_dn", "guid_attribute"]);
        assert_eq!(file.last().map(String::as_str), Some("account_status"));
        assert!(!file.iter().any(|k| k == "scope" || k == "masked_attributes"), "{file:?}");
        assert_eq!(keys_of::<DirectoryScope>(), file[3..]);
    }

    #[test]
    fn unknown_keys_are_named_with_every_key() {
        let e = serde_json::from_value::<FileSourceConfig>(serde_json::json!({"path": "u.ldif", "guid_atribute": "x"}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unknown field `guid_atribute`, expected one of `path`, `format`, `base_dn`, `guid_attribute`, \
             `guid_binary`, `user_object_class`, `group_object_class`, `user_filter`, `user_group_dn`, `nested`, \
             `group_filter`, `group_dn`, `member_attribute`, `member_of_attribute`, `account_status`"
        );
        // Set by the host, never written.
        let e = serde_json::from_value::<FileSourceConfig>(serde_json::json!({"masked_attributes": ["a"]}));
        assert!(e.unwrap_err().to_string().starts_with("unknown field `masked_attributes`, expected one of `path`"));
        // The scope's own messages are unchanged.
        let e = serde_json::from_value::<FileSourceConfig>(serde_json::json!({"nested": "yes"})).unwrap_err();
        assert_eq!(e.to_string(), "invalid type: string \"yes\", expected a boolean");
        let e: Result<DirectoryScope, _> = serde_json::from_value(serde_json::json!({"path": "u.ldif"}));
        assert!(e.unwrap_err().to_string().starts_with("unknown field `path`, expected one of `guid_attribute`"));
    }

    #[test]
    fn the_unknown_key_message_is_serdes() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).into();
        let ours = |n: usize| unknown_key::<serde_json::Error>("x", &names[..n]).to_string();
        let serdes = |n: usize| serde_json::Error::unknown_field("x", &["a", "b", "c"][..n]).to_string();
        for n in 0..=3 {
            assert_eq!(ours(n), serdes(n));
        }
    }
}
