//! The GOPROXY protocol over a set of module fixtures: `@v/list`, `@v/<v>.info`,
//! `.mod`, `.zip` and `@latest`, with `!`-escaped paths, and 404 for anything unknown
//! (with a text body, as real proxies send, so go prints it as "server response").

use std::sync::Arc;

use super::http::{Backend, Reply, RequestInfo};
use crate::fixture::escape::unescape;
use crate::fixture::{Module, ModuleSet, semver};
use crate::sumdb::Database;
use crate::vocab::BasicAuth;

/// A module proxy.
pub struct Goproxy {
    /// The modules it serves.
    pub modules: ModuleSet,
    /// URL path prefix it is mounted under (`""` or `/goproxy`).
    pub prefix: String,
    /// Basic credentials it insists on.
    pub auth: Option<BasicAuth>,
    /// Checksum databases it forwards at `/sumdb/<name>/…` (empty: it answers 404 to
    /// `/sumdb/<name>/supported`, and go contacts the database directly).
    pub sumdbs: Vec<Arc<Database>>,
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Query<'a> {
    List(String),
    Latest(String),
    File { module: String, version: String, ext: &'a str },
}

impl Goproxy {
    fn parse<'a>(&self, path: &'a str) -> Result<Query<'a>, String> {
        let rest = path.strip_prefix(self.prefix.as_str()).ok_or("outside the proxy's prefix")?;
        let rest = rest.strip_prefix('/').ok_or("not a module path")?;
        let decode = |text: &str| unescape(text).map_err(|e| format!("invalid escaped path {text:?}: {e}"));
        if let Some(module) = rest.strip_suffix("/@latest") {
            return Ok(Query::Latest(decode(module)?));
        }
        let (module, file) = rest.split_once("/@v/").ok_or("not a GOPROXY protocol path")?;
        let module = decode(module)?;
        if file == "list" {
            return Ok(Query::List(module));
        }
        let (version, ext) = file.rsplit_once('.').ok_or("unknown file")?;
        if !matches!(ext, "info" | "mod" | "zip") {
            return Err(format!("unknown file type .{ext}"));
        }
        Ok(Query::File { module, version: decode(version)?, ext })
    }

    fn authorised(&self, request: &RequestInfo) -> bool {
        self.auth.as_ref().is_none_or(|auth| auth.accepts(request.headers.get(http::header::AUTHORIZATION)))
    }

    fn latest(&self, module: &str) -> Option<&Module> {
        let versions = self.modules.versions(module);
        let pick = |keep: &dyn Fn(&Module) -> bool| versions.iter().rev().find(|m| keep(m));
        pick(&|m| {
            !semver::is_pseudo(&m.version) && !semver::Version::parse(&m.version).is_some_and(|v| v.is_prerelease())
        })
        .or_else(|| pick(&|m| !semver::is_pseudo(&m.version)))
        .or_else(|| versions.last())
    }
}

