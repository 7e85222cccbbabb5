//! A git host, as go's direct VCS mode (`GOPROXY=direct`, GOPRIVATE modules) meets one:
//! `?go-get=1` pages whose `go-import` meta tag maps an import path to a repository, and
//! git smart HTTP served by the real `git http-backend` (run as a CGI program, never
//! blocking the runtime), optionally behind HTTP Basic credentials. Each page can be
//! made wrong the ways the field gets it wrong: no tag, a tag for another prefix, a
//! repository URL where nothing is.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use tokio::io::AsyncWriteExt as _;

use super::http::{Backend, Reply, ReplyFuture, RequestInfo};
use crate::fixture::gitrepo::hermetic_git;
use crate::vocab::BasicAuth;

/// A fake git host.
pub struct GitHost {
    /// GIT_PROJECT_ROOT: the repository at `<project_root>/lib.git` is served at
    /// `/lib.git` (the caller builds them there with [`crate::fixture::gitrepo::build`]).
    pub project_root: PathBuf,
    /// The `?go-get=1` pages, by URL path.
    pub pages: Vec<MetaPage>,
    /// Credentials git requests must carry (401 with a Basic challenge without them:
    /// git then asks for a user name, which go's `GIT_TERMINAL_PROMPT=0` refuses).
    pub auth: Option<BasicAuth>,
    /// With `auth`: the `?go-get=1` pages need the credentials too (go's own request,
    /// which only `.netrc` / GOAUTH can satisfy).
    pub auth_pages: bool,
    /// The words the host sends with its 404 for a repository it does not have, which
    /// git shows (`remote: Repository not found.`): GitHub's, on a host named like it.
    /// `None`: `git http-backend`'s bare 404, as a self-hosted server sends.
    pub missing_words: Option<&'static str>,
}

impl GitHost {
    /// The words of [`GitHost::missing_words`] for the code host named `host`: GitHub
    /// answers a repository that does not exist, or that the credentials cannot see, so.
    pub fn missing_words_of(host: &str) -> Option<&'static str> {
        (host == "github.com").then_some("Repository not found.\n")
    }
}

/// The `?go-get=1` page of one module root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaPage {
    /// URL path of the root (`/lib` for `corp.example/lib`): requests for it and for every
    /// path below it (`/lib/sub`, packages of the module) get this page.
    pub path: String,
    /// What the page holds.
    pub meta: Meta,
}

/// What a `?go-get=1` page holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    /// `<meta name="go-import" content="<prefix> <vcs> <repo>">`. Correct when `prefix`
    /// is the module root's import path and `repo` a repository this host serves.
    GoImport {
        /// Import path prefix the tag claims (go refuses a tag whose prefix is not a
        /// prefix of the import path it asked about).
        prefix: String,
        /// Version control system (`git`; `mod` points at a module proxy).
        vcs: String,
        /// Repository URL.
        repo: String,
    },
    /// An HTML page without any `go-import` tag (a login or marketing page).
    NoTag,
}

impl MetaPage {
    /// The correct page for module root `import_path` served from `repo` over git.
    pub fn git(path: &str, import_path: &str, repo: &str) -> MetaPage {
        MetaPage {
            path: path.to_string(),
            meta: Meta::GoImport { prefix: import_path.to_string(), vcs: "git".into(), repo: repo.to_string() },
        }
    }

    fn covers(&self, path: &str) -> bool {
        let root = self.path.trim_end_matches('/');
        path == root || path.strip_prefix(root).is_some_and(|rest| rest.starts_with('/'))
    }

    /// The HTML go parses.
    pub fn html(&self) -> String {
        let head = match &self.meta {
            Meta::GoImport { prefix, vcs, repo } => {
                format!("<meta name=\"go-import\" content=\"{} {} {}\">\n", escape(prefix), escape(vcs), escape(repo))
            }
            Meta::NoTag => "<meta name=\"description\" content=\"Sign in to continue\">\n".into(),
        };
        format!("<!DOCTYPE html>\n<html>\n<head>\n{head}</head>\n<body>modchaos git host</body>\n</html>\n")
    }
}

