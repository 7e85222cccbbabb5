//! `modchaos repro` on logs modchaos did not make: every case of the corpus's `outside/`
//! (real go against servers that are not modchaos's) and `public/` (logs from issue
//! threads) parts is handed to `repro` as a user would hand it in — the configuration
//! lines the log shows, then go's output; when `repro` finds nothing to reproduce there
//! and the case carries what `modchaos doctor --json` would add (exit status, module
//! cache), that JSON instead — and every scenario written runs against the real go in
//! a sealed world.
//!
//! Per part and split (the corpus's dev and released thirds and its held-out third, see
//! `tests/diagnosis_corpus.rs`) it prints how many cases got a scenario, how many of
//! those scenarios load, how many reproduce what `repro` diagnosed (the run passes and
//! is diagnosed as the log was), and how many reproduce the case's label (the cause the
//! case establishes, end to end: diagnosis and reproduction both right). Failures are
//! named for the tuned-on thirds only; the held-out part reports aggregates alone, as the
//! diagnosis test does.
//!
//! And for every category `repro` supports, a case of the `fakes/` part (real go 1.26
//! against modchaos's own fakes) whose log `repro` diagnoses as that category must give
//! a scenario that runs and is diagnosed so. All of them run as one suite.
//!
//! It also prints how close each run comes to the log it came from: whether go's error
//! ends in the log's words, and whether it names the log's module (a scenario can pass on
//! the category alone while go fails otherwise). `MODCHAOS_REPRO_FIDELITY=1` names the
//! tuned-on cases that miss.
//!
//! The test fails when a generated scenario does not load (on any part: `repro` must
//! never write a file `run` refuses), when a category does not reproduce as itself, or
//! when the share of scenarios that reproduce what was diagnosed, or a closeness figure,
//! falls below its floor on a part.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use modchaos::corpus::{Case, Part, Split, recipe};
use modchaos::diagnose::Category;
use modchaos::gobin::GoBinary;
use modchaos::judge::Status;
use modchaos::runner::RunOptions;
use modchaos::scenario::{LoadContext, Scenario, parse};
use modchaos::suite::{Parallelism, SuiteOptions, run_suite};
use modchaos::vocab::evidence::Source;

/// Every case file of `part`, as paths relative to `tests/corpus/`.
fn case_files(root: &Path, part: Part) -> Vec<String> {
    let mut files = modchaos::corpus::case_files(root).expect("the corpus is readable");
    files.retain(|relative| Part::of(relative) == Some(part));
    files
}

/// `repro` on what a user hands in: the log with the configuration it shows, or, when
/// `repro` finds nothing to reproduce there and the case carries what `modchaos doctor
/// --json` adds (exit status, module cache), that JSON evidence.
fn repro_as_handed_in(case: &Case, origin: &str) -> Option<modchaos::repro::Repro> {
    let mut log: String = case.env.iter().map(|(k, v)| format!("{k}='{v}'\n")).collect();
    log.push_str(&case.log());
    match modchaos::repro::repro(&log, origin) {
        Ok(repro) => Some(repro),
        Err(_) if case.exit.is_none() && case.cache.is_none() => None,
        Err(_) => {
            let doctor = serde_json::json!({ "evidence": case.evidence(&case.log()) }).to_string();
            modchaos::repro::repro(&doctor, origin).ok()
        }
    }
}

/// The file name a written scenario runs under: a hash of its text without the
/// description (which names the case), so that cases giving the same scenario share one
/// run and remembered durations find it again.
fn scenario_name(yaml: &str) -> String {
    let body: String = yaml.lines().filter(|l| !l.starts_with("about:")).collect::<Vec<_>>().join("\n");
    format!("repro-{:016x}.yaml", modchaos::corpus::fnv1a(body.as_bytes()))
}

