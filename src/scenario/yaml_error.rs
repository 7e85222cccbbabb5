//! The YAML reader's errors in plain words with a hint. Its own messages name its
//! internals (`set DuplicateKeyPolicy in Options`, `from_str_multiple`, `Nodes { nodes:
//! 250001 }`, `invalid u16`, `expected mapping start`); a scenario's author needs to know
//! what is wrong in the file and how to write it instead.

use serde_saphyr::Error;
use serde_saphyr::budget::BudgetBreach;

use super::at::Pos;

/// Most characters of the offending text quoted in a message.
const MAX_QUOTED_CHARS: usize = 40;

/// `error` as a message and a help line, or `None` when the reader's own message is
/// already plain (unknown fields, missing fields, syntax errors).
pub fn explain(error: &Error, source: &str, pos: Pos) -> Option<(String, Option<String>)> {
    let found = || quoted(source, pos);
    let explained = match error {
        Error::AliasError { error, .. } => return explain(error, source, pos),
        Error::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().map_or_else(|| "this key".to_string(), |k| format!("`{k}`"));
            (
                format!("{key} is written twice in the same mapping"),
                "a mapping has one value per key: keep one of them (or merge the two)".to_string(),
            )
        }
        Error::UnknownAnchor { .. } => {
            // (The reader places this one by line and column only.)
            let from = super::at::locate(source, pos.line, pos.column).map_or(source.len(), |(offset, _)| offset);
            let alias: String =
                source[from..].chars().take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}')).collect();
            let name = alias.trim_start_matches('*');
            (
                format!("alias `{alias}` names no anchor"),
                format!(
                    "an alias repeats a value marked `&{name}` earlier in the file (under `anchors:`, say): define the \
                     anchor before the alias, or check its spelling"
                ),
            )
        }
        Error::MultipleDocuments { .. } => (
            "a second YAML document starts here: a scenario file holds one document".to_string(),
            "remove the `---` before it (only the file's first line may be one), and put each scenario in its own file"
                .to_string(),
        ),
        Error::Budget { breach, .. } => too_big(breach),
        Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => {
            ("the file is too large once its aliases are expanded".to_string(), ALIAS_HELP.to_string())
        }
        Error::InvalidScalar { ty, .. } => not_a(ty, &found()),
        Error::ExpectedMappingEndAfterEnumVariantValue { .. } => second_key(&found()),
        Error::Unexpected { expected, .. } if *expected == "mapping end" => second_key(&found()),
        Error::Unexpected { expected, .. } if *expected == "mapping start" => match key_of_value(source, pos) {
            // A host's key one level too far left reads as a host named after it.
            Some(key) if HOST_KEYS.contains(&key.as_str()) => (
                format!("`{key}` is read as the name of a host, whose settings must be a mapping"),
                format!("`{key}:` belongs to a host: indent it under the host's name, as deep as its other keys"),
            ),
            _ => unexpected(expected, &found()),
        },
        Error::Unexpected { expected, .. } => unexpected(expected, &found()),
        Error::ExternalMessage { msg, .. } if msg.contains("block mapping, did not find expected key") => {
            misindented(source, pos)
        }
        Error::Eof { .. } if only_comments(source) => (
            if source.trim().is_empty() { "the file is empty" } else { "the file holds only comments" }.to_string(),
            "a scenario needs at least `name:` and an `expect:` (or `recover:`): `modchaos schema` prints the format"
                .to_string(),
        ),
        Error::Eof { .. } => (
            "the file ends in the middle of a value".to_string(),
            "look for a `[`, `{` or quote that is never closed".to_string(),
        ),
        _ => return None,
    };
    Some((explained.0, Some(explained.1)))
}