/// HTML attribute escaping.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The final path segments that make a request git smart HTTP.
const GIT_ENDPOINTS: [&str; 3] = ["/info/refs", "/git-upload-pack", "/git-receive-pack"];

impl GitHost {
    fn is_git(request: &RequestInfo) -> bool {
        GIT_ENDPOINTS.iter().any(|end| request.path.ends_with(end))
    }

    fn is_page(request: &RequestInfo) -> bool {
        request.query.as_deref().is_some_and(|q| q.split('&').any(|kv| kv == "go-get=1"))
    }

    fn authorised(&self, request: &RequestInfo) -> bool {
        self.auth.as_ref().is_none_or(|auth| auth.accepts(request.headers.get(http::header::AUTHORIZATION)))
    }

    fn challenge() -> Reply {
        let mut reply = Reply::text(401, "401 Unauthorized: this git host needs credentials\n");
        reply.headers.push((http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"modchaos git\"")));
        reply
    }

    fn page(&self, request: &RequestInfo) -> Reply {
        let page = self.pages.iter().filter(|p| p.covers(&request.path)).max_by_key(|p| p.path.len());
        match page {
            Some(page) => Reply::new(200, "text/html; charset=utf-8", page.html()),
            None => Reply::text(404, format!("not found: no module root at {}\n", request.path)),
        }
    }

    /// The CGI environment for `request` (RFC 3875, plus what git http-backend reads).
    fn cgi_env(&self, request: &RequestInfo) -> Vec<(String, String)> {
        let mut env = vec![
            ("GIT_PROJECT_ROOT".into(), self.project_root.display().to_string()),
            ("GIT_HTTP_EXPORT_ALL".into(), "1".into()),
            ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
            ("SERVER_PROTOCOL".into(), "HTTP/1.1".into()),
            ("REQUEST_METHOD".into(), request.method.clone()),
            ("PATH_INFO".into(), request.path.clone()),
            ("QUERY_STRING".into(), request.query.clone().unwrap_or_default()),
            ("CONTENT_LENGTH".into(), request.body.len().to_string()),
            ("REMOTE_ADDR".into(), "127.0.0.1".into()),
        ];
        if let Some(t) = request.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
            env.push(("CONTENT_TYPE".into(), t.to_string()));
        }
        // Git-Protocol (protocol v2), Content-Encoding (gzipped requests) and the rest.
        for (name, value) in &request.headers {
            let skip = [http::header::AUTHORIZATION, http::header::CONTENT_TYPE, http::header::CONTENT_LENGTH];
            if skip.contains(name) {
                continue;
            }
            if let Ok(value) = value.to_str() {
                env.push((format!("HTTP_{}", name.as_str().to_ascii_uppercase().replace('-', "_")), value.to_string()));
            }
        }
        env
    }

    /// Runs `git http-backend` for `request`.
    /// The backend's bare 404 for a repository it does not have, with the host's words for
    /// it (git shows a `text/plain` error body, `remote: …`, before its own `fatal:
    /// repository '…' not found`).
    fn missing_in_words(&self, reply: Reply) -> Reply {
        match self.missing_words {
            Some(words) if reply.status == 404 && reply.body.iter().all(u8::is_ascii_whitespace) => {
                Reply::text(404, words)
            }
            _ => reply,
        }
    }

    async fn smart_http(&self, request: &RequestInfo) -> Reply {
        // HOME is never read (no global config), but must not be the user's.
        let mut command = tokio::process::Command::from(hermetic_git(&self.project_root));
        command
            .arg("http-backend")
            .envs(self.cgi_env(request))
            .current_dir(&self.project_root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A client that goes away drops this future: the CGI process goes with it.
            .kill_on_drop(true);
        // SAFETY: the hook only calls prctl and getppid (async-signal-safe): the backend
        // dies with the harness too.
        unsafe {
            command.pre_exec(crate::cleanup::die_with_parent(std::process::id()));
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => return Reply::text(500, format!("modchaos: cannot run git http-backend: {e}\n")),
        };
        let stdin = child.stdin.take();
        let feed = async {
            if let Some(mut stdin) = stdin {
                // A backend that exits without reading (404) closes the pipe: not an error.
                let _ = stdin.write_all(&request.body).await;
            }
        };
        let (_, output) = tokio::join!(feed, child.wait_with_output());
        match output {
            Ok(output) => parse_cgi(&output.stdout).map(|reply| self.missing_in_words(reply)).unwrap_or_else(|| {
                Reply::text(
                    500,
                    format!(
                        "modchaos: git http-backend ({}) gave no CGI response: {}\n",
                        output.status,
                        String::from_utf8_lossy(&output.stderr).trim()
                    ),
                )
            }),
            Err(e) => Reply::text(500, format!("modchaos: git http-backend failed: {e}\n")),
        }
    }
}