/// The words go's error ends in (`410 Gone`, `connection refused`, `certificate signed by
/// unknown authority`): the last `: `-separated part of the first line of go's error
/// `evidence` that is no stack's head, digits read as one `#` (a time, an address) and
/// case ignored. `None` when that part is no phrase of go's or the system's but a name
/// the log quotes (a URL, a module path, a hash), which says nothing of how go failed.
fn final_words(evidence: &str) -> Option<String> {
    // The line that ends go's error: not a stack's head (`example.com/app imports`, `…:`).
    let line = evidence
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.ends_with(':') && !l.ends_with(" imports") && !l.ends_with(" requires"))?;
    let parts: Vec<&str> = line.split(": ").filter(|s| !s.trim().is_empty()).collect();
    let words =
        |part: &str| part.trim().trim_end_matches(['.', ')', ' ']).trim_matches(['"', '\'', '`']).trim().to_string();
    let mut last = words(parts.last()?);
    // A bare status (`returned error: 403`) is said with what it answers.
    if last.chars().filter(|c| c.is_alphabetic()).count() < 3 && parts.len() > 1 {
        last = format!("{}: {last}", words(parts[parts.len() - 2]));
    }
    let quoted_name = last.contains("://")
        || last.contains('@')
        || last.starts_with(['#', '/', '^', '('])
        || last.starts_with("h1:")
        || !last.contains(' ') && (last.contains('.') || last.contains('/') && last != "i/o");
    if last.chars().filter(|c| c.is_alphabetic()).count() < 3 || quoted_name {
        return None;
    }
    Some(normalized(&last))
}

/// `text` lower-cased, every run of digits one `#`.
fn normalized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !out.ends_with('#') {
                out.push('#');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The module paths `evidence` names as go names a module version (`path@v…`), not
/// inside a URL or a file path (`/lookup/path@v…`, `/@v/…`).
fn modules_named(evidence: &str) -> Vec<String> {
    static MODULE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"([a-z0-9][A-Za-z0-9._~-]*\.[A-Za-z0-9._~/!-]*?)@v[0-9]").expect("compiles")
    });
    let mut named: Vec<String> = MODULE
        .captures_iter(evidence)
        .filter_map(|c| c.get(1))
        .filter(|m| !evidence[..m.start()].ends_with(['/', '.', '-', '_', '~']))
        .map(|m| m.as_str().to_string())
        .collect();
    named.sort();
    named.dedup();
    named
}

/// `n` of `of` in per cent (0 of nothing is 0 %).
fn pct(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { 100.0 * n as f64 / of as f64 }
}

/// How the tables name a split.
fn split_name(split: Split) -> &'static str {
    match split {
        Split::HeldOut => "held out",
        Split::Released => "released",
        _ => "dev",
    }
}

/// A case handed to `repro`, and what it diagnosed.
struct Handed {
    part: Part,
    split: Split,
    label: Category,
    diagnosed: Category,
    /// The case file, relative to `tests/corpus/`.
    relative: String,
    /// A held-out outside case whose recipe has no tuned-on case.
    unseen: bool,
    /// The words go's error ends in, as the log shows them ([`final_words`]).
    words: Option<String>,
    /// The module paths the log's evidence names ([`modules_named`]).
    modules: Vec<String>,
}

/// One part's and split's way through `repro` and the run.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    cases: usize,
    /// Cases whose label is a category `repro` can reproduce.
    reproducible: usize,
    written: usize,
    as_diagnosed: usize,
    as_labelled: usize,
    /// Scenarios written for a log whose go error ends in words of go's or the system's.
    worded: usize,
    /// Of those, runs whose go output holds the same words.
    same_words: usize,
    /// Scenarios written for a log whose evidence names a module version.
    with_module: usize,
    /// Of those, runs whose go output names one of the log's modules.
    same_module: usize,
}

