//! Every type and field mistake of a file, not only the first. The YAML reader stops at
//! the first value it cannot fit into the scenario's types; an author with three typos
//! would fix one, rerun, fix the next. So after a mistake of that kind the part of the
//! file that holds it is blanked out (spaces, newlines kept, so that every later position
//! is the file's own) and the file is read again, until it reads or a mistake is of
//! another kind.
//!
//! What is blanked is the innermost mapping entry or list item holding the mistake, made
//! wider when blanking it would itself be a mistake: when its parent would be left empty
//! (an empty mapping or list reads as null), or when the reader then misses a field that
//! was blanked (a required field's bad value). Blanking reads the file's block structure
//! from its indentation, as YAML does; a mistake blanking cannot isolate (a syntax error,
//! an alias whose anchor was blanked, a flow collection across lines) ends the search, and
//! nothing found after blanking is reported unless it is one of the mistakes above, so the
//! search adds mistakes the file has and never ones it made up.

use serde::de::DeserializeOwned;
use serde_saphyr::Error;

/// Most mistakes reported for one file: past this, the file is probably not a scenario.
const MAX_MISTAKES: usize = 20;

/// Most readings of one file (each finds a mistake or widens a blanked part).
const MAX_READINGS: usize = 60;

/// Reads `source` as a `T` with `read`; on failure, returns the first mistake and every
/// further type or field mistake found as the module doc says, in the order found.
pub fn read_all<T>(source: &str, read: impl Fn(&str) -> Result<T, Error>) -> Result<T, Vec<Error>>
where
    T: DeserializeOwned,
{
    let first = match read(source) {
        Ok(value) => return Ok(value),
        Err(e) => e,
    };
    if !isolable(&first) {
        return Err(vec![first]);
    }
    let mut search = Search::new(source);
    let mut found = vec![];
    let mut next = Some(first);
    for _ in 0..MAX_READINGS {
        let Some(error) = next.take() else { break };
        let first_one = found.is_empty();
        if !search.isolate(error, first_one, &mut found) {
            break;
        }
        if found.len() >= MAX_MISTAKES {
            break;
        }
        match read(&search.text()) {
            Ok(_) => break,
            // The same place again: blanking did not set it aside.
            Err(e) if found.iter().any(|f| f.location() == e.location()) => break,
            Err(e) if isolable(&e) => next = Some(e),
            Err(_) => break,
        }
    }
    Err(found)
}

/// Mistakes in a value that blanking its entry can set aside: the reader then goes on.
fn isolable(error: &Error) -> bool {
    matches!(
        error,
        Error::SerdeInvalidType { .. }
            | Error::SerdeInvalidValue { .. }
            | Error::SerdeInvalidLength { .. }
            | Error::SerdeUnknownVariant { .. }
            | Error::SerdeUnknownField { .. }
            | Error::SerdeMissingField { .. }
            | Error::Message { .. }
            | Error::InvalidScalar { .. }
            | Error::InvalidBooleanStrict { .. }
            | Error::NullIntoString { .. }
            | Error::DuplicateMappingKey { .. }
            | Error::Unexpected { .. }
            | Error::UnexpectedValueForUnit { .. }
            | Error::UnexpectedValueForUnitEnumVariant { .. }
            | Error::ExpectedEmptyMappingForUnitStruct { .. }
            | Error::ExternallyTaggedEnumExpectedScalarOrMapping { .. }
            | Error::ExpectedStringKeyForExternallyTaggedEnum { .. }
            | Error::TaggedEnumMismatch { .. }
            | Error::ExpectedMappingEndAfterEnumVariantValue { .. }
    ) && error.location().is_some_and(|l| l.line() > 0)
}

/// A part of the file: a mapping entry (`key: value` and the lines under it) or a list
/// item (`- …` and the lines under it), by where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Part {
    /// 0-based line.
    line: usize,
    /// 0-based column (in characters) of the key or the dash.
    column: usize,
    item: bool,
}

/// The file's lines, with the parts blanked so far.
struct Search {
    lines: Vec<Vec<char>>,
    /// The parts blanked so far, with the key each entry had.
    blanked: Vec<(Part, Option<String>)>,
    original: Vec<Vec<char>>,
}

impl Search {
    fn new(source: &str) -> Search {
        let lines: Vec<Vec<char>> = source.split('\n').map(|l| l.chars().collect()).collect();
        Search { original: lines.clone(), lines, blanked: vec![] }
    }

    fn text(&self) -> String {
        self.lines.iter().map(|l| l.iter().collect::<String>()).collect::<Vec<_>>().join("\n")
    }