impl Backend for GitHost {
    /// Pages, challenges and 404s. Git smart HTTP needs a child process and is answered
    /// by [`Backend::respond_async`] only (the one the server calls); here it is a 500.
    fn respond(&self, request: &RequestInfo) -> Reply {
        let protected = self.auth.is_some() && (Self::is_git(request) || (self.auth_pages && Self::is_page(request)));
        if protected && !self.authorised(request) {
            return Self::challenge();
        }
        if Self::is_page(request) {
            return self.page(request);
        }
        if Self::is_git(request) {
            return Reply::text(500, "modchaos: git smart HTTP is only served asynchronously\n");
        }
        Reply::text(404, format!("not found: {}\n", request.path))
    }

    fn respond_async<'a>(&'a self, request: &'a RequestInfo) -> ReplyFuture<'a> {
        Box::pin(async move {
            if Self::is_git(request) && !Self::is_page(request) && self.authorised(request) {
                self.smart_http(request).await
            } else {
                self.respond(request)
            }
        })
    }
}

/// A CGI response: header lines (`Status:` among them), a blank line, the body. `None`
/// when there is no header block.
fn parse_cgi(output: &[u8]) -> Option<Reply> {
    let (head_len, sep_len) = find_blank_line(output)?;
    let head = std::str::from_utf8(&output[..head_len]).ok()?;
    let body = Bytes::copy_from_slice(&output[head_len + sep_len..]);
    let mut reply = Reply::new(200, "text/plain; charset=utf-8", body);
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("Status") {
            reply.status = value.split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(500);
        } else if name.eq_ignore_ascii_case("Content-Type") {
            reply.content_type = value.to_string();
        } else if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.trim()), HeaderValue::from_str(value)) {
            reply.headers.push((name, value));
        }
    }
    Some(reply)
}

