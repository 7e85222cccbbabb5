# Everyday recipes. Optional: every recipe is a plain cargo command (see README.md).

# Run the scenario suite against the real go (the main job).
run *ARGS:
    cargo run --release -- run scenarios/ {{ARGS}}

# Run every test: unit, integration, and each scenario file as its own test.
test *ARGS:
    cargo test {{ARGS}}

# Check scenario files without running them.
validate *PATHS="scenarios":
    cargo run --release -- validate {{PATHS}}

# Measure modchaos against a bare go download (prints the ratio).
bench:
    cargo bench --bench overhead

# Formatting and lints, as CI would want them.
lint:
    cargo fmt --check
    cargo clippy --all-targets -- -D warnings

# Print the scenario JSON Schema (for yaml-language-server).
schema:
    cargo run --release -- schema > modchaos.schema.json