    /// Records `error` in `found` when it is the file's (the first one always is), and
    /// blanks the part holding it. False when nothing more can be blanked.
    fn isolate(&mut self, error: Error, first: bool, found: &mut Vec<Error>) -> bool {
        let Some(location) = error.location() else { return false };
        if let Error::SerdeMissingField { field, .. } = &error
            && !first
        {
            // A blanked required field: blank what holds it instead, and say nothing.
            if let Some(i) = self.blanked.iter().rposition(|(_, key)| key.as_deref() == Some(*field)) {
                let (part, _) = self.blanked.remove(i);
                self.restore();
                return match self.parent(part) {
                    Some(parent) => self.blank(parent),
                    None => false,
                };
            }
        }
        let line = (location.line() as usize).saturating_sub(1);
        let column = (location.column() as usize).saturating_sub(1);
        if line >= self.lines.len() {
            // The end of the file (a field missing from the top-level mapping).
            found.push(error);
            return false;
        }
        let part = match &error {
            // A mapping that lacks a field: the error is at the mapping, blank what holds it.
            Error::SerdeMissingField { .. } => self.innermost(line, column).and_then(|p| self.parent(p)),
            _ => self.innermost(line, column),
        };
        found.push(error);
        match part {
            Some(part) => self.blank(part),
            None => false,
        }
    }

    /// Blanks `part`, or its parent when `part` is all its parent holds. False when that
    /// would blank the whole document.
    fn blank(&mut self, part: Part) -> bool {
        let mut part = part;
        loop {
            match self.parent(part) {
                Some(parent) if !self.holds_more_than(parent, part) => part = parent,
                Some(_) => break,
                None if part.column == 0 && self.has_sibling_at_top(part) => break,
                None => return false,
            }
        }
        let key = (!part.item).then(|| self.key_at(part)).flatten();
        self.spaces_over(part);
        self.blanked.push((part, key));
        true
    }

    /// Writes spaces over `part` (its first line from its column, every later line
    /// whole), newlines kept.
    fn spaces_over(&mut self, part: Part) {
        let end = self.end(part);
        for line in part.line..end {
            let from = if line == part.line { part.column } else { 0 };
            for c in self.lines[line].iter_mut().skip(from) {
                *c = ' ';
            }
        }
    }

    /// Puts back the original text and blanks the recorded parts again (after one of them
    /// was taken off the list).
    fn restore(&mut self) {
        self.lines = self.original.clone();
        let parts: Vec<_> = std::mem::take(&mut self.blanked);
        for (part, key) in parts {
            self.spaces_over(part);
            self.blanked.push((part, key));
        }
    }

    /// Whether `parent` still holds something besides `part` (its own key or dash aside).
    fn holds_more_than(&self, parent: Part, part: Part) -> bool {
        let end = self.end(parent);
        let part_end = self.end(part);
        let head_end = self.head_end(parent);
        (parent.line..end).any(|line| {
            let chars = &self.lines[line];
            let comment = self.comment_start(line).unwrap_or(chars.len());
            (0..comment).any(|column| {
                let inside_part = (part.line..part_end).contains(&line) && (line > part.line || column >= part.column);
                let own_start = line == parent.line && column <= head_end;
                !inside_part && !own_start && !chars[column].is_whitespace()
            })
        })
    }

    /// Whether another top-level entry is left beside `part`.
    fn has_sibling_at_top(&self, part: Part) -> bool {
        let end = self.end(part);
        (0..self.lines.len()).filter(|l| !(part.line..end).contains(l)).any(|l| self.significant(l))
    }

    /// The last column of a part's own head: the dash of an item, the colon of an entry.
    fn head_end(&self, part: Part) -> usize {
        let chars = &self.lines[part.line];
        if part.item {
            return part.column;
        }
        let mut column = part.column;
        let mut quote = None;
        while column < chars.len() {
            match (chars[column], quote) {
                (q @ ('"' | '\''), None) => quote = Some(q),
                (q, Some(open)) if q == open => quote = None,
                (':', None) => return column,
                _ => {}
            }
            column += 1;
        }
        column
    }

    /// The key an entry names, unquoted.
    fn key_at(&self, part: Part) -> Option<String> {
        let head: String = self.lines[part.line][part.column..self.head_end(part)].iter().collect();
        let key = head.trim().trim_matches(|c| c == '"' || c == '\'');
        (!key.is_empty()).then(|| key.to_string())
    }

    /// The line after a part's last line.
    fn end(&self, part: Part) -> usize {
        let mut line = part.line + 1;
        while line < self.lines.len() {
            if self.significant(line) {
                let indent = self.indent(line);
                let compact_list = !part.item && indent == part.column && self.is_item(line);
                if indent <= part.column && !compact_list {
                    break;
                }
            }
            line += 1;
        }
        line
    }

