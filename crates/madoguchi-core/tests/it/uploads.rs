//! The corpus against the upload gate: 100% of hostile files refused with the expected code,
//! 100% of benign files accepted; bombs judged in bounded memory (measured in a child
//! process so parallel tests do not blur the peak).

use std::process::Command;

use madoguchi_core::CoreError;
use madoguchi_core::uploads::{self, UploadPolicy, inspect};

use crate::corpus;

#[test]
fn corpus_is_judged_correctly() {
    let policy = UploadPolicy::default();
    let benign = corpus::benign();
    let hostile = corpus::hostile();
    assert!(benign.len() >= 30, "only {} benign files", benign.len());
    assert!(hostile.len() >= 30, "only {} hostile files", hostile.len());
    let verbose = std::env::var_os("MADOGUCHI_CORPUS_VERBOSE").is_some();
    let mut failures = Vec::new();
    for (name, bytes) in &benign {
        if let Err(r) = inspect(name, bytes, &policy) {
            failures.push(format!("benign {name}: refused {} ({})", r.code, r.message));
        }
    }
    for (name, bytes, code) in &hostile {
        match inspect(name, bytes, &policy) {
            Ok(kind) => failures.push(format!("hostile {name}: accepted as {kind:?}")),
            Err(r) if r.code != *code => failures.push(format!(
                "hostile {name}: refused as {} instead of {code} ({})",
                r.code, r.message
            )),
            Err(r) => {
                if verbose {
                    println!("{name}: {} {}", r.code, r.message);
                }
                let shown: String = name
                    .chars()
                    .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}'))
                    .collect();
                if !r.message.contains(&shown) {
                    failures.push(format!(
                        "hostile {name}: message does not name the file: {}",
                        r.message
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "upload corpus: {} benign accepted, {} hostile refused",
        benign.len(),
        hostile.len()
    );
}

#[test]
fn every_code_is_exercised() {
    let codes: std::collections::BTreeSet<&str> =
        corpus::hostile().into_iter().map(|(_, _, c)| c).collect();
    for code in [
        "empty",
        "too_large",
        "name_not_allowed",
        "type_not_allowed",
        "type_mismatch",
        "macro_enabled",
        "encrypted",
        "archive_invalid",
        "archive_too_large",
        "archive_too_many_entries",
        "archive_nested",
        "archive_path",
    ] {
        assert!(codes.contains(code), "no hostile file expects {code}");
    }
}

#[tokio::test]
async fn refusals_are_file_validation_errors() {
    let policy = UploadPolicy::default();
    let err = uploads::check(&policy, "photo.png", b"%PDF-1.4\n%%EOF".to_vec())
        .await
        .unwrap_err();
    let CoreError::Validation(errs) = err else {
        panic!("expected a validation error, got {err:?}")
    };
    assert_eq!(errs[0].field, "file");
    assert_eq!(errs[0].code, "type_mismatch");
    assert!(errs[0].message.contains("photo.png"));
    let ok = uploads::check(&policy, "a.pdf", b"%PDF-1.4\n%%EOF".to_vec()).await;
    assert_eq!(ok.unwrap(), b"%PDF-1.4\n%%EOF");
}

#[test]
fn limits_come_from_the_policy() {
    let policy = UploadPolicy {
        max_archive_entries: 5,
        max_archive_unpacked_bytes: 2048,
        ..UploadPolicy::default()
    };
    let six = corpus::many_entries(6, None);
    assert_eq!(
        inspect("six.zip", &six, &policy).unwrap_err().code,
        "archive_too_many_entries"
    );
    assert!(inspect("six.zip", &six, &UploadPolicy::default()).is_ok());
    let big = crate::zipw::ZipWriter::new()
        .file("a.txt", &[b'a'; 4096])
        .finish();
    assert_eq!(
        inspect("big.zip", &big, &policy).unwrap_err().code,
        "archive_too_large"
    );
}

/// Benign archives must also be valid for an independent reader (`unzip -t`), when present.
#[test]
fn benign_archives_pass_unzip_when_installed() {
    if Command::new("unzip").arg("-v").output().is_err() {
        eprintln!("unzip not installed; skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("mdg-unzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (name, bytes)) in corpus::benign().into_iter().enumerate() {
        let ext = uploads::final_extension(&name).unwrap();
        if !matches!(ext.as_str(), "zip" | "docx" | "xlsx" | "pptx") || name == "empty-archive.zip"
        {
            continue;
        }
        let path = dir.join(format!("{i}.zip"));
        std::fs::write(&path, &bytes).unwrap();
        let out = Command::new("unzip")
            .arg("-tq")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "unzip -t {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(dir).ok();
}

const PROBE_ENV: &str = "MADOGUCHI_MEMORY_PROBE";

/// Peak resident memory of this process, KiB (Linux).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn bombs_are_judged_in_bounded_memory() {
    if std::env::var_os(PROBE_ENV).is_some() {
        return probe();
    }
    if vm_hwm_kib().is_none() {
        eprintln!("no /proc/self/status; skipped");
        return;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "uploads::bombs_are_judged_in_bounded_memory",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROBE_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("memory probe ok"),
        "probe failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs alone in a child process: judges bombs declaring ~80 GB, 1 TB and 10,001 entries,
/// and one that really inflates 20 MiB past its declared size; the peak must barely move.
fn probe() {
    let (zeros, crc) = crate::zipw::deflate_zeros(20 * 1024 * 1024);
    let lie = crate::zipw::Raw {
        payload: zeros,
        method: 8,
        crc,
        uncompressed: 1000,
        ..crate::zipw::Raw::stored("zeros.txt", b"")
    };
    let bombs = [
        corpus::many_declared(20),
        corpus::many_small_declared(120),
        crate::zipw::ZipWriter::new()
            .raw(crate::zipw::Raw {
                zip64: true,
                uncompressed: 1 << 40,
                ..crate::zipw::Raw::deflated("big.txt", b"x")
            })
            .finish(),
        crate::zipw::ZipWriter::new().raw(lie).finish(),
        corpus::many_entries(10_001, None),
        corpus::many_entries(1_001, Some(1)),
    ];
    let policy = UploadPolicy::default();
    let before = vm_hwm_kib().unwrap();
    for (i, b) in bombs.iter().enumerate() {
        for _ in 0..3 {
            let r = inspect("bomb.zip", b, &policy).unwrap_err();
            assert!(r.code.starts_with("archive_too"), "bomb {i}: {}", r.code);
        }
    }
    let after = vm_hwm_kib().unwrap();
    println!("memory probe ok: peak {after} KiB, {before} KiB before the checks");
    assert!(
        after.saturating_sub(before) < 8 * 1024,
        "peak grew by {} KiB",
        after - before
    );
    assert!(after < 128 * 1024, "peak {after} KiB");
}
