//! The corpus's parts by origin and the held-out protocol: which cases the rules may be
//! tuned on, and which only measure them.

/// Where a case comes from: the corpus's top-level folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Real go against modchaos's own fakes (`tests/corpus/fakes/`), plus synthetic
    /// variants written from go's source: the part the rules are tuned on.
    Fakes,
    /// Real go against servers that are not modchaos's (`tests/corpus/outside/`, captured
    /// by the program in `tests/corpus/outside/capture/`).
    Outside,
    /// Cases written from public issue threads (`tests/corpus/public/`, sources in its
    /// `SOURCES.md`).
    Public,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 3] = [Part::Fakes, Part::Outside, Part::Public];

    /// The folder under `tests/corpus/`.
    pub fn dir(self) -> &'static str {
        match self {
            Part::Fakes => "fakes",
            Part::Outside => "outside",
            Part::Public => "public",
        }
    }

    /// The part a path relative to `tests/corpus/` belongs to.
    pub fn of(relative: &str) -> Option<Part> {
        let first = relative.split('/').next()?;
        Part::ALL.into_iter().find(|p| p.dir() == first)
    }
}

/// Whether the rules may be tuned on a case, or it is held out to measure them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// The `fakes` part: tuned on.
    Tuned,
    /// A third of `outside` and `public`: may be read and tuned on.
    Dev,
    /// Half of what was held out until the eleventh measurement (2026-11-26): released to
    /// be read and tuned on, because eight rounds of rules written from the dev third left
    /// the public held-out figure where it was, and only reading misses from outside that
    /// third could show why. Its figures before the release were measured only in
    /// aggregate, as part of the held-out ones.
    Released,
    /// The rest of `outside` and `public` (a third): never read while writing rules,
    /// measured only through the test's aggregate figures.
    HeldOut,
}

impl Split {
    /// The split of the case at `relative`, a path relative to `tests/corpus/` with `/`
    /// separators (`public/net.reset/some-case.txt`): `fakes` is tuned on; in the other
    /// parts a case is in the dev third when the 64-bit FNV-1a hash of that path is a
    /// multiple of 3. Of the rest, a case is [`Split::Released`] when the FNV-1a hash of
    /// `released:` followed by its *recipe* is even — for `outside/` the path without the
    /// go version's folder (`outside/go1.26/net.reset/x.txt` → `net.reset/x.txt`), so that a
    /// recipe's cases under every go version are released together; for `public/` the
    /// path — and held out otherwise. The rule depends on nothing but the path, so a case
    /// never changes sides unless it is renamed or moved.
    pub fn of(relative: &str) -> Option<Split> {
        let part = Part::of(relative)?;
        Some(match part {
            Part::Fakes => Split::Tuned,
            _ if fnv1a(relative.as_bytes()).is_multiple_of(3) => Split::Dev,
            _ if fnv1a(format!("released:{}", recipe(relative).unwrap_or(relative)).as_bytes()).is_multiple_of(2) => {
                Split::Released
            }
            _ => Split::HeldOut,
        })
    }

    /// Whether the rules may be tuned on the case: every split but [`Split::HeldOut`].
    pub fn tuned_on(self) -> bool {
        self != Split::HeldOut
    }
}

/// An `outside/` case's recipe, what it records independent of the go version that
/// recorded it: its path without the go version's folder (`outside/go1.26/net.reset/x.txt`
/// → `net.reset/x.txt`). `None` for the other parts, whose cases are one each.
pub fn recipe(relative: &str) -> Option<&str> {
    Some(relative.strip_prefix("outside/")?.split_once('/')?.1)
}

/// 64-bit FNV-1a: simple, stable across platforms and Rust releases (unlike
/// `std::hash`), and written down in one line of the README.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_stable_and_by_path() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c, "the published FNV-1a test vector");
        assert_eq!(Split::of("fakes/go1.26/none/x.txt"), Some(Split::Tuned));
        assert_eq!(Split::of("elsewhere/x.txt"), None);
        let (mut dev, mut released, mut held) = (0, 0, 0);
        for i in 0..300 {
            match Split::of(&format!("public/none/case-{i}.txt")) {
                Some(Split::Dev) => dev += 1,
                Some(Split::Released) => released += 1,
                Some(Split::HeldOut) => held += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!((80..120).contains(&dev) && dev + released + held == 300, "about a third is dev: {dev}");
        assert!((80..120).contains(&released), "about a third is released: {released}");
        // A recipe's cases under every go version are released or held out together.
        for i in 0..100 {
            let sides: std::collections::BTreeSet<_> = ["go1.19", "go1.26", "go1.27"]
                .iter()
                .filter_map(|go| Split::of(&format!("outside/{go}/net.reset/case-{i}.txt")))
                .filter(|s| *s != Split::Dev)
                .collect();
            assert!(sides.len() <= 1, "case-{i}: {sides:?}");
        }
    }
}
