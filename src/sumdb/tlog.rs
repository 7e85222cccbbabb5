//! The tamper-evident log behind a checksum database: an RFC 6962 Merkle tree over the
//! records, and its tiles (height-8 slices of stored hashes) that go fetches to check
//! that a record is in the signed tree.

use sha2::{Digest, Sha256};

/// A SHA-256 hash in the log.
pub type Hash = [u8; 32];

/// Height of the tiles go requests.
pub const TILE_HEIGHT: u32 = 8;

/// SHA-256(0x00 ‖ record): the leaf hash.
pub fn record_hash(record: &[u8]) -> Hash {
    Sha256::new().chain_update([0u8]).chain_update(record).finalize().into()
}

/// SHA-256(0x01 ‖ left ‖ right): an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1u8]).chain_update(left).chain_update(right).finalize().into()
}

/// The complete-subtree hashes of a log: `levels[l][k]` is the hash of the 2^l records
/// starting at k·2^l, for every such subtree that is complete.
#[derive(Debug, Clone)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The tree over `records`, in order.
    pub fn new<R: AsRef<[u8]>>(records: &[R]) -> Tree {
        let mut levels = vec![records.iter().map(|r| record_hash(r.as_ref())).collect::<Vec<_>>()];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("at least one level");
            let above: Vec<Hash> = below.chunks_exact(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
            levels.push(above);
        }
        Tree { levels }
    }

    /// Number of records.
    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// The root hash of the whole log (the hash of no records for an empty log).
    pub fn root(&self) -> Hash {
        if self.size() == 0 {
            return Sha256::digest(b"").into();
        }
        self.subtree(0, self.size())
    }

    /// The RFC 6962 hash of records `lo..hi`: split at the largest power of two below
    /// the width, using stored complete subtrees where aligned.
    fn subtree(&self, lo: u64, hi: u64) -> Hash {
        let width = hi - lo;
        if width.is_power_of_two() && lo.is_multiple_of(width) {
            let level = width.trailing_zeros() as usize;
            return self.levels[level][(lo / width) as usize];
        }
        let split = 1u64 << (63 - (width - 1).leading_zeros());
        node_hash(&self.subtree(lo, lo + split), &self.subtree(lo + split, hi))
    }

    /// The data of tile `tile`: its W hashes at tree level L·H, or `None` when the tree
    /// does not (yet) have them all.
    pub fn tile(&self, tile: &Tile) -> Option<Vec<u8>> {
        let level = (tile.level as u64 * tile.height as u64) as usize;
        let stored = self.levels.get(level)?;
        let start = tile.index.checked_mul(1u64 << tile.height)?;
        let end = start.checked_add(tile.width)?;
        if end > stored.len() as u64 {
            return None;
        }
        Some(stored[start as usize..end as usize].concat())
    }
}

/// A tile coordinate: height H, level L (`-1` for record data), index N, width W.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Height.
    pub height: u32,
    /// Level (`-1`: the records themselves).
    pub level: i32,
    /// Index within the level.
    pub index: u64,
    /// Number of entries (2^H for a complete tile).
    pub width: u64,
}

impl Tile {
    /// Parses `tile/H/L/NNN[.p/W]` (the path after the database's base URL).
    pub fn parse(path: &str) -> Option<Tile> {
        let rest = path.strip_prefix("tile/")?;
        let mut parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < 3 {
            return None;
        }
        let height: u32 = parts[0].parse().ok().filter(|h| (1..=30).contains(h))?;
        let level: i32 = if parts[1] == "data" { -1 } else { parts[1].parse().ok().filter(|l| (0..64).contains(l))? };
        let mut width = 1u64 << height;
        if parts.len() >= 4 && parts[parts.len() - 2].ends_with(".p") {
            let w: u64 = parts.pop()?.parse().ok()?;
            if w == 0 || w >= width {
                return None;
            }
            width = w;
            let last = parts.pop()?.strip_suffix(".p")?;
            parts.push(last);
        }
        let groups = &parts[2..];
        let mut index: u64 = 0;
        for (i, group) in groups.iter().enumerate() {
            let digits = if i + 1 < groups.len() { group.strip_prefix('x')? } else { group };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            index = index.checked_mul(1000)?.checked_add(digits.parse::<u64>().ok()?)?;
        }
        Some(Tile { height, level, index, width })
    }

    /// The path go asks for this tile (`tile/8/0/x001/234.p/5`).
    pub fn path(&self) -> String {
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(format!("{:03}", n % 1000));
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        groups.reverse();
        let last = groups.len() - 1;
        let encoded: Vec<String> =
            groups.iter().enumerate().map(|(i, g)| if i < last { format!("x{g}") } else { g.clone() }).collect();
        let level = if self.level < 0 { "data".to_string() } else { self.level.to_string() };
        let partial = if self.width < (1u64 << self.height) { format!(".p/{}", self.width) } else { String::new() };
        format!("tile/{}/{level}/{}{partial}", self.height, encoded.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference_root(leaves: &[Hash]) -> Hash {
        // RFC 6962 §2.1, written the direct way.
        match leaves.len() {
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn root_matches_the_rfc_definition_for_every_size() {
        let records: Vec<Vec<u8>> = (0..300).map(|i| format!("record {i}\n").into_bytes()).collect();
        for n in 1..records.len() {
            let tree = Tree::new(&records[..n]);
            let leaves: Vec<Hash> = records[..n].iter().map(|r| record_hash(r)).collect();
            assert_eq!(tree.root(), reference_root(&leaves), "size {n}");
        }
    }

    #[test]
    fn tile_paths_round_trip() {
        for (path, tile) in [
            ("tile/8/0/000.p/5", Tile { height: 8, level: 0, index: 0, width: 5 }),
            ("tile/8/1/000", Tile { height: 8, level: 1, index: 0, width: 256 }),
            ("tile/3/4/x001/x234/067.p/1", Tile { height: 3, level: 4, index: 1_234_067, width: 1 }),
            ("tile/8/data/002", Tile { height: 8, level: -1, index: 2, width: 256 }),
        ] {
            assert_eq!(Tile::parse(path), Some(tile), "{path}");
            assert_eq!(tile.path(), path);
        }
        for bad in [
            "tile/8/0/1",
            "tile/8/0/x001",
            "tile/8/0/000.p/256",
            "tile/8/0/000.p/0",
            "tile/0/0/000",
            "tile/8/x/000",
            "tiles/8/0/000",
        ] {
            assert_eq!(Tile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn tiles_hold_the_stored_hashes_of_their_level() {
        let records: Vec<Vec<u8>> = (0..600).map(|i| format!("r{i}\n").into_bytes()).collect();
        let tree = Tree::new(&records);
        let full = tree.tile(&Tile { height: 8, level: 0, index: 1, width: 256 }).unwrap();
        assert_eq!(&full[..32], &record_hash(&records[256]));
        let partial = tree.tile(&Tile { height: 8, level: 0, index: 2, width: 88 }).unwrap();
        assert_eq!(partial.len(), 88 * 32);
        assert!(tree.tile(&Tile { height: 8, level: 0, index: 2, width: 89 }).is_none(), "beyond the tree");
        let level1 = tree.tile(&Tile { height: 8, level: 1, index: 0, width: 2 }).unwrap();
        assert_eq!(&level1[..32], &reference_root(&records[..256].iter().map(|r| record_hash(r)).collect::<Vec<_>>()));
    }
}
