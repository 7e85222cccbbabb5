//! Sharding a suite across CI machines with nextest's two schemes: `hash:K/N` puts each
//! scenario file in the shard its path's hash picks (stable when files are added or
//! removed), `count:K/N` takes every Nth file of the sorted list starting at the Kth
//! (even shards). The path is the one given on the command line (`scenarios/x.yaml`), so
//! every machine computes the same shards from the same checkout; the union of the N
//! shards is the whole suite, each file in exactly one.

use std::path::Path;
use std::str::FromStr;

use thiserror::Error;

/// A `--partition` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// Shard `shard` (1-based) of `total`, by the hash of each file's path.
    Hash {
        /// This shard, from 1.
        shard: u64,
        /// How many shards.
        total: u64,
    },
    /// Shard `shard` (1-based) of `total`, by position in the sorted file list.
    Count {
        /// This shard, from 1.
        shard: u64,
        /// How many shards.
        total: u64,
    },
}

/// A `--partition` value that cannot be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{0}` is not a partition: write hash:K/N or count:K/N with 1 <= K <= N (e.g. hash:1/3)")]
pub struct PartitionError(String);

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(text: &str) -> Result<Partition, PartitionError> {
        let bad = || PartitionError(text.to_string());
        let (scheme, rest) = text.split_once(':').ok_or_else(bad)?;
        let (shard, total) = rest.split_once('/').ok_or_else(bad)?;
        let shard: u64 = shard.trim().parse().map_err(|_| bad())?;
        let total: u64 = total.trim().parse().map_err(|_| bad())?;
        if shard == 0 || total == 0 || shard > total {
            return Err(bad());
        }
        match scheme.trim() {
            "hash" => Ok(Partition::Hash { shard, total }),
            "count" => Ok(Partition::Count { shard, total }),
            _ => Err(bad()),
        }
    }
}

impl Partition {
    /// The files of this shard, in their order; `files` must be the sorted list every
    /// shard sees.
    pub fn select<'a, P: AsRef<Path>>(&self, files: &'a [P]) -> Vec<&'a P> {
        match *self {
            Partition::Hash { shard, total } => {
                files.iter().filter(|f| bucket(f.as_ref(), total) == shard - 1).collect()
            }
            Partition::Count { shard, total } => {
                files.iter().enumerate().filter(|(i, _)| *i as u64 % total == shard - 1).map(|(_, f)| f).collect()
            }
        }
    }
}

/// Which of `total` buckets a path falls in: xxHash64 (seed 0) of its bytes, as nextest
/// hashes test names.
fn bucket(path: &Path, total: u64) -> u64 {
    use std::os::unix::ffi::OsStrExt as _;
    xxhash_rust::xxh64::xxh64(path.as_os_str().as_bytes(), 0) % total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn files(n: usize) -> Vec<PathBuf> {
        (0..n).map(|i| PathBuf::from(format!("scenarios/group-{}/case-{i:03}.yaml", i % 7))).collect()
    }

    #[test]
    fn every_file_lands_in_exactly_one_shard_under_both_schemes() {
        let all = files(200);
        for scheme in ["hash", "count"] {
            let mut seen: Vec<&PathBuf> = Vec::new();
            for k in 1..=3 {
                let p: Partition = format!("{scheme}:{k}/3").parse().unwrap();
                let shard = p.select(&all);
                assert!(!shard.is_empty(), "{scheme}:{k}/3 is empty");
                seen.extend(shard);
            }
            seen.sort();
            let mut expected: Vec<&PathBuf> = all.iter().collect();
            expected.sort();
            assert_eq!(seen, expected, "{scheme}");
        }
    }

    #[test]
    fn hash_shards_do_not_move_when_other_files_come_and_go() {
        let all = files(100);
        let p: Partition = "hash:2/4".parse().unwrap();
        let before: Vec<&PathBuf> = p.select(&all);
        let fewer: Vec<PathBuf> = all.iter().filter(|f| !f.ends_with("case-050.yaml")).cloned().collect();
        let after: Vec<&PathBuf> = p.select(&fewer);
        assert!(after.iter().all(|f| before.contains(f)));
        // The same checkout gives the same shards on every machine: the figure was
        // computed by another implementation (Python's xxhash, xxh64 with seed 0).
        assert_eq!(bucket(Path::new("scenarios/basics/happy-path.yaml"), 1_000_003), 137_981);
    }

    #[test]
    fn bad_values_say_what_is_expected() {
        for bad in ["hash", "hash:0/3", "hash:4/3", "slice:1/2", "count:1", "count:a/b"] {
            let e = bad.parse::<Partition>().unwrap_err().to_string();
            assert!(e.contains("hash:K/N or count:K/N"), "{bad}: {e}");
        }
        assert_eq!("count:2/5".parse(), Ok(Partition::Count { shard: 2, total: 5 }));
    }
}
