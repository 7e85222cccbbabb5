//! Every scenario file under `scenarios/` is its own test, once per network mode it can
//! run in (`sealed/…` in a child process with its own namespaces, real names and ports
//! and the fake resolver; `open/…` in this process on 127.0.0.1 ports) and per go
//! command (`MODCHAOS_GO` may list several). Each runs the real go against the
//! scenario's fakes and passes only if the diagnosis, recovery and integrity
//! expectations all hold. This is exactly what a user's crate does with
//! `modchaos::testing::main`: sealed children re-execute this test binary.

fn main() {
    modchaos::testing::main("scenarios");
}
