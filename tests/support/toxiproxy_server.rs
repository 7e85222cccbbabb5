//! A real toxiproxy server for the tests and benchmarks that compare against it: built
//! from source once with `go install` (pinned version, hermetic GOPATH and GOMODCACHE
//! under `target/tmp/toxiproxy-<version>/`, the build cache the tests' Go tools share in
//! `target/tmp/go-build-cache`, reused afterwards) — or taken from
//! `$MODCHAOS_TOXIPROXY_SERVER` — and started on a free 127.0.0.1 port, killed on drop
//! (and by the kernel if the process dies first).
//!
//! Included with `#[path]` by `tests/toxiproxy.rs` and `benches/toxics.rs`.

#![allow(dead_code)]

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use modchaos::fault::toxiproxy::{Client, NewProxy};
use modchaos::gobin::GoBinary;

/// The toxiproxy release installed.
pub const VERSION: &str = "v2.12.0";
/// Its main package (the binary `go install` names `server`).
pub const PACKAGE: &str = "github.com/Shopify/toxiproxy/v2/cmd/server";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

/// A running toxiproxy-server, killed on drop.
pub struct ToxiproxyServer {
    child: Child,
    /// Its API, `http://127.0.0.1:PORT`.
    pub url: String,
    /// The binary it runs.
    pub binary: PathBuf,
}

impl ToxiproxyServer {
    /// Installs (or reuses) the binary and starts it.
    pub fn provide() -> Result<ToxiproxyServer, String> {
        let binary = install()?;
        ToxiproxyServer::start(&binary)
    }

    /// Starts `binary` on a free port of 127.0.0.1 and waits until its API answers.
    pub fn start(binary: &Path) -> Result<ToxiproxyServer, String> {
        let mut last = String::new();
        // A free port can be taken between finding it and the server binding it: retry.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
            let log =
                std::fs::File::create(state_dir().join(format!("server-{port}.log"))).map_err(|e| e.to_string())?;
            let mut command = Command::new(binary);
            command
                .args(["-host", "127.0.0.1", "-port", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log);
            die_with_parent(&mut command);
            let child = command.spawn().map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            let mut server = ToxiproxyServer { child, url: format!("http://127.0.0.1:{port}"), binary: binary.into() };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = server.child.try_wait() {
                    last = format!("toxiproxy-server exited at start ({status})");
                    break;
                }
                let client = Client::new(&server.url).map_err(|e| e.to_string())?;
                match runtime().block_on(client.version()) {
                    Ok(_) => return Ok(server),
                    Err(e) => last = e.to_string(),
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Err(format!("toxiproxy-server did not start: {last}"))
    }
}

impl Drop for ToxiproxyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The kernel kills the server if this process dies without dropping it.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child being set up.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Where the installation lives: `target/tmp/toxiproxy-<version>/`.
pub fn state_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("toxiproxy-{VERSION}"));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The toxiproxy-server binary: `$MODCHAOS_TOXIPROXY_SERVER`, else the one installed by
/// an earlier run, else built now with `go install` into `target/tmp/`.
pub fn install() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("MODCHAOS_TOXIPROXY_SERVER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("$MODCHAOS_TOXIPROXY_SERVER={} is not a file", path.display()))
        };
    }
    let dir = state_dir();
    let binary = dir.join("bin").join("toxiproxy-server");
    if binary.is_file() {
        return Ok(binary);
    }
    let go = GoBinary::find(None).map_err(|e| format!("cannot install toxiproxy: {e}"))?;
    let staging = dir.join(format!("bin.tmp-{}", std::process::id()));
    let started = Instant::now();
    eprintln!("installing toxiproxy-server {VERSION} with `go install {PACKAGE}@{VERSION}` into {}…", dir.display());
    let mut child = Command::new(&go.path)
        .args(["install", &format!("{PACKAGE}@{VERSION}")])
        .current_dir(&dir)
        .env("GOBIN", &staging)
        .env("GOPATH", dir.join("gopath"))
        .env("GOMODCACHE", dir.join("gopath").join("pkg").join("mod"))
        // The build cache every test's Go tool shares: the standard library compiles once.
        .env("GOCACHE", Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache"))
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-modcacherw")
        .env("GOWORK", "off")
        .env("CGO_ENABLED", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", go.path.display()))?;
    let deadline = started + Duration::from_secs(600);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("`go install` of toxiproxy took more than 10 minutes".into());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("waiting for go install: {e}")),
        }
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    if !status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!("`go install {PACKAGE}@{VERSION}` failed ({status}):\n{}", stderr.trim()));
    }
    std::fs::create_dir_all(binary.parent().expect("bin/ has a parent")).map_err(|e| e.to_string())?;
    std::fs::rename(staging.join("server"), &binary).map_err(|e| format!("cannot move the binary in place: {e}"))?;
    let _ = std::fs::remove_dir_all(&staging);
    eprintln!("installed toxiproxy-server {VERSION} in {:.1}s: {}", started.elapsed().as_secs_f64(), binary.display());
    Ok(binary)
}

/// A proxy named `name` to `upstream`, enabled, on a port the server picks; its address.
pub async fn create_proxy(client: &Client, name: &str, upstream: SocketAddr) -> Result<SocketAddr, String> {
    let created = client
        .create_proxy(&NewProxy {
            name: name.into(),
            listen: "127.0.0.1:0".into(),
            upstream: upstream.to_string(),
            enabled: true,
        })
        .await
        .map_err(|e| e.to_string())?;
    created.listen.parse().map_err(|e| format!("listen {}: {e}", created.listen))
}
