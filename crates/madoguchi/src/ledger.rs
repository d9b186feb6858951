//! `madoguchi import establishments` and `madoguchi export …`: the ledger import with a
//! progress bar and a per-line report on the terminal, and exports written to a file.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use madoguchi_core::App;
use madoguchi_core::ledger::export::{self, ExportBy, ExportKind, ExportOptions, OnUnmappable};
use madoguchi_core::ledger::import::{self, ImportBy, ImportOptions, InputEncoding};

use crate::cli::ExportArgs;

/// Exit code for input refused (bad rows, unreadable file, unknown authority).
const INVALID: u8 = 2;

/// Imports a ledger file; prints every error and warning with its line number.
pub async fn import_establishments(
    app: &App,
    csv: &Path,
    authority: &str,
    encoding: &str,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let encoding = match InputEncoding::parse(encoding) {
        Ok(e) => e,
        Err(e) => return Ok(refused(&e)),
    };
    let bytes = std::fs::read(csv)
        .map_err(|e| anyhow::anyhow!("{} を読み込めません: {e}", csv.display()))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len}行 {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let result = import::import_establishments(
        app,
        ImportBy::Cli,
        authority,
        &bytes,
        ImportOptions { encoding, dry_run },
        &progress,
    )
    .await;
    bar.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e @ madoguchi_core::CoreError::Validation(_)) => return Ok(refused(&e)),
        Err(e) => return Err(e.into()),
    };
    for w in &report.warnings {
        eprintln!("注意: {}", w.message);
    }
    for e in &report.errors {
        eprintln!("誤り: {}", e.message);
    }
    println!(
        "{}: {}行（{}）— 法人 新規{}、事業所 新規{}、指定 新規{}・更新{}、補った項目{}、変更なし{}行",
        csv.display(),
        report.rows,
        report.encoding,
        report.corporations_created,
        report.establishments_created,
        report.designations_created,
        report.designations_updated,
        report.values_filled,
        report.unchanged_rows
    );
    if !report.errors.is_empty() {
        eprintln!(
            "誤りが{}件あるため、何も取り込みませんでした。",
            report.errors.len()
        );
        return Ok(ExitCode::from(INVALID));
    }
    println!(
        "{}",
        if report.applied {
            "取り込みました。"
        } else {
            "確認のみ行いました（--dry-run: 何も書き込んでいません）。"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes an export to a file (removed again if the export fails).
pub async fn export(app: &App, kind: ExportKind, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let options = match ExportOptions::parse(
        Some(&args.format),
        Some(&args.encoding),
        Some(if args.skip_unmappable {
            "skip"
        } else {
            "refuse"
        }),
    ) {
        Ok(o) => o,
        Err(e) => return Ok(refused(&e)),
    };
    let mut stream = match export::start(app, ExportBy::Cli, &args.authority, kind, options).await {
        Ok(s) => s,
        Err(e @ madoguchi_core::CoreError::Validation(_)) => return Ok(refused(&e)),
        Err(e) => return Err(e.into()),
    };
    // `-`: standard output (a pipe), for streaming into another program.
    let to_stdout = args.out.as_os_str() == "-";
    let mut file: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.out)
                .map_err(|e| anyhow::anyhow!("{} に書き込めません: {e}", args.out.display()))?,
        )
    };
    let mut bytes = 0usize;
    while let Some(chunk) = stream.body.recv().await {
        match chunk {
            Ok(c) => {
                file.write_all(&c)?;
                bytes += c.len();
            }
            Err(e) => {
                drop(file);
                if !to_stdout {
                    let _ = std::fs::remove_file(&args.out);
                }
                anyhow::bail!("書き出しが中断しました: {e}");
            }
        }
    }
    file.flush()?;
    drop(file);
    if !to_stdout {
        std::fs::File::open(&args.out)?.sync_all()?;
    }
    if options.on_unmappable == OnUnmappable::Skip && stream.skipped_rows > 0 {
        eprintln!(
            "注意: Shift_JIS で表せない文字を含む{}行を除きました。",
            stream.skipped_rows
        );
    }
    if stream.vendor_specific_cells > 0 {
        eprintln!(
            "注意: 機種依存文字（①、㈱、髙 など）を含むセルが{}個あります。",
            stream.vendor_specific_cells
        );
    }
    if to_stdout {
        eprintln!("標準出力: {bytes}バイト");
    } else {
        println!("{}: {bytes}バイト", args.out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a refusal (each problem on its own line) and returns the "invalid input" code.
fn refused(e: &madoguchi_core::CoreError) -> ExitCode {
    match e {
        madoguchi_core::CoreError::Validation(problems) => {
            for p in problems {
                eprintln!("誤り: {}", p.message);
            }
        }
        other => eprintln!("誤り: {other}"),
    }
    ExitCode::from(INVALID)
}