    /// The innermost part holding the position (0-based line and column).
    fn innermost(&self, line: usize, column: usize) -> Option<Part> {
        let starts = self.starts(line);
        if let Some(&part) = starts.iter().rev().find(|p| p.column <= column) {
            return Some(part);
        }
        // A value on a line of its own (a block scalar's text, a flow list's next line).
        self.enclosing(line, column)
    }

    /// The part holding `part`, or None at the top level.
    fn parent(&self, part: Part) -> Option<Part> {
        let starts = self.starts(part.line);
        if let Some(&outer) = starts.iter().rev().find(|p| p.column < part.column) {
            return Some(outer);
        }
        if part.item {
            // A compact list (`key:` then `- item` at the key's column) belongs to the key.
            let mut line = part.line;
            while line > 0 {
                line -= 1;
                if !self.significant(line) {
                    continue;
                }
                let indent = self.indent(line);
                if indent == part.column && self.is_item(line) {
                    continue;
                }
                if indent == part.column {
                    return self.starts(line).first().copied().filter(|p| !p.item);
                }
                return self.enclosing(part.line, part.column);
            }
            return None;
        }
        self.enclosing(part.line, part.column)
    }

    /// The part that a position on a line starting beyond `column` belongs to: the first
    /// significant line above with a part starting left of `column`, its rightmost such part.
    fn enclosing(&self, line: usize, column: usize) -> Option<Part> {
        let mut above = line;
        while above > 0 {
            above -= 1;
            if !self.significant(above) || self.indent(above) >= column {
                continue;
            }
            return self.starts(above).into_iter().rev().find(|p| p.column < column);
        }
        None
    }

    /// The parts starting on a line: its dashes (`- - key:`) and its key, left to right.
    fn starts(&self, line: usize) -> Vec<Part> {
        let chars = &self.lines[line];
        let mut column = self.indent(line);
        let mut parts = vec![];
        while column < chars.len() && chars[column] == '-' && chars.get(column + 1).is_none_or(|c| *c == ' ') {
            parts.push(Part { line, column, item: true });
            column += 1;
            while column < chars.len() && chars[column] == ' ' {
                column += 1;
            }
        }
        if column < chars.len() && chars[column] != '#' && self.has_key(line, column) {
            parts.push(Part { line, column, item: false });
        }
        parts
    }

    /// Whether the text at `column` is `key:` (a colon followed by a space or the end).
    fn has_key(&self, line: usize, column: usize) -> bool {
        let chars = &self.lines[line];
        if matches!(chars[column], '{' | '[' | '|' | '>') {
            return false;
        }
        let head = self.head_end(Part { line, column, item: false });
        head < chars.len() && chars.get(head + 1).is_none_or(|c| c.is_whitespace())
    }

    fn is_item(&self, line: usize) -> bool {
        let chars = &self.lines[line];
        let indent = self.indent(line);
        chars[indent] == '-' && chars.get(indent + 1).is_none_or(|c| *c == ' ')
    }

    fn indent(&self, line: usize) -> usize {
        self.lines[line].iter().take_while(|c| **c == ' ').count()
    }

    /// A line with something on it other than a comment.
    fn significant(&self, line: usize) -> bool {
        let chars = &self.lines[line];
        let indent = self.indent(line);
        indent < chars.len() && !chars[indent].is_whitespace() && chars[indent] != '#'
    }

