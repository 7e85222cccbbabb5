//! go's machine-readable output: the objects `go mod download -json` prints, and the
//! fetches of a `-x` trace. The evidence reads them, and so does the integrity check
//! that follows a successful download.

use serde::{Deserialize, Serialize};

/// One object of `go mod download -json` output (or `go list -m -json`, whose objects
/// carry the same fields and report a failure as `"Error": {"Err": "…"}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModuleRecord {
    /// Module path.
    pub path: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Error, when this module failed.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "error_text")]
    pub error: Option<String>,
    /// Cached `.info` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Cached `.mod` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_mod: Option<String>,
    /// Cached `.zip` file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// Extracted directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// `h1:` of the zip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// `h1:` of the go.mod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go_mod_sum: Option<String>,
}

/// One `# get` line of go's `-x` trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceGet {
    /// The URL go fetched.
    pub url: String,
    /// What followed `: ` on the completion line ("200 OK (0.012s)" or an error); `None`
    /// when only the start line was printed.
    pub result: Option<String>,
}

impl TraceGet {
    /// The HTTP status of a completed fetch.
    pub fn status(&self) -> Option<u16> {
        self.result.as_deref()?.split_whitespace().next()?.parse().ok()
    }
}

/// A record's `Error`: a string (`go mod download -json`) or an object with the text in
/// `Err` (`go list -m -json`, which with `-e` exits 0 and reports failures only there).
fn error_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Error {
        Text(String),
        Object {
            #[serde(rename = "Err")]
            err: String,
        },
    }
    Ok(Option::<Error>::deserialize(deserializer)?.map(|e| match e {
        Error::Text(text) | Error::Object { err: text } => text,
    }))
}

/// Parses every `-json` object in go's stdout (objects are concatenated, pretty-printed).
/// A line break inside a string is a paste's (a terminal breaks a long `"Error"` line
/// where its window ends; go escapes its own as `\n`), so it is undone first.
pub fn parse_json_records(stdout: &str) -> Vec<ModuleRecord> {
    let Some(start) = stdout.find('{') else {
        return Vec::new();
    };
    let text = without_breaks_in_strings(&stdout[start..]);
    serde_json::Deserializer::from_str(&text).into_iter::<ModuleRecord>().map_while(Result::ok).collect()
}

/// `json` without the raw line breaks inside its string literals.
fn without_breaks_in_strings(json: &str) -> std::borrow::Cow<'_, str> {
    if !json.contains('\n') {
        return json.into();
    }
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            match c {
                // The break may fall between a backslash and the character it escapes.
                '\n' | '\r' => continue,
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        }
        out.push(c);
    }
    out.into()
}

/// Parses the `# get URL` / `# get URL: result` lines of a `-x` trace.
pub fn parse_trace(stderr: &str) -> Vec<TraceGet> {
    let mut gets: Vec<TraceGet> = Vec::new();
    for line in stderr.lines() {
        let Some(rest) = line.trim_start().strip_prefix("# get ") else {
            continue;
        };
        match rest.split_once(": ") {
            Some((url, result)) => match gets.iter_mut().rev().find(|g| g.url == url && g.result.is_none()) {
                Some(open) => open.result = Some(result.to_string()),
                None => gets.push(TraceGet { url: url.to_string(), result: Some(result.to_string()) }),
            },
            None => gets.push(TraceGet { url: rest.trim().to_string(), result: None }),
        }
    }
    gets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_m_json_errors_are_objects() {
        let out = "{\n\t\"Path\": \"corp.example/lib\",\n\t\"Version\": \"v1.0.0\",\n\t\"Error\": {\n\t\t\"Err\": \"corp.example/lib@v1.0.0: reading https://p/x: 502 Bad Gateway\"\n\t}\n}\n";
        let records = parse_json_records(out);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].error.as_deref(), Some("corp.example/lib@v1.0.0: reading https://p/x: 502 Bad Gateway"));
    }

    #[test]
    fn json_records_are_concatenated_objects() {
        let out = "{\n\t\"Path\": \"a.example/m\",\n\t\"Version\": \"v1.0.0\",\n\t\"Sum\": \"h1:x\"\n}\n{\n\t\"Path\": \"b.example/m\",\n\t\"Version\": \"v2.0.0\",\n\t\"Error\": \"boom\"\n}\n";
        let records = parse_json_records(out);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].sum.as_deref(), Some("h1:x"));
        assert_eq!(records[1].error.as_deref(), Some("boom"));
        assert!(parse_json_records("go: nothing\n").is_empty());
    }

    #[test]
    fn a_string_broken_by_a_paste_is_joined() {
        let out = "{\n\t\"Path\": \"m\",\n\t\"Error\": \"m@v1: reading https://p/x: 401 Unauth\norized\\n\\tserver response: \\\"no\\\"\"\n}\n";
        let records = parse_json_records(out);
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].error.as_deref(),
            Some("m@v1: reading https://p/x: 401 Unauthorized\n\tserver response: \"no\"")
        );
        // Broken between a backslash and the letter it escapes.
        let out = "{\"Path\": \"m\", \"Error\": \"a\\\nnb\"}";
        assert_eq!(parse_json_records(out)[0].error.as_deref(), Some("a\nb"));
    }

    #[test]
    fn trace_pairs_start_and_completion_lines() {
        let err = "# get https://p.example/m/@v/list\n# get https://p.example/m/@v/list: 200 OK (0.002s)\n# get https://p.example/m/@v/v1.zip\n# get https://p.example/m/@v/v1.zip: Get \"x\": EOF\n# get https://q.example/z\n";
        let gets = parse_trace(err);
        assert_eq!(gets.len(), 3);
        assert_eq!(gets[0].status(), Some(200));
        assert_eq!(gets[1].result.as_deref(), Some("Get \"x\": EOF"));
        assert_eq!(gets[2].result, None);
    }
}
