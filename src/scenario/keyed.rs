//! `Keyed<T>`: a YAML mapping kept in file order with the position of every key, for
//! mappings whose keys are names the validator must check (host names, env variables).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::at::At;

/// Entries of a mapping in the order they were written.
#[derive(Debug, Clone, PartialEq)]
pub struct Keyed<T>(pub Vec<(At<String>, T)>);

impl<T> Default for Keyed<T> {
    fn default() -> Self {
        Keyed(Vec::new())
    }
}

impl<T> Keyed<T> {
    /// True when the mapping has no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds an entry at the end (or replaces the value of an existing key).
    pub fn insert(&mut self, key: &str, value: T) {
        match self.0.iter_mut().find(|(k, _)| k.value == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((At::unplaced(key.to_string()), value)),
        }
    }

    /// Iterates over `(key, value)` in file order.
    pub fn iter(&self) -> impl Iterator<Item = &(At<String>, T)> {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(&key.value, value)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for KeyedVisitor<T> {
            type Value = Keyed<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<At<String>>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Keyed(entries))
            }
        }
        deserializer.deserialize_map(KeyedVisitor(PhantomData))
    }
}

impl<T: JsonSchema> JsonSchema for Keyed<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let values = generator.subschema_for::<T>();
        json_schema!({ "type": "object", "additionalProperties": values })
    }
}
