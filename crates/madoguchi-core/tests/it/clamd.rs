//! The virus scan fails closed. A fake clamd (a loopback TCP listener speaking INSTREAM)
//! answers FOUND for the EICAR test string and OK otherwise, or misbehaves on purpose: closes
//! the connection, hangs past the timeout, reports the stream size limit, answers nonsense.
//! With `MADOGUCHI_TEST_CLAMD=1` (or a path to `clamd`) a real ClamAV daemon is started on a
//! signature database written here (no download).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use madoguchi_core::CoreError;
use madoguchi_core::uploads::{self, UploadPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::corpus::EICAR;
use crate::formats::pdf;
use crate::zipw::ZipWriter;

#[derive(Clone, Copy)]
enum Mode {
    Honest,
    Close,
    Hang,
    SizeLimit(usize),
    Nonsense,
}

/// Starts a fake clamd; returns its address and a connection counter.
async fn fake_clamd(mode: Mode) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(serve(s, mode));
        }
    });
    (addr, connections)
}

async fn serve(mut s: TcpStream, mode: Mode) -> std::io::Result<()> {
    if let Mode::Close = mode {
        return Ok(());
    }
    let mut command = [0u8; 10];
    s.read_exact(&mut command).await?;
    if &command != b"zINSTREAM\0" {
        return s.write_all(b"UNKNOWN COMMAND\0").await;
    }
    let mut data = Vec::new();
    loop {
        let len = s.read_u32().await? as usize;
        if len == 0 {
            break;
        }
        if let Mode::SizeLimit(limit) = mode
            && data.len() + len > limit
        {
            return s.write_all(b"INSTREAM size limit exceeded. ERROR\0").await;
        }
        let start = data.len();
        data.resize(start + len, 0);
        s.read_exact(&mut data[start..]).await?;
    }
    let reply: &[u8] = match mode {
        Mode::Hang => return std::future::pending().await,
        Mode::Nonsense => b"PONG\0",
        _ if data.windows(EICAR.len()).any(|w| w == EICAR) => {
            b"stream: Eicar-Test-Signature FOUND\0"
        }
        _ => b"stream: OK\0",
    };
    s.write_all(reply).await
}

fn policy(addr: &str, timeout_ms: u64) -> UploadPolicy {
    UploadPolicy {
        clamd: Some(addr.to_string()),
        clamd_timeout: Duration::from_millis(timeout_ms),
        ..UploadPolicy::default()
    }
}

