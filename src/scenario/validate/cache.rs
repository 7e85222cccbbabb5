//! `cache:`: versions seeded into the module cache and the faults that break it.

use crate::fixture::ModuleSet;
use crate::scenario::at::At;
use crate::scenario::checker::Checker;
use crate::scenario::diag::suggest;
use crate::scenario::model::*;
use crate::scenario::raw::*;

/// `path@version` in a cache setting; `known` says whether the fixtures must have it.
pub(super) fn version_ref(
    at: &At<String>,
    modules: Option<&ModuleSet>,
    checker: &mut Checker,
) -> Option<(String, String)> {
    let Some((path, version)) = at.split_once('@').filter(|(p, v)| !p.is_empty() && !v.is_empty()) else {
        checker.problem(
            at.pos,
            format!("`{}` is not path@version", at.value),
            Some("for example corp.example/lib@v1.0.0".into()),
        );
        return None;
    };
    if let Some(set) = modules
        && set.get(path, version).is_none()
    {
        let ids: Vec<String> = set.iter().map(|m| m.id()).collect();
        checker.problem(
            at.pos,
            format!("`{}` is not one of the scenario's modules", at.value),
            Some(suggest(&at.value, ids.iter().map(String::as_str), "modules")),
        );
        return None;
    }
    Some((path.to_string(), version.to_string()))
}

/// A size in bytes: a number, or with KiB/MiB/KB/MB.
pub(super) fn size(at: &At<RawSize>, checker: &mut Checker) -> Option<u64> {
    let text = match &at.value {
        RawQuantity::Number(n) => return Some(*n),
        RawQuantity::Text(t) => t.trim(),
    };
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor = match unit.trim() {
        "" | "B" => Some(1),
        "KiB" => Some(1 << 10),
        "MiB" => Some(1 << 20),
        "KB" | "kB" => Some(1000),
        "MB" => Some(1_000_000),
        _ => None,
    };
    match (number.parse::<u64>(), factor) {
        (Ok(n), Some(f)) => Some(n * f),
        _ => {
            checker.problem(
                at.pos,
                format!("`{text}` is not a size"),
                Some("write 8KiB, 1MiB, or a number of bytes".into()),
            );
            None
        }
    }
}

pub(super) fn cache(raw: Option<&RawCache>, modules: Option<&ModuleSet>, checker: &mut Checker) -> CacheSetup {
    use crate::fault::cache::{CacheFault, Corruption, PartialStage, ReadOnlyScope};
    let Some(raw) = raw else { return CacheSetup::default() };
    let mut setup = CacheSetup::default();
    for entry in &raw.seed {
        if let Some(v) = version_ref(entry, modules, checker) {
            setup.seed.push(v);
        }
    }
    let seeded = setup.seed.clone();
    let needs_seed = |at: &At<String>, fault: &str, checker: &mut Checker| -> Option<(String, String)> {
        let v = version_ref(at, modules, checker)?;
        if !seeded.contains(&v) {
            checker.problem(
                at.pos,
                format!("`{fault}` damages a cached version, but `{}` is not seeded", at.value),
                Some(format!("add it to the cache: seed: [{}]", at.value)),
            );
            return None;
        }
        Some(v)
    };
    for fault in &raw.faults {
        let spec = match &fault.value {
            RawCacheFault::LockHeld(l) => {
                let hold = l.hold.as_ref().map_or(Some(std::time::Duration::from_secs(600)), |h| checker.duration(h));
                let Some(((module, version), hold)) = version_ref(&l.module, None, checker).zip(hold) else { continue };
                // A lock on a version no fixture serves blocks nothing go downloads here
                // (a lock for a module of a proxy that is not modchaos's may be meant).
                if let Some(set) = modules
                    && set.get(&module, &version).is_none()
                {
                    let ids: Vec<String> = set.iter().map(|m| m.id()).collect();
                    checker.warning(
                        l.module.pos,
                        format!(
                            "`{}` is not one of the scenario's modules: go may never wait on its lock",
                            l.module.value
                        ),
                        Some(suggest(&l.module.value, ids.iter().map(String::as_str), "modules")),
                    );
                }
                CacheFaultSpec::Files(CacheFault::LockHeld { module, version, hold })
            }
            RawCacheFault::ReadOnly(r) => CacheFaultSpec::ReadOnly(r.scope.unwrap_or(ReadOnlyScope::Cache)),
            RawCacheFault::RootOwned(r) => {
                CacheFaultSpec::Files(CacheFault::RootOwned { scope: r.scope.unwrap_or_default() })
            }
            RawCacheFault::CorruptZip(c) => {
                let Some((module, version)) = needs_seed(&c.module, "corrupt_zip", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::CorruptZip {
                    module,
                    version,
                    how: c.how.unwrap_or(Corruption::Truncate),
                })
            }
            RawCacheFault::Partial(p) => {
                let Some((module, version)) = needs_seed(&p.module, "partial", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::Partial {
                    module,
                    version,
                    stage: p.stage.unwrap_or(PartialStage::Extraction),
                })
            }
            RawCacheFault::EmptyZiphash(v) => {
                let Some((module, version)) = needs_seed(&v.module, "empty_ziphash", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::EmptyZiphash { module, version })
            }
            RawCacheFault::EmptyGoMod(v) => {
                let Some((module, version)) = needs_seed(&v.module, "empty_go_mod", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::EmptyGoMod { module, version })
            }
            RawCacheFault::MissingZiphash(v) => {
                let Some((module, version)) = needs_seed(&v.module, "missing_ziphash", checker) else { continue };
                CacheFaultSpec::Files(CacheFault::MissingZiphash { module, version })
            }
            RawCacheFault::DiskFull(d) => {
                let Some(bytes) = size(&d.size, checker) else { continue };
                if bytes == 0 {
                    checker.problem(
                        d.size.pos,
                        "a filesystem of size 0 has no limit at all",
                        Some("use a small size like 8KiB".into()),
                    );
                    continue;
                }
                CacheFaultSpec::DiskFull(bytes)
            }
        };
        setup.faults.push(spec);
    }
    setup
}
