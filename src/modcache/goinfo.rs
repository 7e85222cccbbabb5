//! The `.info` file exactly as go writes it into the module cache. go does not store the
//! proxy's bytes: it decodes them into its `RevInfo` and writes `json.Marshal` of that,
//! so a seeded cache must hold the same re-encoding (key order, no newline, the time in
//! RFC 3339 with trailing zero fractions dropped, `<>&` escaped, Origin cleaned).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::fixture::semver;

/// Why go would refuse a proxy's `.info` (so no download could have succeeded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadInfo(String);

/// Re-encodes a proxy's `.info` for `version` the way `modfetch.writeDiskStat` does.
/// The error says why go would have refused the `.info` (so no download could have
/// succeeded).
pub fn canonical(info: &[u8], version: &str) -> Result<String, BadInfo> {
    let value: Value = serde_json::from_slice(info).map_err(|e| BadInfo(format!("invalid JSON: {e}")))?;
    let empty = Map::new();
    let object = match &value {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err(BadInfo("not a JSON object".into())),
    };
    let stated = string_field(object, "Version")?.unwrap_or_default();
    if stated != version {
        return Err(BadInfo(format!("it names version {stated:?}, not {version}")));
    }
    let time = match string_field(object, "Time")? {
        Some(t) => canonical_time(&t)?,
        None => "0001-01-01T00:00:00Z".to_string(),
    };
    let mut out = format!("{{\"Version\":{},\"Time\":{}", go_string(version), go_string(&time));
    match field(object, "Origin") {
        None | Some(Value::Null) => {}
        Some(Value::Object(origin)) => {
            out.push_str(",\"Origin\":{");
            let mut first = true;
            // Field order of codehost.Origin; TagPrefix, TagSum and RepoSum are cleared
            // before writing, and so is Ref for pseudo-versions.
            for name in ["VCS", "URL", "Subdir", "Hash", "Ref"] {
                if name == "Ref" && semver::is_pseudo(version) {
                    continue;
                }
                let Some(text) = string_field(origin, name)?.filter(|s| !s.is_empty()) else {
                    continue;
                };
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&format!("{}:{}", go_string(name), go_string(&text)));
            }
            out.push('}');
        }
        Some(_) => return Err(BadInfo("Origin is not a JSON object".into())),
    }
    out.push('}');
    Ok(out)
}

/// A member by name: the exact spelling first, else any spelling that matches ignoring
/// case, as Go's decoder does.
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn string_field(object: &Map<String, Value>, name: &str) -> Result<Option<String>, BadInfo> {
    match field(object, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(BadInfo(format!("{name} is {other}, not a string"))),
    }
}

