//! The HTML report in a real browser: Debian's chromium, headless, loads the report of a
//! real run and the test reads the DOM it built — the timeline has a bar per request
//! for each host, the faulted request is marked, scenario names and go output holding
//! `<script>` are text and never elements — and the browser's own network log shows the
//! page asked for nothing outside the file. A control page that does load remote
//! resources proves the network check sees them. The browser runs hermetically: a
//! temporary profile and HOME, a proxy on a dead loopback port, every name resolving
//! to nothing. Without chromium (`$MODCHAOS_CHROMIUM`, or `chromium`,
//! `chromium-browser`, `google-chrome` on PATH) the test is skipped, loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn modchaos() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("modchaos").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MODCHAOS_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// What the browser made of a page: the DOM it built, and the URLs the page itself
/// asked the network for.
struct Loaded {
    dom: String,
    page_requests: Vec<String>,
    /// Requests of the browser's own (updates, time, accounts), which the dead proxy
    /// stopped; said, not judged.
    browser_requests: Vec<String>,
}

/// Loads `page` in headless chromium and dumps its DOM, with a network log.
fn load(chromium: &Path, page: &Path, scratch: &Path) -> Loaded {
    let profile = tempfile::tempdir_in(scratch).unwrap();
    let net_log = profile.path().join("netlog.json");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            // Nothing may leave the machine, whoever asks: a proxy on a dead port, and
            // no name resolves.
            "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", profile.path())
        .env("XDG_CONFIG_HOME", profile.path().join("config"))
        .env("XDG_CACHE_HOME", profile.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = reader.join().unwrap();
    let stderr = errors.join().unwrap();
    assert!(status.success() && dom.contains("</html>"), "chromium failed ({status}):\n{stderr}\n{dom}");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&net_log).expect("chromium wrote its net log"))
        .expect("the net log is JSON");
    let (page_requests, browser_requests) = requests(&log);
    Loaded { dom, page_requests, browser_requests }
}

/// The URLs of the net log's requests that are not local (file:, data:, about:, …),
/// split into those the page made (its network isolation key is the file:// site, its
/// initiator the file's opaque origin) and the browser's own.
fn requests(log: &Value) -> (Vec<String>, Vec<String>) {
    let types = log["constants"]["logEventTypes"].as_object().expect("net log constants");
    let start_job = types["URL_REQUEST_START_JOB"].as_u64().unwrap();
    let (mut page, mut browser) = (Vec::new(), Vec::new());
    for event in log["events"].as_array().expect("net log events") {
        let params = &event["params"];
        let Some(url) = params["url"].as_str() else { continue };
        if event["type"].as_u64() != Some(start_job)
            || ["file:", "data:", "about:", "blob:", "chrome:"].iter().any(|s| url.starts_with(s))
        {
            continue;
        }
        let key = params["network_isolation_key"].as_str().unwrap_or("");
        let initiator = params["initiator"].as_str().unwrap_or("");
        if key.contains("file://") || initiator == "null" || initiator.starts_with("file:") {
            page.push(url.to_string());
        } else {
            browser.push(url.to_string());
        }
    }
    (page, browser)
}

/// The part of the DOM that is the section of the scenario named `name` (as HTML).
fn section<'a>(dom: &'a str, name_html: &str) -> &'a str {
    let marker = format!("<span class=\"name\">{name_html}</span>");
    let at = dom.find(&marker).unwrap_or_else(|| panic!("no section for {name_html}"));
    let start = dom[..at].rfind("<details class=\"scenario\"").unwrap();
    let end = dom[at..].find("<details class=\"scenario\"").map_or(dom.len(), |e| at + e);
    &dom[start..end]
}

