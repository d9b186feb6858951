//! The Shift_JIS establishments export at scale: `madoguchi export establishments --encoding
//! shift_jis --out -` run as a child process (its start-up, the Shift_JIS check pass, the
//! streamed rows and the audit event included), timed to its first byte and its last, its peak
//! memory (the kernel's VmHWM high-water mark, polled every 2 ms); against the database's own CSV
//! output of the same rows and columns piped through iconv (SQLite: `sqlite3 -csv`;
//! PostgreSQL: `COPY … TO STDOUT WITH CSV HEADER`), in the same run, alternating.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use madoguchi_db::Backend;
use madoguchi_domain::ids::find_service_type;
use madoguchi_domain::ledger::{ESTABLISHMENT_COLUMNS, Source};

use super::datagen::{self, SERVICE_CODES, Sizes};
use super::{Backends, Instance, backend_name, median_f, per_second, ratio, thousands};

/// One streamed run: rows (lines minus the header), bytes, first byte, total, peak memory.
#[derive(Clone, Debug)]
pub struct Streamed {
    pub rows: u64,
    pub bytes: u64,
    pub first_byte: Duration,
    pub total: Duration,
    /// Peak resident set in KiB (`None` when not measured).
    pub peak_kib: Option<u64>,
}

/// Runs `cmd`, reads its standard output to the end (counting lines, optionally keeping the
/// bytes), and samples its peak memory (VmHWM) every 2 ms until it exits.
pub fn stream(mut cmd: Command, keep: Option<&mut Vec<u8>>) -> anyhow::Result<Streamed> {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    // The child's peak resident set (VmHWM, a high-water mark kept by the kernel), read until
    // the process is gone.
    let status_file = format!("/proc/{}/status", child.id());
    let sampler = std::thread::spawn(move || {
        let mut peak = 0u64;
        while let Ok(text) = std::fs::read_to_string(&status_file) {
            match text.lines().find_map(|l| l.strip_prefix("VmHWM:")) {
                Some(v) => {
                    let kib = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kib);
                }
                None => break, // a zombie: exited
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    });
    let mut buf = vec![0u8; 256 * 1024];
    let (mut lines, mut bytes, mut first) = (0u64, 0u64, None);
    let mut keep = keep;
    loop {
        let n = stdout.read(&mut buf)?;
        if n == 0 {
            break;
        }
        first.get_or_insert_with(|| start.elapsed());
        bytes += n as u64;
        lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        if let Some(k) = keep.as_deref_mut() {
            k.extend_from_slice(&buf[..n]);
        }
    }
    let status = child.wait()?;
    let total = start.elapsed();
    let peak = sampler.join().unwrap_or(0);
    let err = err_reader.join().unwrap_or_default();
    anyhow::ensure!(
        status.success(),
        "{:?} failed ({status}): {}",
        cmd.get_program(),
        err.trim()
    );
    Ok(Streamed {
        rows: lines.saturating_sub(1),
        bytes,
        first_byte: first.unwrap_or(total),
        total,
        peak_kib: (peak > 0).then_some(peak),
    })
}

/// The application's export of `authority` as a child process of `exe`.
pub fn ours_command(exe: &Path, inst: &Instance, authority: &str) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(inst.cli_args()).args([
        "export",
        "establishments",
        "--authority",
        authority,
        "--encoding",
        "shift_jis",
        "--out",
        "-",
    ]);
    cmd.env("MADOGUCHI_LOG_LEVEL", "warn");
    cmd
}

/// The SQL of the limit: the export's rows and columns, straight from the tables.
pub fn limit_sql(backend: Backend, authority: &str) -> String {
    let json = |table: &str, key: &str| match backend {
        Backend::Sqlite => format!("COALESCE(json_extract({table}.profile, '$.{key}'), '')"),
        Backend::Postgres => format!("COALESCE(({table}.profile::jsonb) ->> '{key}', '')"),
    };
    let mut service_name = String::from("CASE d.service_code");
    for code in SERVICE_CODES {
        let name = find_service_type(code).map(|t| t.name).unwrap_or_default();
        service_name.push_str(&format!(" WHEN '{code}' THEN '{name}'"));
    }
    service_name.push_str(" ELSE '' END");
    let columns: Vec<String> = ESTABLISHMENT_COLUMNS
        .iter()
        .map(|c| {
            let expr = match c.source {
                Source::OfficeNumber => "e.office_number".to_string(),
                Source::ServiceCode => "d.service_code".into(),
                Source::ServiceName => service_name.clone(),
                Source::ValidFrom => "d.valid_from".into(),
                Source::ValidUntil => "d.valid_until".into(),
                Source::MunicipalityCode => "e.municipality_code".into(),
                Source::Establishment(key) => json("e", key),
                Source::CorporateNumber => "COALESCE(co.corporate_number, '')".into(),
                Source::Corporation(key) => json("co", key),
            };
            format!("{expr} AS \"{}\"", c.header)
        })
        .collect();
    format!(
        "SELECT {} FROM designations d JOIN establishments e ON e.id = d.establishment_id \
         JOIN corporations co ON co.id = e.corporation_id WHERE d.authority_code = '{authority}' \
         ORDER BY e.office_number, d.service_code",
        columns.join(", ")
    )
}