impl Backend for Goproxy {
    fn respond(&self, request: &RequestInfo) -> Reply {
        if !self.authorised(request) {
            let mut reply = Reply::text(401, "401 Unauthorized: this proxy needs credentials\n");
            reply.headers.push((
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Basic realm=\"modchaos goproxy\""),
            ));
            return reply;
        }
        if let Some(rest) = request.path.strip_prefix(&format!("{}/sumdb/", self.prefix)) {
            let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
            return match self.sumdbs.iter().find(|db| db.name() == name) {
                Some(_) if tail == "supported" => Reply::text(200, ""),
                Some(db) => super::sumdb::serve(db, &format!("/{tail}")),
                None => {
                    Reply::text(404, format!("not found: this proxy does not serve the checksum database {name}\n"))
                }
            };
        }
        let query = match self.parse(&request.path) {
            Ok(q) => q,
            Err(why) => return Reply::text(404, format!("not found: {why}\n")),
        };
        match query {
            Query::List(module) => {
                if !self.modules.has_path(&module) {
                    return Reply::text(404, format!("not found: module {module}: no matching versions\n"));
                }
                let list: String = self
                    .modules
                    .versions(&module)
                    .iter()
                    .filter(|m| !semver::is_pseudo(&m.version))
                    .map(|m| format!("{}\n", m.version))
                    .collect();
                Reply::text(200, list)
            }
            Query::Latest(module) => match self.latest(&module) {
                Some(m) => Reply::new(200, "application/json", m.info.clone()),
                None => Reply::text(404, format!("not found: module {module}: no matching versions\n")),
            },
            Query::File { module, version, ext } => {
                let Some(m) = self.modules.get(&module, &version) else {
                    return Reply::text(404, format!("not found: {module}@{version}: unknown revision {version}\n"));
                };
                match ext {
                    "info" => Reply::new(200, "application/json", m.info.clone()),
                    "mod" => match &m.go_mod {
                        Some(go_mod) => Reply::new(200, "text/plain; charset=utf-8", go_mod.clone()),
                        None => Reply::text(404, format!("not found: {module}@{version}: no go.mod in this fixture\n")),
                    },
                    _ => Reply::new(200, "application/zip", m.zip.clone()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::ModuleFixture;
    use crate::fixture::txtar::Archive;
    use std::path::Path;

    fn module(path: &str, version: &str) -> Module {
        let archive = Archive::parse(
            format!(
                "-- .mod --\nmodule {path}\n-- .info --\n{{\"Version\":\"{version}\"}}\n-- go.mod --\nmodule {path}\n"
            )
            .as_bytes(),
        );
        Arc::new(ModuleFixture::from_archive(path, version, Path::new("t.txt"), &archive).unwrap())
    }

    fn proxy() -> Goproxy {
        let set = ModuleSet::from_modules([
            module("rsc.io/QUOTE", "v1.5.2"),
            module("rsc.io/QUOTE", "v1.5.3-pre"),
            module("corp.example/lib", "v0.0.0-20190101000000-abcdefabcdef"),
            module("corp.example/lib", "v1.0.0"),
            module("corp.example/lib", "v1.1.0-rc.1"),
        ])
        .unwrap();
        Goproxy { modules: set, prefix: String::new(), auth: None, sumdbs: Vec::new() }
    }

    fn get(proxy: &Goproxy, path: &str) -> Reply {
        proxy.respond(&RequestInfo {
            method: "GET".into(),
            path: path.into(),
            query: None,
            headers: Default::default(),
            body: Default::default(),
        })
    }

    #[test]
    fn serves_the_protocol_with_escaping() {
        let p = proxy();
        let list = get(&p, "/rsc.io/!q!u!o!t!e/@v/list");
        assert_eq!((list.status, &list.body[..]), (200, &b"v1.5.2\nv1.5.3-pre\n"[..]));
        assert_eq!(get(&p, "/rsc.io/!q!u!o!t!e/@v/v1.5.3-!p!r!e.info").status, 404, "versions are escaped too");
        assert_eq!(get(&p, "/rsc.io/!q!u!o!t!e/@v/v1.5.3-pre.info").status, 200);
        assert_eq!(&get(&p, "/rsc.io/!q!u!o!t!e/@v/v1.5.2.mod").body[..], b"module rsc.io/QUOTE\n");
        assert_eq!(get(&p, "/rsc.io/!q!u!o!t!e/@v/v1.5.2.zip").content_type, "application/zip");
        assert_eq!(get(&p, "/rsc.io/QUOTE/@v/list").status, 404, "unescaped upper case is not a valid request");
    }

    #[test]
    fn list_skips_pseudo_versions_and_latest_prefers_releases() {
        let p = proxy();
        assert_eq!(&get(&p, "/corp.example/lib/@v/list").body[..], b"v1.0.0\nv1.1.0-rc.1\n");
        assert!(std::str::from_utf8(&get(&p, "/corp.example/lib/@latest").body).unwrap().contains("v1.0.0"));
    }

    #[test]
    fn unknown_things_are_404_with_a_text_body() {
        let p = proxy();
        for path in [
            "/nope.example/x/@v/list",
            "/corp.example/lib/@v/v9.9.9.info",
            "/corp.example/lib/@v/v1.0.0.tar",
            "/favicon.ico",
        ] {
            let r = get(&p, path);
            assert_eq!(r.status, 404, "{path}");
            assert!(r.content_type.starts_with("text/plain"));
            assert!(std::str::from_utf8(&r.body).unwrap().starts_with("not found: "));
        }
    }

    #[test]
    fn auth_is_required_when_configured() {
        let mut p = proxy();
        p.auth = Some(BasicAuth { user: "ci".into(), password: "s3cret".into() });
        assert_eq!(get(&p, "/corp.example/lib/@v/list").status, 401);
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, "Basic Y2k6czNjcmV0".parse().unwrap());
        let r = p.respond(&RequestInfo {
            method: "GET".into(),
            path: "/corp.example/lib/@v/list".into(),
            query: None,
            headers,
            body: Default::default(),
        });
        assert_eq!(r.status, 200);
    }
}
