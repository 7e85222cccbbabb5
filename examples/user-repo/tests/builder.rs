//! A scenario written in Rust instead of YAML: the same model, the same checks.

use modchaos::testing::{Expect, Fault, Host, Recover, Request, Run, ScenarioBuilder, assert_passed, json, run};
use modchaos::vocab::Category;

#[tokio::test]
async fn a_reset_mid_zip_is_fixed_by_a_retry() {
    let scenario = ScenarioBuilder::new("artifact proxy resets the zip download once")
        .modules("fixtures")
        .host(
            "artifacts.team.example",
            Host::goproxy().fault(Fault::action("reset", json!({"after_bytes": 100})).path("*.zip").first(1)),
        )
        .env("GOPROXY", "https://artifacts.team.example")
        .run(Run::modules(["example.com/team/widget@v1.4.0"]))
        .expect(Expect::failure().diagnosis(Category::NetReset))
        .recover(
            Recover::playbook("retry")
                .expect(Expect::success().verified(true).request(Request::to("artifacts.team.example").path("*.zip").count(1))),
        )
        .build()
        .expect("the scenario is valid");
    assert_passed(&run(&scenario).await);
}

#[test]
fn a_mistake_is_reported_with_its_position() {
    let error = ScenarioBuilder::new("typo")
        .expect(Expect::failure().diagnosis("proxy.server_eror"))
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("did you mean `proxy.server_error`?"), "{error}");
}