/// The reader's own message (`message`, its position removed) in plain words, for
/// errors only their text tells apart: a control character, which only a binary file
/// (or a wrong path) puts in a scenario.
pub fn explain_message(message: &str) -> Option<(String, Option<String>)> {
    // The reader's syntax errors keep their words; a hint says what usually causes them.
    let hint = if message.contains("mapping values are not allowed in this context") {
        Some("a value that holds `: ` is read as a second key: quote it ('error: upstream')")
    } else if message.contains("did not find expected ',' or '}'") {
        Some(
            "inside `{…}`, a value that holds `: ` or `,` must be quoted ('error: upstream'), and the `}` must close it",
        )
    } else if message.contains("did not find expected ',' or ']'") || message.contains("illegal placement of ':'") {
        Some("a `[` or `{` above may be left open (its `]` or `}` missing), or a value that holds `: ` needs quotes")
    } else if message.contains("tabs disallowed") || message.contains("found a tab character") {
        Some("YAML indents with spaces only: replace the tab with spaces (as many as the lines around it use)")
    } else {
        None
    };
    if let Some(hint) = hint {
        return Some((message.to_string(), Some(hint.to_string())));
    }
    let rest = message.strip_prefix("unexpected character: `\\u{")?;
    let code = rest.split('}').next()?;
    Some((
        format!(
            "a control character (U+{:0>4}) that YAML text cannot hold: this does not look like a text file",
            code.to_uppercase()
        ),
        Some("scenario files are YAML text: check that the path names a scenario, not a binary file".into()),
    ))
}

const ALIAS_HELP: &str = "aliases of aliases multiply (an \"alias bomb\"): no scenario needs that many values; write them out or alias fewer levels";

/// What a breached reader limit means for the author.
fn too_big(breach: &BudgetBreach) -> (String, String) {
    let limit = match breach {
        BudgetBreach::Depth { depth } => {
            return (
                format!("the file nests mappings and lists {depth} levels deep, more than the reader accepts"),
                "a scenario needs a handful of levels: look for brackets that are never closed".to_string(),
            );
        }
        BudgetBreach::Nodes { nodes } => format!("{nodes} values"),
        BudgetBreach::Events { events } => format!("{events} YAML events"),
        BudgetBreach::Aliases { aliases } => format!("{aliases} aliases"),
        BudgetBreach::Anchors { anchors } => format!("{anchors} anchors"),
        BudgetBreach::ScalarBytes { total_scalar_bytes } => format!("{total_scalar_bytes} bytes of text"),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => format!("{aliases} aliases of {anchors} anchors"),
        BudgetBreach::Documents { documents } => format!("{documents} documents"),
        _ => "more than the reader accepts".to_string(),
    };
    (format!("the file is too large once its aliases are expanded ({limit})"), ALIAS_HELP.to_string())
}

/// "`five hundred` is not a whole number from 0 to 65535", for a scalar that is not of
/// the type the field needs (`ty` is the Rust type's name).
fn not_a(ty: &str, found: &str) -> (String, String) {
    let (what, example) = match ty {
        "u8" => ("a whole number from 0 to 255", "3"),
        "u16" => ("a whole number from 0 to 65535", "503"),
        "u32" | "u64" | "u128" | "usize" => ("a whole number, 0 or more", "3"),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => ("a whole number", "3"),
        "f32" | "f64" => ("a number", "0.5"),
        "bool" => ("true or false", "true"),
        "char" => ("a single character", "x"),
        _ => ("a value of the right kind", "the schema's (`modchaos schema`)"),
    };
    (format!("{found} is not {what}"), format!("write {what}, like {example}, without quotes"))
}

/// A host's keys, which misindented under `hosts:` read as host names.
const HOST_KEYS: &[&str] =
    &["goproxy", "closed", "blackhole", "unreachable", "sumdb", "forward_proxy", "git", "tls", "faults", "dns", "tcp"];

