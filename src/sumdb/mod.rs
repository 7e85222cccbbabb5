//! A checksum database (GOSUMDB) over the modules of a world: the real protocol
//! (`/lookup/M@V`, `/latest`, `/tile/H/L/N[.p/W]`, data tiles), signed tree notes, and a
//! Merkle tree over every module's go.sum lines, so that go's own verifier checks it.

pub mod note;
pub mod tlog;

use std::collections::HashMap;

use base64::Engine as _;

use crate::fixture::ModuleSet;
pub use note::{NoteError, Signer};
use tlog::{TILE_HEIGHT, Tile, Tree};

/// One database: records, tree, signed head.
pub struct Database {
    signer: Signer,
    records: Vec<String>,
    ids: HashMap<(String, String), usize>,
    tree: Tree,
    signed_head: String,
}

/// The go.sum lines (the record text) of a module version.
pub fn record_text(path: &str, version: &str, sum: &str, go_mod_sum: Option<&str>) -> String {
    let mut text = format!("{path} {version} {sum}\n");
    if let Some(mod_sum) = go_mod_sum {
        text += &format!("{path} {version}/go.mod {mod_sum}\n");
    }
    text
}

impl Database {
    /// A database named `name` holding every module of `modules` (in path, version order).
    pub fn new(name: &str, modules: &ModuleSet) -> Result<Database, NoteError> {
        let signer = Signer::generate(name)?;
        let mut records = Vec::new();
        let mut ids = HashMap::new();
        for m in modules.iter() {
            ids.insert((m.path.clone(), m.version.clone()), records.len());
            records.push(record_text(&m.path, &m.version, &m.sum, m.go_mod_sum.as_deref()));
        }
        let tree = Tree::new(&records);
        let head = format!(
            "go.sum database tree\n{}\n{}\n",
            tree.size(),
            base64::engine::general_purpose::STANDARD.encode(tree.root())
        );
        let signed_head = signer.sign(&head);
        Ok(Database { signer, records, ids, tree, signed_head })
    }

    /// The database name (what GOSUMDB names).
    pub fn name(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key for GOSUMDB.
    pub fn verifier_key(&self) -> String {
        self.signer.verifier_key()
    }

    /// Number of records.
    pub fn size(&self) -> usize {
        self.records.len()
    }

    /// `/latest`: the signed tree head.
    pub fn latest(&self) -> &str {
        &self.signed_head
    }

    /// `/lookup/M@V`: record id, record text, a blank line, the signed tree head.
    pub fn lookup(&self, path: &str, version: &str) -> Option<String> {
        let id = *self.ids.get(&(path.to_string(), version.to_string()))?;
        Some(format!("{id}\n{}\n{}", self.records[id], self.signed_head))
    }

    /// A tile: hashes for levels ≥ 0, the records' texts (each followed by a blank
    /// line) for `data`. `None` for tiles outside the tree.
    pub fn tile(&self, tile: &Tile) -> Option<Vec<u8>> {
        if tile.height != TILE_HEIGHT {
            return None;
        }
        if tile.level >= 0 {
            return self.tree.tile(tile);
        }
        let start = tile.index.checked_mul(1 << tile.height)? as usize;
        let end = start.checked_add(tile.width as usize)?;
        let records = self.records.get(start..end)?;
        Some(records.iter().flat_map(|r| format!("{r}\n").into_bytes()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::ModuleFixture;
    use crate::fixture::txtar::Archive;
    use std::sync::Arc;

    fn set() -> ModuleSet {
        let m = |p: &str, v: &str| {
            let a = Archive::parse(format!("-- .mod --\nmodule {p}\n-- go.mod --\nmodule {p}\n").as_bytes());
            Arc::new(ModuleFixture::from_archive(p, v, std::path::Path::new("t.txt"), &a).unwrap())
        };
        ModuleSet::from_modules([m("a.example/x", "v1.0.0"), m("b.example/y", "v0.1.0")]).unwrap()
    }

    #[test]
    fn lookup_answers_in_the_protocol_format() {
        let db = Database::new("sum.corp.example", &set()).unwrap();
        let answer = db.lookup("b.example/y", "v0.1.0").unwrap();
        let (id, rest) = answer.split_once('\n').unwrap();
        assert_eq!(id, "1");
        let (text, note) = rest.split_once("\n\n").unwrap();
        assert!(text.starts_with("b.example/y v0.1.0 h1:"));
        assert!(text.contains("\nb.example/y v0.1.0/go.mod h1:"));
        assert!(note.starts_with("go.sum database tree\n2\n"));
        assert!(note.contains("\n\n— sum.corp.example "));
        assert!(db.lookup("c.example/z", "v1.0.0").is_none());
    }

    #[test]
    fn tiles_cover_exactly_the_tree() {
        let db = Database::new("sum.corp.example", &set()).unwrap();
        assert_eq!(db.tile(&Tile::parse("tile/8/0/000.p/2").unwrap()).unwrap().len(), 64);
        assert!(db.tile(&Tile::parse("tile/8/0/000.p/3").unwrap()).is_none());
        assert!(db.tile(&Tile::parse("tile/8/0/000").unwrap()).is_none());
        let data = String::from_utf8(db.tile(&Tile::parse("tile/8/data/000.p/2").unwrap()).unwrap()).unwrap();
        assert!(
            data.starts_with("a.example/x v1.0.0 h1:")
                && data.contains("\n\nb.example/y v0.1.0 h1:")
                && data.ends_with("\n\n")
        );
    }
}