/// Least share (%) of the scenarios written that must reproduce what was diagnosed: 95 %
/// where `repro` was tuned (the dev and released thirds); on the held-out parts the last measurement
/// less one scenario, since each is a real go run against real timeouts (raised when
/// `repro` improves, never lowered to make a run pass). Measurements: before `repro` was
/// changed, outside 150/157 (95.5 %) and public 183/217 (84.3 %); after the changes
/// tuned on the dev thirds (and the diagnosis rules of the eighth corpus measurement),
/// outside 158/158 and public 211/219 (96.3 %); after a review's fixes (found with made-up
/// logs, not corpus cases), outside 158/158 and public 216/219 (98.6 %). Since half of
/// those held-out cases was released for tuning ([`Split::Released`]), the held-out third
/// left, measured before any change: outside 73/73, public 127/128 (99.2 %); after the
/// diagnosis rules and `repro` changes written from the released third: outside 74/74,
/// public 134/134; with `out9`'s and `pub9`'s cases: outside 85/85, public 143/144 (99.3 %);
/// with `out10`'s and `pub10`'s: outside 101/101, public 149/150 (99.3 %); with `out11`'s and
/// `pub11`'s: outside 108/108, public 155/156 (99.4 %); with `pub12`'s, `out12`'s,
/// `pub13`'s and `pub14`'s: outside 125/125, public 184/185 (99.5 %); at the fifty-first
/// corpus measurement (`pub19`, `pub20` and `pub21` joined): outside 216/216, public 236/238
/// (99.2 %); at the fifty-fourth (`pub22` joined): outside 216/216, public 242/244 (99.2 %);
/// at the fifty-sixth (`pub23` joined): outside 216/216, public 245/247 (99.2 %); at the
/// fifty-seventh (`pub24` joined): outside 216/216, public 258/260 (99.2 %); at the
/// fifty-eighth (`pub25` joined): outside 216/216, public 259/261 (99.2 %); at the
/// fifty-ninth (a review's fixes): outside 216/216, public 260/262 (99.2 %); at the
/// sixtieth (`pub26` joined, none of it held out): the same; at the sixty-first (`pub27`
/// joined): outside 216/216, public 269/271 (99.3 %); at the sixty-second (no scenario
/// for git over ssh, which the fakes cannot serve): outside 216/216, public 267/269; at the
/// sixty-fourth (`pub28` joined, after its rules): outside 216/216, public 273/275; at the
/// sixty-fifth (`pub29` joined, none of it reproducible and held out; a version query
/// asked for as the log quotes it): the same; at the sixty-sixth (a failed toolchain switch
/// reproduced as a switch go tries, refused where no fake can reproduce it): outside
/// 214/214 written, public 273/275 — two held-out outside cases no longer get a scenario
/// (they had passed on the category alone, with another error of go's); with a trace-only
/// log's module named from its failed fetch, public dev 262/266 (one trace-only case's v2
/// pseudo-version without `/v2` fails its recovery: the mirror cannot serve it either);
/// at the sixty-seventh (`repro` made to fail in the log's words): public held out 272/275
/// (98.9 %), one fewer, not looked at.
fn floor(part: Part, split: Split) -> f64 {
    match (part, split) {
        (Part::Outside, Split::HeldOut) => 98.6,
        (Part::Public, Split::HeldOut) => 98.6,
        _ => 95.0,
    }
}

/// Least share (%) of the runs whose go error ends in the log's words, and of those
/// naming one of the log's modules ([`final_words`], [`modules_named`]), per part and
/// split: the last measurement less about three points (five or six runs), since each
/// is a real go run and a reset or a timeout races go's reads: under the load of the
/// whole `cargo test`, outside held out moved by three runs from one run to the next.
/// Measurements (words; modules), before `repro` was changed for them: outside dev
/// 106/197, released 121/205, held out 94/180 (52.2 %); public dev 137/237, released
/// 171/272, held out 139/244 (57.0 %); modules outside 162/170, 167/183, held out 153/161
/// (95.0 %); public 147/161, 158/173, held out 159/170 (93.5 %). After the changes tuned on
/// the dev and released thirds, and a certificate valid for the names the log quotes (the
/// sixty-seventh measurement): outside dev 142/197 (72.1 %), released 166/205 (81.0 %),
/// held out 124/180 (68.9 %); public dev 159/237 (67.1 %), released 194/272 (71.3 %), held
/// out 176/244 (72.1 %); modules outside 163/170, 171/183, held out 153/161; public 147/161,
/// 158/173, held out 159/170. After the faults the fakes lacked (a connection closed
/// mid-body, a lame referral, a resolver that is down, a go-get page behind a login), the
/// sixty-eighth: outside dev 157/197 (79.7 %), released 179/205 (87.3 %), held out 131/180
/// (72.8 %); public dev 167/237 (70.5 %), released 201/272 (73.9 %), held out 177/244
/// (72.5 %); modules outside 166/170, 174/183, held out 153/161; public as before. After a
/// host named github.com said `Repository not found.` and a plain-http GOPROXY went
/// through HTTP_PROXY, the sixty-ninth: outside dev 157, released 181/205 (88.3 %), held out
/// 129/180 (71.7 %: two fewer, within a run's noise, not looked at); public dev 172/237
/// (72.6 %), released 205/272 (75.4 %), held out 177/244; modules as before. With a
/// certificate for IP addresses only, the seventieth: outside dev 160/197 (81.2 %), held
/// out 132/180 (73.3 %); public dev 173/237 (73.0 %); the rest as at the sixty-ninth.
fn closeness_floor(part: Part, split: Split) -> (f64, f64) {
    match (part, split) {
        (Part::Outside, Split::HeldOut) => (68.5, 93.0),
        (Part::Outside, Split::Released) => (85.0, 92.0),
        (Part::Outside, _) => (78.0, 94.5),
        (Part::Public, Split::HeldOut) => (69.5, 91.5),
        (Part::Public, Split::Released) => (72.5, 89.5),
        (Part::Public, _) => (69.5, 89.5),
        _ => (0.0, 0.0),
    }
}

