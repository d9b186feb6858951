//! Chromium through ChromeDriver: Debian's `/usr/bin/chromedriver`, started once per test
//! binary on a free port, and two Chromium sessions through it (one with JavaScript, one with
//! JavaScript disabled by policy), each started on first use and reused by every test that
//! follows. Tests take turns ([`run`] holds a lock): a flow signs in and out as it goes, and
//! the cookies are cleared between tests.
//!
//! When the test process ends, ChromeDriver and the browsers go with it: they run in their own
//! process group under a small shell that waits for the end of our pipe and then signals that
//! group (nothing is left running, even after a panic or Ctrl+C).
//!
//! Without Chromium the tests are skipped with a loud note — unless `CI` is set or
//! `MADOGUCHI_BROWSER_TESTS=1`, where a missing browser fails them. `MADOGUCHI_BROWSER_TESTS=0`
//! skips them (loudly) in any case.

use std::future::Future;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Chromium's switches for every session (a fresh `--user-data-dir` is added per session).
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    "--hide-scrollbars",
    "--lang=ja",
    "--window-size=1280,900",
];

/// The target directory (screenshots, axe-core, browser profiles live under it).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory")
        .to_path_buf()
}

/// Whether a missing browser (or axe-core) must fail the tests instead of skipping them.
pub fn required() -> bool {
    std::env::var_os("CI").is_some()
        || std::env::var("MADOGUCHI_BROWSER_TESTS").is_ok_and(|v| v == "1")
}

fn missing_programs() -> Vec<&'static str> {
    [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect()
}

/// The runtime every browser test runs on: the WebDriver sessions and the servers under test
/// live as long as the test binary, across tests.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// Runs one browser test: skips (or fails, see [`required`]) without Chromium, otherwise waits
/// its turn and runs `test` on the shared runtime.
pub fn run<Fut: Future<Output = ()>>(name: &str, test: impl FnOnce() -> Fut) {
    if std::env::var("MADOGUCHI_BROWSER_TESTS").is_ok_and(|v| v == "0") {
        eprintln!("\n*** SKIPPED *** browser test {name}: MADOGUCHI_BROWSER_TESTS=0\n");
        return;
    }
    let missing = missing_programs();
    if !missing.is_empty() {
        let msg = format!(
            "browser test {name}: {} not installed (Debian: apt-get install chromium chromium-driver fonts-noto-cjk chromium-l10n, or run scripts/test.sh)",
            missing.join(", ")
        );
        if required() {
            panic!("{msg}; CI and MADOGUCHI_BROWSER_TESTS=1 require the browser tests");
        }
        eprintln!("\n*** SKIPPED *** {msg}\n");
        return;
    }
    static TURN: Mutex<()> = Mutex::new(());
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    runtime().block_on(test());
    eprintln!(
        "browser test {name}: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// ChromeDriver, running for the life of the test binary.
struct Driver {
    url: String,
    /// Closing this pipe (at exit) makes the shell signal the process group.
    _lifeline: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

fn driver() -> &'static Driver {
    static DRIVER: OnceLock<Driver> = OnceLock::new();
    DRIVER.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let logs = target_dir().join("browser-logs");
        std::fs::create_dir_all(&logs).expect("log directory");
        let log = logs.join(format!("chromedriver-{}.log", std::process::id()));
        // `kill 0` signals the whole process group: ChromeDriver and every Chromium under it.
        let script = format!(
            "{CHROMEDRIVER} --port={port} --log-level=WARNING --log-path={} >/dev/null 2>&1 & \
             read _; kill -TERM 0",
            log.display()
        );
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            // Chromium's own controls (date pickers, file choosers) in Japanese, as users see
            // them: headless Chromium takes its UI language from the environment.
            .env("LANGUAGE", "ja")
            .env("LANG", "ja_JP.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let lifeline = child.stdin.take().expect("pipe to the driver's shell");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("chromedriver exited ({status}): {err}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 20 s (log: {})",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            url,
            _lifeline: Mutex::new(lifeline),
            _child: Mutex::new(child),
        }
    })
}

/// A fresh profile directory for a session; profiles of earlier runs are removed.
fn profile_dir(kind: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chromium-profiles");
    let me = std::process::id();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid = name.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if pid.is_some_and(|p| p != me && !Path::new(&format!("/proc/{p}")).exists()) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let dir = root.join(format!("{me}-{kind}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("profile directory");
    dir
}

async fn start_session(javascript: bool) -> Client {
    let kind = if javascript { "js" } else { "nojs" };
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile_dir(kind).display()));
    let mut prefs = json!({ "intl.accept_languages": "ja" });
    if !javascript {
        prefs["profile.managed_default_content_settings.javascript"] = json!(2);
    }
    let caps: Capabilities = serde_json::from_value(json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "unhandledPromptBehavior": "dismiss",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "prefs": prefs,
        },
    }))
    .expect("capabilities");
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver().url)
        .await
        .unwrap_or_else(|e| panic!("start a Chromium session through chromedriver: {e}"))
}

/// The shared session with JavaScript (`true`) or without.
pub async fn session(javascript: bool) -> Client {
    static JS: tokio::sync::OnceCell<Client> = tokio::sync::OnceCell::const_new();
    static NO_JS: tokio::sync::OnceCell<Client> = tokio::sync::OnceCell::const_new();
    let cell = if javascript { &JS } else { &NO_JS };
    cell.get_or_init(|| start_session(javascript)).await.clone()
}