/// The key whose value starts at `pos` (on its line, `key: value`, or the line above that
/// ends in `key:` with less indentation), when that key is written directly under
/// `hosts:`, where only host names belong.
fn key_of_value(source: &str, pos: Pos) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let here = pos.line.checked_sub(1)?;
    let line = *lines.get(here)?;
    let indent = |l: &str| l.len() - l.trim_start().len();
    let significant = |l: &&str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    let before: String = line.chars().take(pos.column.saturating_sub(1)).collect();
    let key_line = if before.trim_end().ends_with(':') {
        here
    } else {
        let column = pos.column.saturating_sub(1);
        (0..here).rev().find(|&i| significant(&lines[i]) && indent(lines[i]) < column)?
    };
    let key_text = if key_line == here { before.as_str() } else { lines[key_line] };
    let key = key_text.trim().strip_suffix(':')?.trim().trim_matches(['"', '\'']);
    let parent = (0..key_line).rev().find(|&i| significant(&lines[i]) && indent(lines[i]) < indent(lines[key_line]))?;
    (lines[parent].trim() == "hosts:" && !key.contains(' ')).then(|| key.to_string())
}

/// A second key in a mapping that names one choice (a recovery step, a fault's kind).
fn second_key(found: &str) -> (String, String) {
    let key = found.trim_matches('`').split(':').next().unwrap_or_default().trim().to_string();
    (
        format!("`{key}` is a second key in a mapping that names one choice (its first key)"),
        "such a mapping is one key and its value, like `- set: {…}` or `- go: …`: give the other key its own `- ` \
         item, or remove it"
            .to_string(),
    )
}

/// "expected a list, found …", for a value of the wrong shape.
fn unexpected(expected: &str, found: &str) -> (String, String) {
    match expected {
        "mapping start" => (
            format!("expected a mapping (`key: value` entries), found {found}"),
            "write `key: value` lines indented under the key, or `{key: value}` on one line; `{}` is an empty mapping"
                .to_string(),
        ),
        "sequence start" => (
            format!("expected a list, found {found}"),
            "write a list: `[a, b]` on one line, or one `- item` per line (a single item is still a list: `[a]`)"
                .to_string(),
        ),
        other => {
            (format!("expected {other}, found {found}"), "`modchaos schema` prints what each key takes".to_string())
        }
    }
}

/// The text at `pos` in `source`, quoted (and cut) for a message: the value's span, or
/// the rest of its line.
fn quoted(source: &str, pos: Pos) -> String {
    let Some(offset) = pos.offset.filter(|o| *o < source.len() && source.is_char_boundary(*o)) else {
        return "another kind of value".to_string();
    };
    let rest = &source[offset..];
    let line = rest.split('\n').next().unwrap_or_default();
    // A span of one character (`[` of `[]`) says less than the rest of its line.
    let text = match rest.get(..pos.len) {
        Some(span) if pos.len > 1 && !span.contains('\n') => span,
        _ => line,
    };
    let text = text.trim();
    if text.is_empty() {
        return "nothing".to_string();
    }
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("`{}…`", &text[..i]),
        None => format!("`{text}`"),
    }
}