#[test]
fn repro_reproduces_logs_modchaos_did_not_make() {
    let Ok(go) = GoBinary::find(None) else {
        eprintln!("\n*** repro on the outside and public corpus is SKIPPED: no go toolchain found ***\n");
        return;
    };
    let options = match RunOptions::sealed(go.clone(), Path::new(env!("CARGO_BIN_EXE_modchaos"))) {
        Ok(o) => o,
        Err(why) => {
            eprintln!(
                "\n*** repro on the outside and public corpus is SKIPPED: sealed networking is unavailable: {why} ***\n"
            );
            return;
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let ctx = LoadContext::new(Some(go.clone()));
    let mut tallies: BTreeMap<(Part, Split), Tally> = BTreeMap::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    // Per scenario file: the cases it reproduces (part, split, label, diagnosed, case
    // path). Cases that give the same scenario (the same failure under three go
    // versions, say) share one run; files are named by their text, so the durations
    // remembered from earlier runs find them again.
    let mut cases: BTreeMap<String, Vec<Handed>> = BTreeMap::new();
    let mut unloadable = Vec::new();
    // As in tests/diagnosis_corpus.rs: runs made while changing `repro` leave the
    // held-out parts out entirely.
    let tuning = std::env::var_os("MODCHAOS_CORPUS_TUNING").is_some_and(|v| !v.is_empty() && v != "0");
    // As in tests/diagnosis_corpus.rs: outside captures a recipe under several go
    // versions and the split takes files one by one, so a held-out case may have a
    // tuned-on sibling; `unseen` counts the held-out cases whose recipe has none.
    let dev_recipes: std::collections::BTreeSet<String> = case_files(&root, Part::Outside)
        .into_iter()
        .filter(|f| Split::of(f).is_some_and(Split::tuned_on))
        .filter_map(|f| recipe(&f).map(str::to_string))
        .collect();
    let mut unseen = Tally::default();
    for part in [Part::Outside, Part::Public] {
        for relative in case_files(&root, part) {
            let split = Split::of(&relative).expect("a corpus path");
            if tuning && split == Split::HeldOut {
                continue;
            }
            let is_unseen = split == Split::HeldOut && recipe(&relative).is_some_and(|r| !dev_recipes.contains(r));
            let tally = tallies.entry((part, split)).or_default();
            let text = std::fs::read_to_string(root.join(&relative)).expect("a readable case");
            let case = Case::parse(&text).unwrap_or_else(|e| panic!("{relative}: {e}"));
            let reproducible = usize::from(modchaos::repro::SUPPORTED.contains(&case.label));
            tally.cases += 1;
            tally.reproducible += reproducible;
            if is_unseen {
                unseen.cases += 1;
                unseen.reproducible += reproducible;
            }
            let Some(repro) = repro_as_handed_in(&case, &relative) else { continue };
            tally.written += 1;
            unseen.written += usize::from(is_unseen);
            let name = scenario_name(&repro.yaml);
            let this = Handed {
                part,
                split,
                label: case.label,
                diagnosed: repro.diagnosis.category,
                relative: relative.clone(),
                unseen: is_unseen,
                // go's own error line (not a trace, exit or configuration line).
                words: repro
                    .diagnosis
                    .evidence
                    .iter()
                    .find(|e| matches!(e.source, Source::Stderr | Source::Json) && !e.text.starts_with("# "))
                    .and_then(|e| final_words(&e.text)),
                modules: repro.diagnosis.evidence.iter().flat_map(|e| modules_named(&e.text)).collect(),
            };
            if let Some(sharing) = cases.get_mut(&name) {
                sharing.push(this);
                continue;
            }
            match parse(Path::new(&name), repro.yaml.clone(), &ctx) {
                Ok(scenario) => {
                    cases.insert(name, vec![this]);
                    scenarios.push(scenario);
                }
                Err(e) => unloadable.push(match split {
                    Split::HeldOut => format!("a held-out {} case: {}", part.dir(), e.problems().len()),
                    _ => format!("{relative}: {e}\n{}", repro.yaml),
                }),
            }
        }
    }
    // Every category `repro` supports, from the fakes part (real go against modchaos's
    // fakes, go 1.26): the first case of the category that `repro` diagnoses as that
    // category must give a scenario that runs and is diagnosed so.
    let mut per_category: Vec<(Category, Result<String, String>)> = Vec::new();
    for &category in modchaos::repro::SUPPORTED {
        let dir = root.join("fakes/go1.26").join(category.id());
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
        files.sort();
        let found = files.iter().find_map(|file| {
            let case = Case::parse(&std::fs::read_to_string(file).ok()?).ok()?;
            let repro = repro_as_handed_in(&case, &file.display().to_string())?;
            (repro.diagnosis.category == category).then_some((file.clone(), repro))
        });
        let Some((file, repro)) = found else {
            per_category
                .push((category, Err(format!("no case in {} is diagnosed as {category} by repro", dir.display()))));
            continue;
        };
        let name = scenario_name(&repro.yaml);
        if !cases.contains_key(&name) {
            match parse(Path::new(&name), repro.yaml.clone(), &ctx) {
                Ok(scenario) => {
                    cases.insert(name.clone(), Vec::new());
                    scenarios.push(scenario);
                }
                Err(e) => {
                    unloadable.push(format!("{}: {e}\n{}", file.display(), repro.yaml));
                    continue;
                }
            }
        }
        per_category.push((category, Ok(name)));
    }
    let suite = SuiteOptions {
        // Most of these scenarios wait (go's timeouts), so more run at once than a
        // suite's default: the CPUs are still shared out by what each one uses.
        parallelism: match Parallelism::for_this_machine() {
            Parallelism::Adaptive { cpus, .. } => Parallelism::Adaptive { cpus, max: 32 },
            fixed => fixed,
        },
        history: modchaos::fsutil::cargo_target_tmp().map(|t| t.join("repro-corpus-durations.json")),
        filter: None,
        runs: vec![options],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let started = std::time::Instant::now();
    let result = runtime.block_on(run_suite(scenarios, Vec::new(), &suite, Arc::new(modchaos::runner::NoEvents)));
    let took = started.elapsed();
    let mut misses: Vec<String> = Vec::new();
    // `MODCHAOS_REPRO_FIDELITY=1` names the tuned-on cases whose run did not end in the
    // log's words or name its module.
    let verbose_fidelity = std::env::var_os("MODCHAOS_REPRO_FIDELITY").is_some_and(|v| !v.is_empty() && v != "0");
    let mut fidelity_misses: Vec<String> = Vec::new();
    for report in &result.reports {
        let Some(sharing) = cases.get(&report.file) else { continue };
        let got = report.diagnosis().map(|d| d.category);
        // go's errors in the run, as the diagnosis reads them: its stderr without the
        // `-x` trace, and the `-json` records' errors (stdout), in go's own words.
        let said = report
            .run
            .as_ref()
            .map(|r| r.evidence.errors().into_iter().map(|e| e.text).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        let said_normalized = normalized(&said);
        for h in sharing {
            let tally = tallies.get_mut(&(h.part, h.split)).expect("counted");
            if let Some(words) = &h.words {
                tally.worded += 1;
                let same = said_normalized.contains(words.as_str());
                tally.same_words += usize::from(same);
                if !same && h.split.tuned_on() && verbose_fidelity {
                    let ran = said.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
                    fidelity_misses.push(format!(
                        "{}: the log ends {words:?}, the run {:?}",
                        h.relative,
                        ran.chars().take(160).collect::<String>()
                    ));
                }
            }
            if !h.modules.is_empty() {
                tally.with_module += 1;
                let same = h.modules.iter().any(|m| said.contains(&format!("{m}@")));
                tally.same_module += usize::from(same);
                if !same && h.split.tuned_on() && verbose_fidelity {
                    fidelity_misses.push(format!("{}: the log names {:?}", h.relative, h.modules));
                }
            }
            if report.status == Status::Passed && got == Some(h.diagnosed) {
                tally.as_diagnosed += 1;
                unseen.as_diagnosed += usize::from(h.unseen);
                if h.diagnosed == h.label {
                    tally.as_labelled += 1;
                    unseen.as_labelled += usize::from(h.unseen);
                }
            } else if h.split.tuned_on() {
                misses.push(format!(
                    "{}: diagnosed {}, the scenario ran {:?} as {got:?}",
                    h.relative, h.diagnosed, report.status
                ));
            }
        }
    }
    let mut text = format!(
        "repro on logs modchaos did not make ({} scenarios run in {:.0?}; held-out parts: aggregates only):\n",
        result.reports.len(),
        took
    );
    text += "    part (split)        cases  reproducible  scenario written  reproduces the diagnosis  reproduces the label\n";
    text += "                               (label)                         (of scenarios written)    (of reproducible labels)\n";
    let row = |name: String, t: &Tally| {
        format!(
            "    {:<19} {:>5}  {:>12}  {:>16}  {:>5} ({:>5.1}%)          {:>5} ({:>5.1}%)\n",
            name,
            t.cases,
            t.reproducible,
            t.written,
            t.as_diagnosed,
            pct(t.as_diagnosed, t.written),
            t.as_labelled,
            pct(t.as_labelled, t.reproducible),
        )
    };
    for ((part, split), t) in &tallies {
        text += &row(format!("{} ({})", part.dir(), split_name(*split)), t);
        if *part == Part::Outside && *split == Split::HeldOut {
            text += &row("  recipe unseen".into(), &unseen);
        }
    }
    let mut categories_failed = Vec::new();
    for (category, run) in &per_category {
        let report = run.as_ref().ok().and_then(|name| result.reports.iter().find(|r| &r.file == name));
        match (run, report) {
            (Err(why), _) => categories_failed.push(why.clone()),
            (Ok(name), None) => categories_failed.push(format!("{category}: {name} did not run")),
            (Ok(_), Some(report)) => {
                let got = report.diagnosis().map(|d| d.category);
                if report.status != Status::Passed || got != Some(*category) {
                    categories_failed.push(format!(
                        "{category}: the scenario from the fakes part ran {:?} as {got:?}\n{}",
                        report.status,
                        modchaos::report::text::failure_details(report)
                    ));
                }
            }
        }
    }
    text += &format!(
        "    fakes (tuned on): {} of {} categories repro supports reproduce as themselves from a go 1.26 case\n",
        per_category.len() - categories_failed.len(),
        per_category.len()
    );
    text += "    how close the run comes to the log: go's error ends in the same words, names the same module\n";
    text += "    part (split)        logs ending in words  the run's too     logs naming a module  the run's too\n";
    let closeness = |name: String, t: &Tally| {
        format!(
            "    {:<19} {:>20}  {:>5} ({:>5.1}%)  {:>20}  {:>5} ({:>5.1}%)\n",
            name,
            t.worded,
            t.same_words,
            pct(t.same_words, t.worded),
            t.with_module,
            t.same_module,
            pct(t.same_module, t.with_module),
        )
    };
    for ((part, split), t) in &tallies {
        text += &closeness(format!("{} ({})", part.dir(), split_name(*split)), t);
    }
    for miss in &misses {
        text += &format!("  not reproduced (tuned-on thirds): {miss}\n");
    }
    for miss in &fidelity_misses {
        text += &format!("  not as the log (tuned-on thirds): {miss}\n");
    }
    println!("{text}");
    assert!(unloadable.is_empty(), "repro wrote scenarios that do not load:\n{}", unloadable.join("\n"));
    assert!(categories_failed.is_empty(), "{}", categories_failed.join("\n"));
    for ((part, split), t) in &tallies {
        let (words, module) = closeness_floor(*part, *split);
        let share = |n: usize, of: usize| if of == 0 { 100.0 } else { 100.0 * n as f64 / of as f64 };
        assert!(
            share(t.same_words, t.worded) + 1e-9 >= words,
            "{} ({split:?}): {:.1}% of the runs end in the log's words, below the floor of {words}% \
             (MODCHAOS_REPRO_FIDELITY=1 names the tuned-on cases that miss)",
            part.dir(),
            share(t.same_words, t.worded)
        );
        assert!(
            share(t.same_module, t.with_module) + 1e-9 >= module,
            "{} ({split:?}): {:.1}% of the runs name the log's module, below the floor of {module}%",
            part.dir(),
            share(t.same_module, t.with_module)
        );
    }
    for ((part, split), t) in &tallies {
        // A part where repro wrote nothing for cases it could reproduce has failed too.
        let share = match (t.written, t.reproducible) {
            (0, 0) => 100.0,
            (0, _) => 0.0,
            (written, _) => 100.0 * t.as_diagnosed as f64 / written as f64,
        };
        assert!(
            share + 1e-9 >= floor(*part, *split),
            "{} ({split:?}): {share:.1}% of the scenarios written reproduce what was diagnosed, below the floor of {}%",
            part.dir(),
            floor(*part, *split)
        );
    }
}