    /// Where a line's `#` comment starts (a `#` after a space, outside quotes).
    fn comment_start(&self, line: usize) -> Option<usize> {
        let chars = &self.lines[line];
        let mut quote = None;
        for (i, c) in chars.iter().enumerate() {
            match (*c, quote) {
                (q @ ('"' | '\''), None) => quote = Some(q),
                (q, Some(open)) if q == open => quote = None,
                ('#', None) if i == 0 || chars[i - 1].is_whitespace() => return Some(i),
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
        #[serde(default)]
        hosts: BTreeMap<String, Host>,
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        anchors: Option<serde_json::Value>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        kind: String,
        #[serde(default)]
        count: Option<u32>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Host {
        #[serde(default)]
        tls: Option<Tls>,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Tls {
        expired: bool,
    }

    /// Each mistake found, as `line:column message`.
    fn mistakes(text: &str) -> Vec<String> {
        match read_all::<Doc>(text, crate::scenario::read_yaml) {
            Ok(_) => vec![],
            Err(errors) => errors
                .iter()
                .map(|e| {
                    let l = e.location().expect("a located mistake");
                    let message = e.without_snippet().to_string();
                    format!("{}:{} {}", l.line(), l.column(), message.split(" at line").next().unwrap_or_default())
                })
                .collect(),
        }
    }

    #[test]
    fn a_file_without_mistakes_reads() {
        assert!(read_all::<Doc>("name: a\nitems:\n  - kind: x\n", crate::scenario::read_yaml).is_ok());
    }

    #[test]
    fn mistakes_in_several_entries_and_items_are_all_found_at_their_own_positions() {
        let text = "name: a\nitems:\n  - kind: x\n    cuont: 3\n  - kind: y\n    count: many\nhosts:\n  h:\n    tls: yes\n    items: []\nprot: 80\n";
        let found = mistakes(text);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].starts_with("4:5 unknown field `cuont`"), "{found:#?}");
        assert!(found[1].starts_with("6:12 "), "{found:#?}");
        assert!(found[2].starts_with("9:10 "), "{found:#?}");
        assert!(found[3].starts_with("11:1 unknown field `prot`"), "{found:#?}");
    }

    #[test]
    fn a_bad_value_of_a_required_field_does_not_make_up_a_missing_field() {
        let found = mistakes("name: [a, b]\nitems:\n  - kind: x\n    cuont: 3\n");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("1:7 "), "{found:#?}");
        assert!(found[1].starts_with("4:5 unknown field `cuont`"), "{found:#?}");
        // Inside an item: the item goes, and the next item's mistake is still found.
        let found = mistakes("name: a\nitems:\n  - kind: [x]\n    count: 1\n  - kind: y\n    extra: 1\n");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("3:11 "), "{found:#?}");
        assert!(found[1].starts_with("6:5 unknown field `extra`"), "{found:#?}");
        assert!(!found.iter().any(|f| f.contains("missing field")), "{found:#?}");
    }

    #[test]
    fn a_list_or_mapping_left_empty_is_blanked_with_its_key_not_read_as_null() {
        // The only item of a list, then the only entry of a host.
        let found = mistakes(
            "name: a\nitems:\n  - kind: x\n    cuont: 3\nhosts:\n  h:\n    tls: {expired: maybe}\nport: 99999\n",
        );
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[1].starts_with("7:20 "), "{found:#?}");
        assert!(found[2].starts_with("8:7 "), "{found:#?}");
        assert!(!found.iter().any(|f| f.contains("null") || f.contains("unit")), "{found:#?}");
    }

    #[test]
    fn a_compact_list_at_its_key_column_is_understood() {
        let found = mistakes("name: a\nitems:\n- kind: x\n  cuont: 3\n- kind: y\n  extra: 1\n- kind: z\n");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("4:3 unknown field `cuont`"), "{found:#?}");
        assert!(found[1].starts_with("6:3 unknown field `extra`"), "{found:#?}");
    }

    #[test]
    fn a_missing_field_is_said_once_and_ends_the_search_at_the_top() {
        let found = mistakes("items:\n  - kind: x\n    cuont: 3\n");
        assert!(found[0].starts_with("3:5 unknown field `cuont`"), "{found:#?}");
        assert_eq!(found.iter().filter(|f| f.contains("missing field `name`")).count(), 1, "{found:#?}");
        // A missing field in an item: the item goes, the search goes on.
        let found = mistakes("name: a\nitems:\n  - count: 1\n  - kind: y\n    extra: 1\n");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].contains("missing field `kind`"), "{found:#?}");
        assert!(found[1].starts_with("5:5 unknown field `extra`"), "{found:#?}");
    }

    #[test]
    fn a_syntax_error_or_a_blanked_anchor_ends_the_search_without_a_made_up_mistake() {
        let found = mistakes("name: a\nitems: [\n");
        assert_eq!(found.len(), 1, "{found:#?}");
        // The anchor's entry holds the mistake; its alias then names nothing.
        let text = "name: a\nanchors:\n  x: 1\nitems:\n  - &it {kind: x, cuont: 1}\n  - *it\nprot: 1\n";
        let found = mistakes(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].contains("cuont"), "{found:#?}");
    }

    #[test]
    fn the_search_stops_at_its_limit() {
        let mut text = "name: a\nitems:\n".to_string();
        for i in 0..30 {
            text.push_str(&format!("  - kind: x\n    extra{i}: 1\n"));
        }
        assert_eq!(mistakes(&text).len(), MAX_MISTAKES);
    }

    #[test]
    fn comments_and_quoted_keys_do_not_confuse_the_blanking() {
        let text = "name: a # the name\n\"items\":\n  # a comment\n  - kind: x # kind\n    cuont: 3\n\n  - kind: y\n    extra: 1 # here\n";
        let found = mistakes(text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[1].starts_with("8:5 unknown field `extra`"), "{found:#?}");
    }
}
