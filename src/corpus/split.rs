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
    /// The other two thirds of `outside` and `public`: never read while writing rules,
    /// measured only through the test's aggregate figures.
    HeldOut,
}

impl Split {
    /// The split of the case at `relative`, a path relative to `tests/corpus/` with `/`
    /// separators (`public/net.reset/some-case.txt`): `fakes` is tuned on; in the other
    /// parts a case is in the dev third when the 64-bit FNV-1a hash of that path is a
    /// multiple of 3, held out otherwise. The rule depends on nothing but the path, so a
    /// case never changes sides unless it is renamed or moved.
    pub fn of(relative: &str) -> Option<Split> {
        Some(match Part::of(relative)? {
            Part::Fakes => Split::Tuned,
            Part::Outside | Part::Public if fnv1a(relative.as_bytes()).is_multiple_of(3) => Split::Dev,
            Part::Outside | Part::Public => Split::HeldOut,
        })
    }
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
        let (mut dev, mut held) = (0, 0);
        for i in 0..300 {
            match Split::of(&format!("public/none/case-{i}.txt")) {
                Some(Split::Dev) => dev += 1,
                Some(Split::HeldOut) => held += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!((80..120).contains(&dev) && dev + held == 300, "about a third is dev: {dev}");
    }
}
