//! The procedure definitions and reference data compiled into the binary (the repository's
//! `procedures/` and `reference-data/` folders), so the server runs in a closed network.

use include_dir::{Dir, include_dir};
use madoguchi_domain::authority::DesignationRules;
use madoguchi_domain::procedure::ProcedureCatalog;

use crate::{CoreError, CoreResult};

static PROCEDURES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../../procedures");
const DESIGNATION_RULES: &str = include_str!("../../../reference-data/designation-rules.toml");

/// Every `*.toml` under `procedures/`, as (path, text).
pub fn embedded_sources() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    collect(&PROCEDURES, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    for f in dir.files() {
        if f.path().extension().is_some_and(|e| e == "toml")
            && let Some(text) = f.contents_utf8()
        {
            out.push((format!("procedures/{}", f.path().display()), text));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// Loads the embedded procedure catalog; any definition error stops start-up with its file and line.
pub fn embedded_catalog() -> CoreResult<ProcedureCatalog> {
    let sources = embedded_sources();
    ProcedureCatalog::from_sources(sources.iter().map(|(p, t)| (p.as_str(), *t))).map_err(|errs| {
        CoreError::Internal(format!(
            "procedure definitions failed to load:\n{}",
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        ))
    })
}

/// The embedded designation routing rules.
pub fn embedded_rules() -> CoreResult<DesignationRules> {
    DesignationRules::from_toml(DESIGNATION_RULES)
        .map_err(|e| CoreError::Internal(format!("designation-rules.toml: {e}")))
}