/// Where the header block ends: (its length, the separator's length).
fn find_blank_line(output: &[u8]) -> Option<(usize, usize)> {
    let crlf = output.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let lf = output.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The repository directory a repo URL path names under `project_root` (`/lib.git` →
/// `<root>/lib.git`), for callers building repositories where the host will find them.
pub fn repo_dir(project_root: &Path, url_path: &str) -> PathBuf {
    project_root.join(url_path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::RequestLog;
    use crate::fake::http::{HostServer, serve};
    use crate::fixture::gitrepo::{self, BuiltRepo};
    use crate::fixture::txtar::Archive;
    use crate::fixture::{Module, ModuleFixture};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt as _;
    use tokio::net::{TcpListener, TcpStream};

    fn lib(version: &str, content: &str) -> Module {
        let text = format!(
            "-- .mod --\nmodule corp.example/lib\n-- .info --\n{{\"Version\":\"{version}\",\"Time\":\"2021-03-04T05:06:07Z\"}}\n-- go.mod --\nmodule corp.example/lib\n-- lib.go --\n{content}"
        );
        let archive = Archive::parse(text.as_bytes());
        Arc::new(ModuleFixture::from_archive("corp.example/lib", version, Path::new("t.txt"), &archive).unwrap())
    }

    /// A git host on 127.0.0.1:0 serving `lib.git`, its address, the log and the repo.
    struct Fixture {
        addr: std::net::SocketAddr,
        log: Arc<RequestLog>,
        repo: BuiltRepo,
        _task: tokio::task::JoinHandle<()>,
        tmp: tempfile::TempDir,
    }

    async fn start(auth: Option<BasicAuth>, auth_pages: bool) -> Fixture {
        start_with(auth, auth_pages, None).await
    }

    async fn start_with(auth: Option<BasicAuth>, auth_pages: bool, missing_words: Option<&'static str>) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let modules = vec![lib("v1.0.0", "package lib\n"), lib("v1.1.0", "package lib // v1.1.0\n")];
        let dir = repo_dir(&root, "/lib.git");
        let repo = tokio::task::spawn_blocking(move || gitrepo::build(&modules, &dir)).await.unwrap().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(RequestLog::default());
        let host = GitHost {
            project_root: root,
            pages: vec![
                MetaPage::git("/lib", "corp.example/lib", &format!("http://{addr}/lib.git")),
                MetaPage { path: "/login".into(), meta: Meta::NoTag },
            ],
            auth,
            auth_pages,
            missing_words,
        };
        let server = Arc::new(HostServer::new("git.corp.example", host, log.clone()));
        let task = tokio::spawn(serve(listener, server));
        Fixture { addr, log, repo, _task: task, tmp }
    }

    /// A plain HTTP/1.1 GET: (status, body).
    async fn get(addr: std::net::SocketAddr, target: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {target} HTTP/1.1\r\nHost: corp.example\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        (head.split_whitespace().nth(1).unwrap().parse().unwrap(), body.to_string())
    }

    /// Runs git with a hermetic environment whose HOME is `home`: (success, stdout, stderr).
    async fn git(home: &Path, args: &[&str]) -> (bool, String, String) {
        let mut command = tokio::process::Command::from(gitrepo::hermetic_git(home));
        let output = command.args(args).current_dir(home).output().await.unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (output.status.success(), text(&output.stdout), text(&output.stderr))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn meta_pages_for_roots_and_their_packages() {
        let f = start(None, false).await;
        let tag = format!("<meta name=\"go-import\" content=\"corp.example/lib git http://{}/lib.git\">", f.addr);
        for target in ["/lib?go-get=1", "/lib/sub/pkg?go-get=1"] {
            let (status, body) = get(f.addr, target).await;
            assert_eq!(status, 200, "{target}");
            assert!(body.contains(&tag), "{target}: {body}");
        }
        let (status, body) = get(f.addr, "/login/x?go-get=1").await;
        assert_eq!(status, 200);
        assert!(body.contains("<meta") && !body.contains("go-import"), "{body}");
        assert_eq!(get(f.addr, "/library?go-get=1").await.0, 404, "a root covers its own path segments only");
        assert_eq!(get(f.addr, "/lib").await.0, 404, "no go-get=1, no page");
    }

    #[test]
    fn meta_page_variants() {
        let wrong = MetaPage {
            path: "/lib".into(),
            meta: Meta::GoImport {
                prefix: "corp.example/other".into(),
                vcs: "git".into(),
                repo: "https://x/\"y".into(),
            },
        };
        assert!(wrong.html().contains("content=\"corp.example/other git https://x/&quot;y\""), "{}", wrong.html());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ls_remote_and_clone_over_smart_http() {
        let f = start(None, false).await;
        let home = f.tmp.path().join("client");
        std::fs::create_dir_all(&home).unwrap();
        let url = format!("http://{}/lib.git", f.addr);
        let (ok, out, err) = git(&home, &["ls-remote", &url]).await;
        assert!(ok, "{err}");
        for tag in &f.repo.tags {
            assert!(out.contains(&format!("{}\trefs/tags/{}", tag.commit, tag.tag)), "{out}");
        }
        assert!(out.contains(&format!("{}\tHEAD", f.repo.commit("v1.1.0").unwrap())), "{out}");
        let (ok, _, err) = git(&home, &["clone", "--quiet", "--depth=1", "--branch", "v1.0.0", &url, "checkout"]).await;
        assert!(ok, "{err}");
        assert_eq!(std::fs::read_to_string(home.join("checkout/lib.go")).unwrap(), "package lib\n");
        let posts =
            f.log.snapshot().iter().filter(|r| r.method == "POST" && r.path == "/lib.git/git-upload-pack").count();
        assert!(posts >= 2, "ls-remote and clone both negotiate over POST: {:#?}", f.log.snapshot());

        let (ok, _, err) = git(&home, &["ls-remote", &format!("http://{}/missing.git", f.addr)]).await;
        assert!(!ok);
        assert!(err.contains("not found") && !err.contains("remote:"), "a bare 404, as git http-backend's: {err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_host_named_like_github_says_so_for_a_repository_it_lacks() {
        let f = start_with(None, false, GitHost::missing_words_of("github.com")).await;
        let home = f.tmp.path().join("client");
        std::fs::create_dir_all(&home).unwrap();
        let (ok, _, err) = git(&home, &["ls-remote", &format!("http://{}/missing.git", f.addr)]).await;
        assert!(!ok);
        assert!(err.contains("remote: Repository not found.") && err.contains("not found"), "{err}");
        let (ok, _, err) = git(&home, &["ls-remote", &format!("http://{}/lib.git", f.addr)]).await;
        assert!(ok, "repositories it has are served as ever: {err}");
        assert_eq!(GitHost::missing_words_of("git.corp.example"), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn credentials_are_asked_for_and_accepted() {
        let auth = BasicAuth { user: "ci".into(), password: "s3cret".into() };
        let f = start(Some(auth), false).await;
        let home = f.tmp.path().join("client");
        std::fs::create_dir_all(&home).unwrap();
        let url = format!("http://{}/lib.git", f.addr);
        let (ok, _, err) = git(&home, &["ls-remote", &url]).await;
        assert!(!ok);
        assert!(err.contains("terminal prompts disabled"), "{err}");
        assert!(f.log.snapshot().iter().any(|r| r.status == Some(401)), "{:#?}", f.log.snapshot());
        assert_eq!(get(f.addr, "/lib?go-get=1").await.0, 200, "pages stay public unless auth_pages");

        let (ok, _, err) = git(&home, &["ls-remote", &format!("http://ci:wrong@{}/lib.git", f.addr)]).await;
        assert!(!ok, "a wrong password is refused");
        assert!(err.contains("Authentication failed"), "{err}");
        let (ok, out, err) = git(&home, &["ls-remote", &format!("http://ci:s3cret@{}/lib.git", f.addr)]).await;
        assert!(ok && out.contains("refs/tags/v1.0.0"), "{err}");
        std::fs::write(home.join(".netrc"), format!("machine {} login ci password s3cret\n", f.addr.ip())).unwrap();
        let (ok, out, err) = git(&home, &["ls-remote", &url]).await;
        assert!(ok && out.contains("refs/tags/v1.1.0"), "git reads ~/.netrc: {err}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn protected_pages_need_credentials_too() {
        let auth = BasicAuth { user: "ci".into(), password: "s3cret".into() };
        let f = start(Some(auth), true).await;
        assert_eq!(get(f.addr, "/lib?go-get=1").await.0, 401);
    }

    #[test]
    fn cgi_responses_parse() {
        let reply = parse_cgi(b"Status: 404 Not Found\r\nExpires: Fri, 01 Jan 1980 00:00:00 GMT\r\n\r\n").unwrap();
        assert_eq!((reply.status, reply.body.len()), (404, 0));
        assert_eq!(reply.headers[0].0, http::header::EXPIRES);
        let reply = parse_cgi(b"Content-Type: application/x-git-upload-pack-result\n\n0008NAK\n").unwrap();
        assert_eq!(
            (reply.status, &reply.content_type[..], &reply.body[..]),
            (200, "application/x-git-upload-pack-result", &b"0008NAK\n"[..])
        );
        assert!(parse_cgi(b"fatal: no header block").is_none());
    }

    #[test]
    fn git_requests_are_not_answered_synchronously() {
        let host = GitHost {
            project_root: PathBuf::from("/nonexistent"),
            pages: Vec::new(),
            auth: None,
            auth_pages: false,
            missing_words: None,
        };
        let request = RequestInfo {
            method: "GET".into(),
            path: "/lib.git/info/refs".into(),
            query: Some("service=git-upload-pack".into()),
            headers: Default::default(),
            body: Bytes::new(),
        };
        assert_eq!(host.respond(&request).status, 500);
    }
}
