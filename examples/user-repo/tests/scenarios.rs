//! Every scenario file below `scenarios/` as a test.
fn main() {
    modchaos::testing::main("scenarios");
}
