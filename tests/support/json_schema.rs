//! A JSON Schema validator for the schemas `modchaos schema` prints, built on boon: a
//! validator modchaos itself does not use, so that what modchaos writes is checked by
//! code that did not write it.
//!
//! Included with `#[path]` by `tests/cli.rs` and `tests/journal.rs`.

#![allow(dead_code)]

use serde_json::Value;

/// One compiled schema.
pub struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    /// Compiles `schema`; panics (the test fails) if it is not a valid JSON Schema.
    pub fn new(schema: &Value) -> Self {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.add_resource("printed-schema.json", schema.clone()).expect("the schema is JSON");
        let index = compiler.compile("printed-schema.json", &mut schemas).expect("a valid JSON Schema");
        Validator { schemas, index }
    }

    /// Every way `value` breaks the schema, with where in the value.
    pub fn check(&self, value: &Value) -> Result<(), String> {
        self.schemas.validate(value, self.index).map_err(|e| format!("{e:#}"))
    }
}