async fn code_of(policy: &UploadPolicy, name: &str, bytes: Vec<u8>) -> Option<String> {
    match uploads::check(policy, name, bytes).await {
        Ok(_) => None,
        Err(CoreError::Validation(errs)) => Some(errs[0].code.clone()),
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

fn eicar_zip() -> Vec<u8> {
    ZipWriter::new().stored("readme.txt", EICAR).finish()
}

#[tokio::test]
async fn eicar_is_rejected_and_clean_files_pass() {
    let (addr, _) = fake_clamd(Mode::Honest).await;
    let p = policy(&addr, 5_000);
    assert_eq!(
        code_of(&p, "eicar.txt", EICAR.to_vec()).await.as_deref(),
        Some("infected")
    );
    assert_eq!(
        code_of(&p, "eicar.zip", eicar_zip()).await.as_deref(),
        Some("infected")
    );
    assert_eq!(code_of(&p, "clean.pdf", pdf("clean")).await, None);
    // Larger than one chunk: the stream is split and reassembled correctly.
    let mut big = pdf("big");
    big.extend(std::iter::repeat_n(b' ', 300_000));
    big.extend_from_slice(EICAR);
    assert_eq!(
        code_of(&p, "big.pdf", big).await.as_deref(),
        Some("infected")
    );
}

#[tokio::test]
async fn every_scanner_failure_refuses_the_upload() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut addrs = vec![
        ("connection refused", closed, 2_000),
        (
            "unix socket missing",
            "unix:/nonexistent/clamd.ctl".into(),
            2_000,
        ),
    ];
    for (what, mode, timeout) in [
        ("closes the connection", Mode::Close, 2_000),
        ("hangs past the timeout", Mode::Hang, 300),
        ("size limit", Mode::SizeLimit(64), 2_000),
        ("nonsense answer", Mode::Nonsense, 2_000),
    ] {
        addrs.push((what, fake_clamd(mode).await.0, timeout));
    }
    for (what, addr, timeout) in addrs {
        let p = policy(&addr, timeout);
        for (name, bytes) in [("clean.pdf", pdf("x")), ("eicar.txt", EICAR.to_vec())] {
            assert_eq!(
                code_of(&p, name, bytes).await.as_deref(),
                Some("scanner_unavailable"),
                "{what}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn content_is_judged_before_the_scan_and_no_scanner_means_no_scan() {
    let (addr, connections) = fake_clamd(Mode::Honest).await;
    let p = policy(&addr, 2_000);
    assert_eq!(
        code_of(&p, "setup.pdf", b"MZ\x90\0".to_vec())
            .await
            .as_deref(),
        Some("type_mismatch")
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    let unscanned = UploadPolicy::default();
    assert!(unscanned.clamd.is_none());
    assert_eq!(code_of(&unscanned, "eicar.txt", EICAR.to_vec()).await, None);
}

/// Opt-in: a real clamd on a signature database built here (an .ndb body signature for
/// EICAR and a marker string, an .hsb SHA-256 signature for one PDF).
#[tokio::test]
async fn real_clamd_with_own_signatures() {
    let Some(flag) = std::env::var_os("MADOGUCHI_TEST_CLAMD") else {
        eprintln!("MADOGUCHI_TEST_CLAMD not set; skipped");
        return;
    };
    let binary = if flag == "1" {
        "clamd".into()
    } else {
        std::path::PathBuf::from(flag)
    };
    let dir = std::env::temp_dir().join(format!("mdg-clamd-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let marker = b"MADOGUCHI-TEST-MALWARE-MARKER-7f3a";
    let flagged = pdf("known bad document");
    std::fs::write(
        dir.join("db/madoguchi-test.ndb"),
        format!(
            "Madoguchi.Test.Eicar:0:*:{}\nMadoguchi.Test.Marker:0:*:{}\n",
            hex(EICAR),
            hex(marker)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("db/madoguchi-test.hsb"),
        format!(
            "{}:{}:Madoguchi.Test.KnownBad\n",
            madoguchi_core::blobs::sha256_hex(&flagged),
            flagged.len()
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    std::fs::write(
        dir.join("clamd.conf"),
        format!(
            "Foreground yes\nDatabaseDirectory {d}/db\nTCPSocket {port}\nTCPAddr 127.0.0.1\n\
             TemporaryDirectory {d}\nLogFile {d}/clamd.log\nStreamMaxLength 2M\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let mut child = tokio::process::Command::new(&binary)
        .arg("-c")
        .arg(dir.join("clamd.conf"))
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start clamd");
    let addr = format!("127.0.0.1:{port}");
    let ready = async {
        loop {
            if let Ok(mut s) = TcpStream::connect(&addr).await {
                let mut reply = [0u8; 5];
                if s.write_all(b"zPING\0").await.is_ok()
                    && s.read_exact(&mut reply).await.is_ok()
                    && &reply == b"PONG\0"
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), ready)
        .await
        .expect("clamd ready within 60 s");
    let p = policy(&addr, 30_000);
    let deflated_eicar = ZipWriter::new().file("docs/readme.txt", EICAR).finish();
    assert_eq!(
        code_of(&p, "eicar.txt", EICAR.to_vec()).await.as_deref(),
        Some("infected")
    );
    assert_eq!(
        code_of(&p, "eicar.zip", deflated_eicar).await.as_deref(),
        Some("infected")
    );
    assert_eq!(
        code_of(&p, "marker.csv", marker.to_vec()).await.as_deref(),
        Some("infected")
    );
    assert_eq!(
        code_of(&p, "known.pdf", flagged).await.as_deref(),
        Some("infected")
    );
    assert_eq!(code_of(&p, "clean.pdf", pdf("clean")).await, None);
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(3 * 1024 * 1024, b' ');
    assert_eq!(
        code_of(&p, "over-limit.pdf", big).await.as_deref(),
        Some("scanner_unavailable")
    );
    child.kill().await.ok();
    assert_eq!(
        code_of(&p, "clean.pdf", pdf("after stop")).await.as_deref(),
        Some("scanner_unavailable")
    );
    std::fs::remove_dir_all(dir).ok();
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