/// The limit: the database's own CSV output through iconv.
pub fn limit_command(inst: &Instance, authority: &str) -> Command {
    let sql = limit_sql(inst.backend, authority);
    let script = match inst.backend {
        Backend::Sqlite => format!(
            "sqlite3 -csv -header '{}' \"$BENCH_SQL\" | iconv -f UTF-8 -t CP932",
            inst.sqlite_file().display()
        ),
        Backend::Postgres => format!(
            "psql -X -q '{}' -c \"COPY ($BENCH_SQL) TO STDOUT WITH CSV HEADER\" | iconv -f UTF-8 -t CP932",
            inst.url
        ),
    };
    let mut cmd = Command::new("bash");
    cmd.args(["-c", &format!("set -o pipefail; {script}")]);
    cmd.env("BENCH_SQL", sql);
    cmd
}

/// Options of `madoguchi bench export`.
#[derive(Clone, Debug)]
pub struct Options {
    pub establishments: u64,
    pub rounds: usize,
}

/// Measures the export on one generated instance; one table row.
pub fn measure(
    exe: &Path,
    inst: &Instance,
    authority: &str,
    n: u64,
    rounds: usize,
) -> anyhow::Result<Vec<String>> {
    let (mut ours_rate, mut limit_rate, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut ttfb, mut peak, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds.max(1) {
        let run_ours = || stream(ours_command(exe, inst, authority), None);
        let run_limit = || stream(limit_command(inst, authority), None);
        let (ours, limit) = if round % 2 == 0 {
            let l = run_limit()?;
            (run_ours()?, l)
        } else {
            let o = run_ours()?;
            (o, run_limit()?)
        };
        anyhow::ensure!(
            ours.rows == n && limit.rows == n,
            "export: row counts differ (ours {}, limit {}, expected {n})",
            ours.rows,
            limit.rows
        );
        let r_ours = n as f64 / ours.total.as_secs_f64();
        let r_limit = n as f64 / limit.total.as_secs_f64();
        ours_rate.push(r_ours);
        limit_rate.push(r_limit);
        ratios.push(r_ours / r_limit);
        ttfb.push(ours.first_byte.as_secs_f64());
        peak.push(ours.peak_kib.unwrap_or(0) as f64 / 1024.0);
        totals.push(ours.total.as_secs_f64());
    }
    let rate = median_f(&ours_rate);
    let med_ratio = median_f(&ratios);
    let first = median_f(&ttfb);
    let peak_mb = peak.iter().cloned().fold(0.0, f64::max);
    let pass = rate >= 300_000.0 && med_ratio >= 0.5 && first < 1.0 && peak_mb < 100.0;
    Ok(vec![
        "export establishments, Shift_JIS CSV".into(),
        backend_name(inst.backend).into(),
        format!("{} rows", thousands(n)),
        format!(
            "{} ({:.2} s; first byte {:.2} s; peak {:.0} MB)",
            per_second(rate),
            median_f(&totals),
            first,
            peak_mb
        ),
        per_second(median_f(&limit_rate)),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        ratio(med_ratio, 1.0),
        "—".into(),
        "≥ 300,000 rows/s, ≥ 0.50, first byte < 1 s, peak < 100 MB".into(),
        if pass { "PASS" } else { "MISS" }.into(),
    ])
}

/// `madoguchi bench export`.
pub async fn run(exe: &Path, backends: &Backends, o: &Options) -> anyhow::Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for backend in backends.list() {
        let inst = backends.create(backend, "export").await?;
        let app = inst.open().await?;
        let g = datagen::generate(
            &app,
            Sizes {
                cases: 0,
                establishments: o.establishments,
            },
        )
        .await?;
        app.db.close().await;
        println!(
            "export/{}: generated {} establishments in {:.1} s",
            backend_name(backend),
            thousands(o.establishments),
            g.took.as_secs_f64()
        );
        rows.push(measure(
            exe,
            &inst,
            &g.prefecture,
            o.establishments,
            o.rounds,
        )?);
        inst.destroy().await?;
    }
    Ok(rows)
}
