//! Procedures as data at scale: loading many definitions (the start-up cost of a platform
//! carrying thousands of procedures) and validating many filings against them (CEL rules,
//! computed values, conditions, local rules).
//!
//! `madoguchi bench procedures [--definitions 1000] [--filings 10000] [--rounds 5]`

use std::time::{Duration, Instant};

use madoguchi_core::catalog::embedded_sources;
use madoguchi_domain::procedure::{FilingData, ProcedureCatalog, ProcedureDefinition};

use super::{median, print_table, quantile};

/// `definitions` definition files: the shipped ones, then copies of them under new ids;
/// plus the shipped annexes and local rules (once).
fn sources(definitions: usize) -> Vec<(String, String)> {
    let shipped = embedded_sources();
    let (shared, defs): (Vec<_>, Vec<_>) = shipped
        .into_iter()
        .partition(|(path, _)| path.contains("/annexes/") || path.contains("/local-rules/"));
    let mut out: Vec<(String, String)> =
        shared.into_iter().map(|(p, t)| (p, t.to_owned())).collect();
    // The shipped definitions themselves (local rules refer to them), then copies.
    out.extend(defs.iter().map(|(p, t)| (p.clone(), (*t).to_owned())));
    for i in 0..definitions.saturating_sub(defs.len()) {
        let (path, text) = &defs[i % defs.len()];
        let id_line = text
            .lines()
            .find(|l| l.starts_with("id = "))
            .expect("every definition has an id line");
        let id = id_line.trim_start_matches("id = ").trim_matches('"');
        let new_id = format!("{id}-copy{i}");
        let version = path.rsplit('/').next().unwrap_or("x.toml");
        out.push((
            format!("procedures/{new_id}/{version}"),
            text.replacen(id_line, &format!("id = \"{new_id}\""), 1),
        ));
    }
    out
}

/// Loads the sources once; the time and the catalog.
fn load(sources: &[(String, String)]) -> (Duration, ProcedureCatalog) {
    let start = Instant::now();
    let catalog =
        ProcedureCatalog::from_sources(sources.iter().map(|(p, t)| (p.as_str(), t.as_str())))
            .expect("benchmark definitions load");
    (start.elapsed(), catalog)
}

/// Validates `n` filings, cycling over the definitions: normalise (which recomputes computed
/// values), validate, required attachments. Returns per-filing durations, sorted.
fn validate(
    defs: &[&ProcedureDefinition],
    samples: &[(FilingData, Vec<String>)],
    n: usize,
) -> (Duration, Vec<Duration>) {
    let mut each = Vec::with_capacity(n);
    let start = Instant::now();
    let mut errors = 0usize;
    for i in 0..n {
        let def = defs[i % defs.len()];
        let (data, ids) = &samples[i % defs.len()];
        let t = Instant::now();
        let mut data = data.clone();
        def.normalize(&mut data);
        errors += def.validate(&data, ids).len();
        std::hint::black_box(def.required_attachments(&data));
        each.push(t.elapsed());
    }
    let total = start.elapsed();
    assert_eq!(errors, 0, "generated filings are valid");
    each.sort();
    (total, each)
}

pub fn run(definitions: usize, filings: usize, rounds: usize) -> anyhow::Result<()> {
    let rounds = rounds.max(1);
    let srcs = sources(definitions);
    let mut load_times = Vec::new();
    let mut validate_totals = Vec::new();
    let mut p99s = Vec::new();
    let mut catalog = None;
    for _ in 0..rounds {
        let (t, c) = load(&srcs);
        load_times.push(t);
        catalog = Some(c);
    }
    let catalog = catalog.expect("at least one round");
    let defs: Vec<&ProcedureDefinition> = catalog.list_latest();
    let samples: Vec<(FilingData, Vec<String>)> = defs
        .iter()
        .map(|d| {
            let n = d.targets.min_establishments.max(1);
            let n = d.targets.max_establishments.map_or(n, |m| n.min(m));
            let ids: Vec<String> = (0..n).map(|i| format!("est{i}")).collect();
            (d.sample_data(&ids), ids)
        })
        .collect();
    for _ in 0..rounds {
        let (total, each) = validate(&defs, &samples, filings);
        p99s.push(quantile(&each, 0.99));
        validate_totals.push(total);
    }
    let load_median = median(&mut load_times);
    let validate_median = median(&mut validate_totals);
    let p99 = median(&mut p99s);
    let files = srcs.len();
    println!(
        "procedures: {definitions} definitions ({files} files with annexes and local rules), {filings} filings, median of {rounds} rounds"
    );
    print_table(
        &["workload", "median", "rate", "p99 per item"],
        &[
            vec![
                format!("load {files} definition files"),
                format!("{:.1} ms", load_median.as_secs_f64() * 1e3),
                format!("{:.0} files/s", files as f64 / load_median.as_secs_f64()),
                "—".into(),
            ],
            vec![
                format!("validate {filings} filings"),
                format!("{:.1} ms", validate_median.as_secs_f64() * 1e3),
                format!(
                    "{:.0} filings/s",
                    filings as f64 / validate_median.as_secs_f64()
                ),
                format!("{:.0} µs", p99.as_secs_f64() * 1e6),
            ],
        ],
    );
    Ok(())
}