/// Occurrences of `needle`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_report_renders_the_timeline_escapes_everything_and_requests_nothing() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "*** SKIPPED: no chromium (set MODCHAOS_CHROMIUM, or `apt-get install chromium`): the HTML report was not checked in a browser ***"
        );
        return;
    };
    if modchaos::gobin::GoBinary::find(None).is_err() {
        eprintln!("*** SKIPPED: no go toolchain found ***");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/modules");
    // A scenario whose name, go command and proxy answer carry markup: go prints the
    // module path and the proxy's body back.
    let hostile = dir.path().join("hostile.yaml");
    std::fs::write(
        &hostile,
        format!(
            r#"name: "<script>document.title='pwned'</script> & <img src=x onerror=alert(1)> are text"
modules: [{}]
hosts:
  proxy.corp.example:
    goproxy: {{}}
    faults:
      - when: {{path: "/corp.example/lib/@v/*"}}
        respond: {{status: 500, body: "<script>alert('body')</script>"}}
run:
  go: "mod download -x corp.example/lib@v1.0.0 '<script>alert(1)</script>@v1.0.0'"
  timeout: 20s
expect:
  exit: failure
"#,
            fixtures.display()
        ),
    )
    .unwrap();
    let journal = dir.path().join("journal.jsonl");
    let page = dir.path().join("report.html");
    modchaos()
        .args(["run", "scenarios/goproxy-list/500-stops-comma-list.yaml"])
        .arg(&hostile)
        .arg("--json")
        .arg(&journal)
        .arg("--html")
        .arg(&page)
        .assert()
        .success();
    let lines: Vec<Value> =
        std::fs::read_to_string(&journal).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hostile = lines.iter().find(|l| l["name"].as_str().unwrap().starts_with("<script>")).unwrap();
    let output = &hostile["go_commands"][0];
    let output =
        format!("{}{}", output["stdout"]["text"].as_str().unwrap(), output["stderr"]["text"].as_str().unwrap());
    assert!(output.contains("server response: <script>alert('body')</script>"), "go printed the markup back: {output}");
    assert!(
        output.contains("malformed module path \"<script>alert(1)</script>\""),
        "go printed the markup back: {output}"
    );

    // The file asks for nothing outside itself, even where a Content Security Policy
    // would stop it: no src, no href but to its own anchors, no url(), no @import.
    let html = std::fs::read_to_string(&page).unwrap();
    let outside =
        regex::Regex::new(r#"(?i)\b(?:src|href|xlink:href|action)\s*=\s*"(?:[^#"][^"]*)"|url\(|@import"#).unwrap();
    let found: Vec<&str> = outside.find_iter(&html).map(|m| m.as_str()).collect();
    assert!(found.is_empty(), "references outside the file: {found:?}");

    let loaded = load(&chromium, &page, dir.path());
    let dom = &loaded.dom;
    eprintln!(
        "chromium: {} bytes of DOM; {} request(s) by the page, {} of the browser's own (stopped by the dead proxy): {:?}",
        dom.len(),
        loaded.page_requests.len(),
        loaded.browser_requests.len(),
        loaded.browser_requests
    );
    assert!(loaded.page_requests.is_empty(), "the report made requests: {:?}", loaded.page_requests);

    // No script ran or exists: the title is ours, the markup in names and output is text.
    assert_eq!(count(dom, "<script"), 0, "a script element in the DOM");
    assert_eq!(count(dom, "<img"), 0, "an img element in the DOM");
    assert!(dom.contains("<title>modchaos report: modchaos run "), "the title changed: {}", &dom[..dom.len().min(400)]);
    assert!(dom.contains(
        "&lt;script&gt;document.title='pwned'&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; are text"
    ));
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;@v1.0.0"), "the go command as text");
    assert!(dom.contains("malformed module path \"&lt;script&gt;alert(1)&lt;/script&gt;\""), "go's output as text");
    assert!(dom.contains("server response: &lt;script&gt;alert('body')&lt;/script&gt;"), "the proxy's body as text");
    assert!(dom.contains("2 scenario run(s): 2 passed, 0 failed, 0 skipped; 0 invalid file(s)"));

    // The timeline of the comma-list scenario: a bar per request of each host, the
    // faulted one marked, a span per go command, in the SVG the browser built.
    let comma = section(dom, "500 stops a comma list");
    let record = lines.iter().find(|l| l["name"] == "500 stops a comma list").unwrap();
    let requests = record["requests"].as_array().unwrap();
    assert_eq!(count(comma, "<svg class=\"timeline\""), 1);
    for host in ["proxy.corp.example", "mirror.corp.example"] {
        let expected = requests.iter().filter(|r| r["host"] == host).count();
        let bars =
            regex::Regex::new(&format!(r#"<rect class="req [^"]*" data-host="{}""#, regex::escape(host))).unwrap();
        assert!(expected > 0);
        assert_eq!(bars.find_iter(comma).count(), expected, "request bars of {host}");
    }
    // The 500s the fault answered: once in the run, then for each file in the rerun
    // (go falls through to the mirror).
    let faulted = requests.iter().filter(|r| !r["faults"].as_array().unwrap().is_empty()).count();
    assert!(faulted >= 2, "{requests:#?}");
    assert_eq!(count(comma, "<rect class=\"req s5xx fault\" data-host=\"proxy.corp.example\""), faulted);
    assert_eq!(count(comma, "<rect class=\"req s5xx fault\" data-host=\"proxy.corp.example\" data-phase=\"run\""), 1);
    assert_eq!(count(comma, "<rect class=\"cmd "), record["go_commands"].as_array().unwrap().len());
    assert_eq!(count(comma, "<rect class=\"cmd failed\" data-phase=\"run\""), 1);
    for want in ["proxy.server_error", "pipe-separated-goproxy", "replace \",\" by \"|\" in GOPROXY", "The rerun"] {
        assert!(comma.contains(want), "{want} in the section");
    }

    // `modchaos report` makes the same page from the journal.
    let again = dir.path().join("again.html");
    modchaos().arg("report").arg(&journal).arg("--html").arg(&again).assert().success();
    let again = std::fs::read_to_string(&again).unwrap();
    let body = |page: &str| page[page.find("<table class=\"summary\"").unwrap()..].to_string();
    assert_eq!(body(&again), body(&html));
}

#[test]
fn the_network_check_sees_a_page_that_loads_remote_resources() {
    let Some(chromium) = chromium() else {
        eprintln!("*** SKIPPED: no chromium: the network check was not checked ***");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("control.html");
    std::fs::write(
        &page,
        concat!(
            "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"https://cdn.modchaos.invalid/style.css\"></head>",
            "<body><img src=\"http://images.modchaos.invalid/x.png\"></body></html>"
        ),
    )
    .unwrap();
    let loaded = load(&chromium, &page, dir.path());
    let mut seen = loaded.page_requests.clone();
    seen.sort();
    assert_eq!(seen, ["http://images.modchaos.invalid/x.png", "https://cdn.modchaos.invalid/style.css"]);
}
