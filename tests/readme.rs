//! The README is the scenario format's manual: every field, host kind, fault, recovery step
//! and built-in playbook the parser accepts must be named in it, so that a new feature
//! cannot land undocumented. The list comes from the parser's own JSON Schema.

use std::collections::BTreeSet;

use serde_json::Value;

/// The property names a schema definition accepts (its own and its `oneOf` variants').
fn names(defs: &Value, definition: &str) -> BTreeSet<String> {
    let def = &defs[definition];
    assert!(!def.is_null(), "no schema definition {definition}");
    let mut found = BTreeSet::new();
    let mut take = |v: &Value| {
        if let Some(props) = v["properties"].as_object() {
            found.extend(props.keys().cloned());
        }
    };
    take(def);
    for variant in def["oneOf"].as_array().into_iter().flatten() {
        take(variant);
    }
    found
}

/// True when the README names `word` as a field or value: in backticks, or as a key.
fn documented(readme: &str, word: &str) -> bool {
    [format!("`{word}"), format!("{word}:"), format!("{word}`"), format!("{{{word}")].iter().any(|p| readme.contains(p))
}

#[test]
fn every_field_of_the_scenario_format_is_documented() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let schema = modchaos::scenario::schema();
    let defs = &schema["$defs"];
    let mut missing = Vec::new();
    let top: BTreeSet<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    let mut all = vec![("scenario".to_string(), top)];
    for def in [
        "RawHost",
        "RawGoproxy",
        "RawSumdb",
        "RawGit",
        "RawForwardProxy",
        "RawFault",
        "RawWhen",
        "RawDnsFault",
        "RawResolver",
        "RawToxic",
        "RawCache",
        "RawCacheFault",
        "RawSandbox",
        "RawRun",
        "RawExpect",
        "RawRequestExpect",
        "RawRecover",
        "RawRecoveryStep",
    ] {
        all.push((def.to_string(), names(defs, def)));
    }
    for (def, fields) in all {
        for field in fields {
            if !documented(&readme, &field) {
                missing.push(format!("{def}.{field}"));
            }
        }
    }
    assert!(missing.is_empty(), "README.md does not mention: {missing:#?}");
}

#[test]
fn every_built_in_playbook_is_listed() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let missing: Vec<_> = modchaos::scenario::playbook::BUILTIN
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !readme.contains(&format!("`{name}`")))
        .collect();
    assert!(missing.is_empty(), "README.md does not list the built-in playbooks {missing:?}");
}

#[test]
fn every_field_of_the_journal_is_documented() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let schema = modchaos::report::journal::schema();
    let mut fields = BTreeSet::new();
    for def in schema["$defs"].as_object().expect("the journal schema has definitions").values() {
        fields.extend(def["properties"].as_object().into_iter().flatten().map(|(k, _)| k.clone()));
    }
    assert!(fields.contains("go_commands") && fields.contains("problems"), "{fields:?}");
    let missing: Vec<&String> = fields.iter().filter(|f| !documented(&readme, f)).collect();
    assert!(missing.is_empty(), "journal fields the README does not name: {missing:?}");
}
