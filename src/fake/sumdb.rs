//! The checksum database's HTTP face, also reachable through a proxy at
//! `/sumdb/<name>/…` as proxy.golang.org offers it.

use std::sync::Arc;

use super::http::{Backend, Reply, RequestInfo};
use crate::fixture::escape::unescape;
use crate::sumdb::Database;
use crate::sumdb::tlog::Tile;

/// Serves one database.
pub struct SumdbServer {
    /// The database.
    pub db: Arc<Database>,
}

impl Backend for SumdbServer {
    fn respond(&self, request: &RequestInfo) -> Reply {
        serve(&self.db, &request.path)
    }
}

/// Answers `path` (`/lookup/…`, `/latest`, `/tile/…`) from `db`.
pub fn serve(db: &Database, path: &str) -> Reply {
    if path == "/latest" {
        return Reply::text(200, db.latest());
    }
    if let Some(target) = path.strip_prefix("/lookup/") {
        let Some((escaped_path, escaped_version)) = target.split_once('@') else {
            return Reply::text(400, "invalid module@version syntax\n");
        };
        let (Ok(module), Ok(version)) = (unescape(escaped_path), unescape(escaped_version)) else {
            return Reply::text(400, "invalid escaped module@version\n");
        };
        return match db.lookup(&module, &version) {
            Some(answer) => Reply::text(200, answer),
            // What sum.golang.org says about a module it cannot fetch (a private one):
            // 410 Gone, with the proxy's fetch error as the body.
            None => Reply::text(
                410,
                format!(
                    "not found: {module}@{version}: unrecognized import path \"{module}\": https fetch: Get \"https://{module}?go-get=1\": dial tcp: lookup {host}: no such host\n",
                    host = module.split('/').next().unwrap_or(&module)
                ),
            ),
        };
    }
    if let Some(tile) = path.strip_prefix('/').and_then(Tile::parse) {
        return match db.tile(&tile) {
            Some(data) if tile.level < 0 => Reply::new(200, "text/plain; charset=utf-8", data),
            Some(data) => Reply::new(200, "application/octet-stream", data),
            None => Reply::text(404, format!("not found: {} is beyond the tree\n", tile.path())),
        };
    }
    if path.starts_with("/tile/") {
        return Reply::text(400, "invalid tile syntax\n");
    }
    Reply::text(404, "404 page not found\n")
}
