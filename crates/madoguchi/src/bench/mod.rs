//! `madoguchi bench …`: benchmarks that generate their own data and print a table. Figures
//! and the commands that reproduce them are in BENCHMARKS.md. Each workload runs a bounded
//! number of rounds and reports the median, so a noisy machine shows as spread, not as a
//! wrong number.

pub mod limits;
pub mod load;
pub mod procedures;
pub mod server;
pub mod submit;
pub mod suite;

use std::time::Duration;

/// Median of the samples (sorted in place).
pub fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The `q`-quantile (0.0–1.0) of sorted samples.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Prints a plain-text table: a header row and rows of cells, columns padded.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let width = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(width(cell));
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i] - width(c))))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!("{}", line(header.to_vec()));
    println!(
        "{}",
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("-|-")
    );
    for row in rows {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
}
