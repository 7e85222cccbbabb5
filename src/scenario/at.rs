//! `At<T>`: a value from a scenario file together with where it was written, so that
//! validation errors found after parsing still point at file:line:col.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a value starts in its source file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column, in characters (0 when unknown).
    pub column: usize,
    /// Byte offset of the value, when known.
    pub offset: Option<usize>,
    /// Length of the value in bytes (0 when unknown).
    pub len: usize,
    /// Which file: 0 for the scenario file itself, N for its Nth `include:`.
    pub source: u16,
}

thread_local! {
    /// The file values being deserialized come from (see [`reading_source`]).
    static SOURCE: std::cell::Cell<u16> = const { std::cell::Cell::new(0) };
}

/// Runs `read` (a deserialization) with every position it makes marked as coming from
/// file `source` (an include of the scenario file).
pub fn reading_source<R>(source: u16, read: impl FnOnce() -> R) -> R {
    let before = SOURCE.with(|s| s.replace(source));
    let result = read();
    SOURCE.with(|s| s.set(before));
    result
}

impl Pos {
    /// The position of byte `offset` of `text` (its line and column in characters), for
    /// `len` bytes, in file `source`.
    pub fn at_offset(text: &str, offset: usize, len: usize, source: u16) -> Pos {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Pos {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            offset: Some(offset),
            len,
            source,
        }
    }

    /// Converts the YAML crate's location.
    pub fn from_saphyr(location: serde_saphyr::Location) -> Pos {
        let span = location.span();
        Pos {
            line: location.line() as usize,
            column: location.column() as usize,
            offset: span.byte_offset().map(|o| o as usize),
            len: span.byte_len().unwrap_or(0) as usize,
            source: SOURCE.with(std::cell::Cell::get),
        }
    }
}

/// The byte offset of a 1-based line and column (in characters) of `source`, and the
/// length of the word there (up to a space or a `:`), for an error placed by line and
/// column only. None when the place is not in the text.
pub fn locate(source: &str, line: usize, column: usize) -> Option<(usize, usize)> {
    if line == 0 || column == 0 {
        return None;
    }
    let line_start = if line == 1 { 0 } else { source.match_indices('\n').nth(line - 2)?.0 + 1 };
    let text = source[line_start..].split('\n').next().unwrap_or_default();
    let (at, _) = text.char_indices().nth(column - 1)?;
    let word = text[at..].find(|c: char| c.is_whitespace() || c == ':').unwrap_or(text.len() - at);
    Some((line_start + at, word))
}

/// A value and its position in the scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    /// The value as parsed.
    pub value: T,
    /// Where it was written.
    pub pos: Pos,
}

impl<T> At<T> {
    /// A value with no known position (defaults, generated scenarios).
    pub fn unplaced(value: T) -> Self {
        At { value, pos: Pos::default() }
    }
}

impl<T> std::ops::Deref for At<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Written as the bare value: positions belong to the file it was read from.
impl<T: Serialize> Serialize for At<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(At { value: spanned.value, pos: Pos::from_saphyr(spanned.referenced) })
    }
}

/// The schema of an `At<T>` is the schema of `T`: positions are not part of the format.
impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}
