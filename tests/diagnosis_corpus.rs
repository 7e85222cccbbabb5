//! Diagnosis accuracy on the labelled corpus of real go outputs (`tests/corpus/`,
//! captured by `examples/capture_corpus.rs` from real go runs, with at least two go
//! versions). Each case is diagnosed from what a user would have — the log, the
//! configuration, the exit status, the module cache — once as go printed it and once
//! wrapped the way a CI system shows it (timestamps, colours, other tools' lines). The
//! test prints the top-1 accuracy per category and overall and requires:
//! - at least 95 % overall, plain and wrapped;
//! - no confident wrong answer on the `unknown` and `none` sets (a failure category with
//!   medium or high confidence);
//! - every category of DESIGN §2 present, and at least two go versions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use modchaos::corpus::{Case, CiStyle, ci_wrap};
use modchaos::diagnose::{Category, Confidence, diagnose};

fn cases() -> Vec<(PathBuf, Case)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the corpus is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "txt") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a readable case");
            let case = Case::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, case)
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    right: usize,
    total: usize,
}

#[test]
fn diagnosis_accuracy_on_real_go_outputs() {
    let cases = cases();
    assert!(cases.len() > 100, "the corpus is too small: {} cases", cases.len());
    let mut plain: BTreeMap<Category, Tally> = BTreeMap::new();
    let mut wrapped = Tally::default();
    let mut wrong = Vec::new();
    let mut confident_wrong = Vec::new();
    let mut versions = std::collections::BTreeSet::new();
    for (i, (path, case)) in cases.iter().enumerate() {
        if case.go != "none" {
            versions.insert(case.go.split('.').take(2).collect::<Vec<_>>().join("."));
        }
        let name = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path).display().to_string();
        let diagnosis = diagnose(&case.evidence(&case.log()));
        let tally = plain.entry(case.label).or_default();
        tally.total += 1;
        if diagnosis.category == case.label {
            tally.right += 1;
        } else {
            wrong.push(format!("{name}: expected {}, got {} ({})", case.label, diagnosis.category, diagnosis.summary));
        }
        let safe_label = matches!(case.label, Category::Unknown | Category::None);
        let failure_verdict = !matches!(diagnosis.category, Category::Unknown | Category::None);
        if safe_label && failure_verdict && diagnosis.confidence >= Confidence::Medium {
            confident_wrong
                .push(format!("{name}: {} ({:?}) on a {} case", diagnosis.category, diagnosis.confidence, case.label));
        }
        let style = CiStyle::ALL[i % CiStyle::ALL.len()];
        let in_ci = diagnose(&case.evidence(&ci_wrap(&case.log(), style)));
        wrapped.total += 1;
        if in_ci.category == case.label {
            wrapped.right += 1;
        } else {
            wrong.push(format!("{name} in a {style:?} log: expected {}, got {}", case.label, in_ci.category));
        }
    }
    let right: usize = plain.values().map(|t| t.right).sum();
    let total: usize = plain.values().map(|t| t.total).sum();
    let mut report = format!(
        "\ndiagnosis accuracy on {total} real go outputs ({}):\n",
        versions.iter().cloned().collect::<Vec<_>>().join(", ")
    );
    for (category, t) in &plain {
        report += &format!(
            "  {:<24} {:>3}/{:<3} {:>6.1}%\n",
            category.id(),
            t.right,
            t.total,
            100.0 * t.right as f64 / t.total as f64
        );
    }
    let overall = 100.0 * right as f64 / total as f64;
    let in_ci = 100.0 * wrapped.right as f64 / wrapped.total as f64;
    report += &format!("  {:<24} {right:>3}/{total:<3} {overall:>6.1}%\n", "overall");
    report += &format!("  {:<24} {:>3}/{:<3} {in_ci:>6.1}%\n", "wrapped in CI logs", wrapped.right, wrapped.total);
    eprintln!("{report}");
    for w in &wrong {
        eprintln!("  miss: {w}");
    }
    assert!(
        confident_wrong.is_empty(),
        "confident wrong answers on the unknown/none sets:\n{}",
        confident_wrong.join("\n")
    );
    assert!(overall >= 95.0, "overall top-1 accuracy {overall:.1}% < 95%{report}");
    assert!(in_ci >= 95.0, "accuracy on CI-wrapped logs {in_ci:.1}% < 95%{report}");
    let missing: Vec<&str> = Category::ALL.iter().filter(|c| !plain.contains_key(c)).map(|c| c.id()).collect();
    assert!(missing.is_empty(), "categories without a case in the corpus: {missing:?}");
    assert!(versions.len() >= 2, "the corpus covers only {versions:?}");
}