/// Go's strict RFC 3339 parse followed by an RFC3339Nano format: `,` fractions become
/// `.`, fractions are cut to nanoseconds and lose trailing zeros, a zero offset is `Z`.
pub fn canonical_time(text: &str) -> Result<String, BadInfo> {
    static RFC3339: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?(Z|[+-]([0-9]{2}):([0-9]{2}))$")
            .expect("RFC 3339 pattern compiles")
    });
    let bad = |why: &str| Err(BadInfo(format!("time {text:?}: {why}")));
    let Some(c) = RFC3339.captures(text) else {
        return bad("not RFC 3339");
    };
    let num = |i: usize| c.get(i).map_or(0, |m| m.as_str().parse::<u32>().unwrap_or(u32::MAX));
    let (year, month, day, hour, minute, second) = (num(1), num(2), num(3), num(4), num(5), num(6));
    if !(1..=12).contains(&month) {
        return bad("month out of range");
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return bad("day out of range");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return bad("clock out of range");
    }
    let zone = match c.get(9) {
        None => "Z".to_string(),
        Some(_) if num(9) > 23 || num(10) > 59 => return bad("time zone offset out of range"),
        Some(_) if num(9) == 0 && num(10) == 0 => "Z".to_string(),
        Some(_) => c[8].to_string(),
    };
    let fraction = c.get(7).map_or("", |m| &m.as_str()[..m.as_str().len().min(9)]).trim_end_matches('0');
    let fraction = if fraction.is_empty() { String::new() } else { format!(".{fraction}") };
    Ok(format!("{}-{}-{}T{}:{}:{}{fraction}{zone}", &c[1], &c[2], &c[3], &c[4], &c[5], &c[6]))
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe: `<`, `>`, `&`, U+2028 and
/// U+2029 escaped; `\b`, `\f`, `\n`, `\r`, `\t` short; other controls as `\u00XX`).
pub fn go_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_time_is_go_zero_time_and_no_newline() {
        assert_eq!(
            canonical(b"{\"Version\": \"v1.0.0\"}\n", "v1.0.0").unwrap(),
            r#"{"Version":"v1.0.0","Time":"0001-01-01T00:00:00Z"}"#
        );
    }

    #[test]
    fn origin_is_cleaned_and_html_escaped_like_go() {
        // What go 1.26 wrote for this .info in a real run.
        let info = br#"{"Version":"v1.10.0","Name":"abc","Short":"ab", "Time":"2019-03-04T05:06:07.500+00:00","Origin":{"VCS":"git","URL":"https://x.example/a?b=<c>&d","Hash":"abc","TagSum":"t1:x","TagPrefix":"p","Ref":"refs/tags/v1.10.0","RepoSum":"r1:y"}}"#;
        assert_eq!(
            canonical(info, "v1.10.0").unwrap(),
            r#"{"Version":"v1.10.0","Time":"2019-03-04T05:06:07.5Z","Origin":{"VCS":"git","URL":"https://x.example/a?b=\u003cc\u003e\u0026d","Hash":"abc","Ref":"refs/tags/v1.10.0"}}"#
        );
    }

    #[test]
    fn pseudo_versions_lose_their_ref() {
        let v = "v0.0.0-20190430073000-30950c05d534";
        let info = format!(r#"{{"Version":"{v}","Origin":{{"VCS":"git","Ref":"refs/heads/main","Hash":"30950c"}}}}"#);
        assert!(!canonical(info.as_bytes(), v).unwrap().contains("Ref"));
    }

    #[test]
    fn times_are_reformatted_as_go_does() {
        // Each pair observed with go 1.26 (proxy .info → cached .info).
        for (given, want) in [
            ("2019-03-04T05:06:07.123456789123-07:30", "2019-03-04T05:06:07.123456789-07:30"),
            ("2019-03-04T05:06:07,5Z", "2019-03-04T05:06:07.5Z"),
            ("2019-03-04T05:06:07.000Z", "2019-03-04T05:06:07Z"),
            ("2019-03-04T05:06:07-00:00", "2019-03-04T05:06:07Z"),
            ("2020-02-29T00:00:00+05:30", "2020-02-29T00:00:00+05:30"),
        ] {
            assert_eq!(canonical_time(given).unwrap(), want, "{given}");
        }
        for refused in [
            "2019-03-04t05:06:07Z",
            "2019-03-04T05:06:07z",
            "2019-3-04T05:06:07Z",
            "2019-03-04T24:00:00Z",
            "2019-02-29T05:06:07Z",
            "2019-03-04T05:06:07+1:00",
        ] {
            assert!(canonical_time(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn infos_go_would_refuse_are_errors() {
        assert!(canonical(b"{\"Version\":\"v1.0.1\"}", "v1.0.0").unwrap_err().to_string().contains("v1.0.1"));
        assert!(canonical(b"[]", "v1.0.0").is_err());
        assert!(canonical(b"{\"Version\":\"v1.0.0\",\"Time\":3}", "v1.0.0").is_err());
        assert_eq!(
            canonical(b"{\"version\":\"v1.0.0\"}", "v1.0.0").unwrap(),
            r#"{"Version":"v1.0.0","Time":"0001-01-01T00:00:00Z"}"#
        );
    }
}
