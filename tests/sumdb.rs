//! The fake checksum database against go's own verifier with a log large enough to need
//! tiles at two levels: any mistake in hashing, tiles or signatures makes go fail loudly.

use std::path::Path;
use std::sync::Arc;

use modchaos::fixture::txtar::Archive;
use modchaos::fixture::{ModuleFixture, ModuleSet};
use modchaos::gobin::GoBinary;
use modchaos::judge::run_scenario;
use modchaos::runner::{NoEvents, RunOptions};
use modchaos::scenario::{LoadContext, parse};

fn synthetic(count: usize) -> ModuleSet {
    ModuleSet::from_modules((0..count).map(|i| {
        let path = format!("gen.example/m{i:04}");
        let text = format!("-- .mod --\nmodule {path}\n\ngo 1.21\n-- go.mod --\nmodule {path}\n\ngo 1.21\n-- m.go --\npackage m\n\nconst N = {i}\n");
        Arc::new(ModuleFixture::from_archive(&path, "v1.0.0", Path::new("generated.txt"), &Archive::parse(text.as_bytes())).unwrap())
    }))
    .unwrap()
}

#[test]
fn go_verifies_records_deep_in_a_700_record_log() {
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("*** SKIPPED: no go toolchain found ***");
        return;
    };
    let picks = ["gen.example/m0003@v1.0.0", "gen.example/m0300@v1.0.0", "gen.example/m0650@v1.0.0"];
    let yaml = format!(
        "name: big log\nhosts:\n  proxy.gen.example:\n    goproxy: {{}}\n  sum.gen.example:\n    sumdb: {{}}\nrun:\n  modules: [{}]\nexpect:\n  exit: success\n  verified: true\n",
        picks.join(", ")
    );
    let mut scenario =
        parse(Path::new("big-log.yaml"), yaml, &LoadContext::new(Some(go.clone()))).unwrap_or_else(|e| panic!("{e}"));
    scenario.modules = synthetic(700);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report =
        runtime.block_on(run_scenario(&scenario, &RunOptions::open(go, "this test is about open mode"), &NoEvents));
    assert!(
        report.failures.is_empty() && report.reason.is_none(),
        "{}",
        modchaos::report::text::failure_details(&report)
    );
    let requests = &report.run.as_ref().unwrap().evidence.requests;
    let tiles: Vec<&str> = requests
        .iter()
        .filter(|r| r.host == "sum.gen.example" && r.path.starts_with("/tile/"))
        .map(|r| r.path.as_str())
        .collect();
    eprintln!("go fetched tiles: {tiles:?}");
    assert!(tiles.iter().any(|t| t.starts_with("/tile/8/1/")), "a 700-record log needs a level-1 tile: {tiles:?}");
    assert!(tiles.iter().any(|t| t.starts_with("/tile/8/0/002")), "the last, partial level-0 tile: {tiles:?}");
    assert_eq!(requests.iter().filter(|r| r.path.starts_with("/lookup/")).count(), picks.len());
}
