//! Loading definition files into a catalog.
//!
//! The domain crate does no I/O: callers hand over `(file name, TOML text)`
//! pairs (the binary embeds `procedures/<id>/<version>.toml`). Every problem is
//! reported at once, each with the file and, wherever it can be found, the line,
//! so a definition author fixes a file in one pass.

use std::collections::BTreeMap;
use std::fmt;

use toml::de::{DeTable, DeValue};

use super::check::{Problem, Seg, check_definition};
use super::model::ProcedureDefinition;

/// A definition file that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// The file name as given to [`ProcedureCatalog::from_sources`].
    pub file: String,
    /// 1-based line in that file, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// All loaded procedure definitions, every version of every procedure type.
#[derive(Clone, Debug, Default)]
pub struct ProcedureCatalog {
    /// id → version → definition.
    by_id: BTreeMap<String, BTreeMap<String, ProcedureDefinition>>,
}

impl ProcedureCatalog {
    /// Parses and checks every source; all or nothing.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Vec<LoadError>> {
        let mut errors = Vec::new();
        let mut catalog = ProcedureCatalog::default();
        let mut origin: BTreeMap<(String, String), String> = BTreeMap::new();
        for (file, text) in sources {
            let def = match parse_definition(file, text) {
                Ok(def) => def,
                Err(mut errs) => {
                    errors.append(&mut errs);
                    continue;
                }
            };
            let key = (def.id.clone(), def.version.clone());
            if let Some(first) = origin.get(&key) {
                let at = Locator::new(text).line(&[Seg::Key("version")]);
                errors.push(LoadError {
                    file: file.to_owned(),
                    line: at,
                    message: format!(
                        "procedure `{}` version `{}` is already defined in {first}",
                        def.id, def.version
                    ),
                });
                continue;
            }
            origin.insert(key, file.to_owned());
            catalog
                .by_id
                .entry(def.id.clone())
                .or_default()
                .insert(def.version.clone(), def);
        }
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(errors)
        }
    }

    /// One exact version.
    pub fn get(&self, id: &str, version: &str) -> Option<&ProcedureDefinition> {
        self.by_id.get(id)?.get(version)
    }

    /// The highest version of a procedure type.
    pub fn latest(&self, id: &str) -> Option<&ProcedureDefinition> {
        self.by_id.get(id)?.values().next_back()
    }

    /// The latest version of every procedure type, sorted by id.
    pub fn list_latest(&self) -> Vec<&ProcedureDefinition> {
        self.by_id
            .values()
            .filter_map(|versions| versions.values().next_back())
            .collect()
    }

    /// Every version of a procedure type, oldest first.
    pub fn versions(&self, id: &str) -> Vec<&ProcedureDefinition> {
        self.by_id
            .get(id)
            .map(|v| v.values().collect())
            .unwrap_or_default()
    }
}

/// Parses and checks one definition file.
pub fn parse_definition(file: &str, text: &str) -> Result<ProcedureDefinition, Vec<LoadError>> {
    let mut def: ProcedureDefinition = toml::from_str(text).map_err(|e| {
        vec![LoadError {
            file: file.to_owned(),
            line: e.span().map(|s| line_at(text, s.start)),
            message: e.message().trim().to_owned(),
        }]
    })?;
    let mut problems: Vec<Problem> = fill_code_tables(&mut def);
    problems.extend(check_definition(&def, file));
    if problems.is_empty() {
        return Ok(def);
    }
    let locator = Locator::new(text);
    Err(problems
        .into_iter()
        .map(|p| LoadError {
            file: file.to_owned(),
            line: locator.line(&p.path),
            message: p.message,
        })
        .collect())
}

/// Fills the options of fields that take them from a code table.
fn fill_code_tables(def: &mut ProcedureDefinition) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (gi, group) in def.groups.iter_mut().enumerate() {
        for (fi, field) in group.fields.iter_mut().enumerate() {
            let Some(table) = &field.code_table else {
                continue;
            };
            if !field.options.is_empty() {
                problems.push(Problem {
                    path: vec![
                        Seg::Key("groups"),
                        Seg::Index(gi),
                        Seg::Key("fields"),
                        Seg::Index(fi),
                        Seg::Key("options"),
                    ],
                    message: format!("field `{}` has both options and code_table", field.id),
                });
            } else if let Some(options) = super::code_tables::options(table) {
                field.options = options;
            }
        }
    }
    problems
}

/// 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Finds the line of a path (`groups[2].fields[0].prefill`) in the source,
/// falling back to the nearest enclosing item that exists.
struct Locator<'t> {
    text: &'t str,
    root: Option<DeValue<'t>>,
}

impl<'t> Locator<'t> {
    fn new(text: &'t str) -> Self {
        let root = DeTable::parse(text)
            .ok()
            .map(|t| DeValue::Table(t.into_inner()));
        Locator { text, root }
    }

    fn line(&self, path: &[Seg]) -> Option<usize> {
        let mut current = self.root.as_ref()?;
        let mut span = None;
        for seg in path {
            let next = match seg {
                Seg::Key(k) => current.get(*k),
                Seg::Index(i) => current.get(*i),
            };
            let Some(next) = next else { break };
            span = Some(next.span());
            current = next.get_ref();
        }
        span.map(|s| line_at(self.text, s.start))
    }
}