/// A line that does not continue the block mapping it stands in: mostly a key indented
/// by one space more or less than its siblings. The reader names only the mapping it
/// gave up in; the source tells which columns the mappings around the line use.
fn misindented(source: &str, pos: Pos) -> (String, String) {
    const SAME_COLUMN: &str = "keys of one mapping must start in the same column";
    let lines: Vec<&str> = source.lines().collect();
    let Some(line) = pos.line.checked_sub(1).and_then(|i| lines.get(i)) else {
        return (
            "a line here does not continue the mapping it is in".to_string(),
            format!("{SAME_COLUMN}, and each line of a mapping is `key: value`"),
        );
    };
    let column = key_column(line);
    let name = key_of(line);
    // The mappings around the line, innermost first: the key line just above it, then
    // each key line above that starts further left. (line number, column, key)
    let mut around: Vec<(usize, usize, &str)> = Vec::new();
    for (i, above) in lines[..pos.line - 1].iter().enumerate().rev() {
        let text = above.trim_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let c = key_column(above);
        if around.last().is_none_or(|(_, last, _)| c < *last) {
            around.push((i + 1, c, key_of(above)));
        }
        if c == 1 {
            break;
        }
    }
    // The line falls between two mappings: the innermost one it falls short of, and the
    // one it goes past.
    let inner = around.iter().rfind(|(_, c, _)| *c > column);
    let outer = around.iter().find(|(_, c, _)| *c < column);
    let Some(&(line_no, key_col, key)) = inner.or(outer).filter(|_| !around.iter().any(|(_, c, _)| *c == column))
    else {
        return (
            format!("`{name}` does not continue the mapping it is in"),
            format!(
                "{SAME_COLUMN}, and each line of a mapping is `key: value` (a list item `- x` needs a key of its own \
                 above it)"
            ),
        );
    };
    let message = format!(
        "`{name}` starts in column {column}, where no mapping around it has its keys: `{key}` (line {line_no}) \
         starts in column {key_col}"
    );
    let help = match (inner, outer) {
        (Some(_), Some((outer_line, outer_col, outer_key))) => format!(
            "{SAME_COLUMN}: start `{name}` in column {key_col}, beside `{key}` (line {line_no}), or in column \
             {outer_col}, beside `{outer_key}` (line {outer_line})"
        ),
        _ => format!("{SAME_COLUMN}: start `{name}` in column {key_col}, beside `{key}` (line {line_no})"),
    };
    (message, help)
}

/// The column a line's key starts in (after a list item's `- `).
fn key_column(line: &str) -> usize {
    let text = line.trim_start_matches(' ');
    let dash = text.strip_prefix("- ").map_or(0, |item| 2 + item.len() - item.trim_start_matches(' ').len());
    indent(line) + dash + 1
}

/// How many spaces `line` starts with.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The key a line of a block mapping writes (`faults` of `   faults:`, `lib` of `- lib:
/// x`), or its first word.
fn key_of(line: &str) -> &str {
    let text = line.trim_start().trim_start_matches("- ").trim_start();
    let key = match text.find(": ") {
        Some(end) => &text[..end],
        None => text.strip_suffix(':').unwrap_or_else(|| text.split_whitespace().next().unwrap_or_default()),
    };
    match key.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => &key[..i],
        None => key,
    }
}

/// Whether `source` holds nothing but blank lines, comments and document markers.
fn only_comments(source: &str) -> bool {
    source.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(source: &str, needle: &str, len: usize) -> Pos {
        Pos { line: 1, column: 1, offset: source.find(needle), len, source: 0 }
    }

    #[test]
    fn the_offending_text_is_quoted_from_its_span_or_its_line() {
        let source = "status: \"five hundred\"\nnext: 1\n";
        assert_eq!(quoted(source, at(source, "\"five", 14)), "`\"five hundred\"`");
        assert_eq!(quoted(source, at(source, "\"five", 0)), "`\"five hundred\"`");
        let long = format!("k: {}\n", "x".repeat(100));
        assert!(quoted(&long, at(&long, "xxx", 0)).ends_with("…`"));
        assert_eq!(quoted(source, Pos::default()), "another kind of value");
    }

    #[test]
    fn type_names_become_words() {
        let (message, help) = not_a("u16", "`x`");
        assert_eq!(message, "`x` is not a whole number from 0 to 65535");
        assert!(help.contains("like 503"), "{help}");
        assert!(not_a("u64", "`-1`").0.ends_with("a whole number, 0 or more"));
        assert!(!unexpected("mapping start", "`[]`").0.contains("start"));
    }

    #[test]
    fn control_characters_are_told_as_a_binary_file() {
        let (message, help) = explain_message("unexpected character: `\\u{0}'").unwrap();
        assert!(message.starts_with("a control character (U+0000)"), "{message}");
        assert!(help.unwrap().contains("not a binary file"));
        assert_eq!(explain_message("unexpected character: `@'"), None);
    }

    #[test]
    fn comment_only_files_are_told_from_cut_ones() {
        assert!(only_comments("# a scenario, one day\n\n---\n"));
        assert!(only_comments(""));
        assert!(!only_comments("name: [t\n"));
    }
}
