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
use super::local_rules::{Annex, LocalRules};
use super::model::ProcedureDefinition;
use crate::ids::{LocalGovCode, find_service_type};

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
    /// Local rules by authority code, then procedure id.
    local: BTreeMap<String, BTreeMap<String, LocalRules>>,
}

/// What kind of file a source path is.
fn is_annex(file: &str) -> bool {
    file.starts_with("annexes/") || file.contains("/annexes/")
}

fn is_local_rules(file: &str) -> bool {
    file.starts_with("local-rules/") || file.contains("/local-rules/")
}

fn toml_error(file: &str, text: &str, e: toml::de::Error) -> LoadError {
    LoadError {
        file: file.to_owned(),
        line: e.span().map(|s| line_at(text, s.start)),
        message: e.message().trim().to_owned(),
    }
}

impl ProcedureCatalog {
    /// Parses and checks every source; all or nothing.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Vec<LoadError>> {
        let mut errors = Vec::new();
        let mut catalog = ProcedureCatalog::default();
        let mut origin: BTreeMap<(String, String), String> = BTreeMap::new();
        let sources: Vec<(&str, &str)> = sources.into_iter().collect();
        let mut annexes: Vec<Annex> = Vec::new();
        for (file, text) in sources.iter().filter(|(f, _)| is_annex(f)) {
            match toml::from_str::<Annex>(text) {
                Err(e) => errors.push(toml_error(file, text, e)),
                Ok(a) if find_service_type(&a.service_type).is_none() => errors.push(LoadError {
                    file: (*file).to_owned(),
                    line: Locator::new(text).line(&[Seg::Key("service_type")]),
                    message: format!("unknown service type `{}`", a.service_type),
                }),
                Ok(a) => annexes.push(a),
            }
        }
        annexes.sort_by(|a, b| a.service_type.cmp(&b.service_type));
        let definitions = sources
            .iter()
            .filter(|(f, _)| !is_annex(f) && !is_local_rules(f));
        for &(file, text) in definitions {
            let def = match parse_with_annexes(file, text, &annexes) {
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
        for &(file, text) in sources.iter().filter(|(f, _)| is_local_rules(f)) {
            match catalog.load_local_rules(file, text) {
                Ok(rules) => {
                    catalog
                        .local
                        .entry(rules.authority.clone())
                        .or_default()
                        .insert(rules.procedure.clone(), rules);
                }
                Err(mut errs) => errors.append(&mut errs),
            }
        }
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(errors)
        }
    }

    /// Parses and checks one local-rules text as if it were the file `file`
    /// (`local-rules/<authority>/<procedure>.toml`) against this catalog's
    /// procedures, without adding it: how local rules kept outside the files
    /// (an authority admin's, in the database) are checked by the same loader.
    pub fn check_local_rules(&self, file: &str, text: &str) -> Result<LocalRules, Vec<LoadError>> {
        self.load_local_rules(file, text)
    }

    /// Parses one local-rules file and checks it merged into every version of
    /// its procedure; problems point at the local-rules file.
    fn load_local_rules(&self, file: &str, text: &str) -> Result<LocalRules, Vec<LoadError>> {
        let mut rules: LocalRules =
            toml::from_str(text).map_err(|e| vec![toml_error(file, text, e)])?;
        rules.source = file.to_owned();
        let locator = Locator::new(text);
        let err = |path: &[Seg], message: String| LoadError {
            file: file.to_owned(),
            line: locator.line(path),
            message,
        };
        let mut errors = Vec::new();
        if LocalGovCode::parse(&rules.authority).is_err() {
            errors.push(err(
                &[Seg::Key("authority")],
                format!("`{}` is not a valid 地方公共団体コード", rules.authority),
            ));
        }
        let dir = file.rsplit('/').nth(1).unwrap_or("");
        if dir != rules.authority {
            errors.push(err(
                &[Seg::Key("authority")],
                format!(
                    "authority `{}` must match its folder `{dir}`",
                    rules.authority
                ),
            ));
        }
        if rules.summary.trim().is_empty() {
            errors.push(err(
                &[Seg::Key("summary")],
                "summary must not be empty".into(),
            ));
        }
        let versions = self.versions(&rules.procedure);
        if versions.is_empty() {
            errors.push(err(
                &[Seg::Key("procedure")],
                format!("unknown procedure `{}`", rules.procedure),
            ));
        }
        for def in versions {
            let merged = def.with_local_rules(&[&rules], &|_| None);
            let (ng, na, nr) = (def.groups.len(), def.attachments.len(), def.rules.len());
            for p in check_definition(&merged, file) {
                // Only problems in what the local rules add (the standard is checked on its own).
                let mapped: Option<Vec<Seg>> = match p.path.as_slice() {
                    [Seg::Key("groups"), Seg::Index(i), rest @ ..] if *i >= ng => {
                        Some([&[Seg::Key("groups"), Seg::Index(i - ng)], rest].concat())
                    }
                    [Seg::Key("attachments"), Seg::Index(i), rest @ ..] if *i >= na => {
                        Some([&[Seg::Key("attachments"), Seg::Index(i - na)], rest].concat())
                    }
                    [Seg::Key("rules"), Seg::Index(i), rest @ ..] if *i >= nr => {
                        Some([&[Seg::Key("rules"), Seg::Index(i - nr)], rest].concat())
                    }
                    [Seg::Key("deadline"), ..] if rules.deadline.is_some() => {
                        Some(vec![Seg::Key("deadline")])
                    }
                    // Duplicate ids between the standard and the additions.
                    _ if p.message.contains("duplicate") => Some(vec![]),
                    _ => None,
                };
                if let Some(path) = mapped {
                    let message = format!("{} (with {} {})", p.message, def.id, def.version);
                    if !errors.iter().any(|e: &LoadError| e.message == message) {
                        errors.push(err(&path, message));
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(rules)
        } else {
            Err(errors)
        }
    }

    /// The local rules of one authority, by procedure id.
    pub fn local_rules_of(&self, authority: &str) -> Vec<&LocalRules> {
        self.local
            .get(authority)
            .map(|m| m.values().collect())
            .unwrap_or_default()
    }

    /// The local rules of the given authorities for one procedure.
    pub fn local_rules_for(&self, procedure: &str, authorities: &[String]) -> Vec<&LocalRules> {
        authorities
            .iter()
            .filter_map(|a| self.local.get(a)?.get(procedure))
            .collect()
    }

    /// Every authority that has local rules.
    pub fn authorities_with_local_rules(&self) -> Vec<&str> {
        self.local.keys().map(String::as_str).collect()
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

/// Parses and checks one definition file (without annexes).
pub fn parse_definition(file: &str, text: &str) -> Result<ProcedureDefinition, Vec<LoadError>> {
    parse_with_annexes(file, text, &[])
}

fn parse_with_annexes(
    file: &str,
    text: &str,
    annexes: &[Annex],
) -> Result<ProcedureDefinition, Vec<LoadError>> {
    let mut def: ProcedureDefinition =
        toml::from_str(text).map_err(|e| vec![toml_error(file, text, e)])?;
    let own_groups = def.groups.len();
    def.attach_annexes(annexes);
    let mut problems: Vec<Problem> = fill_code_tables(&mut def);
    problems.extend(check_definition(&def, file));
    if let Some(b) = &def.annexes {
        let ok = def.field(&b.field).is_some_and(|(g, f)| {
            !g.per_establishment && g.repeat.is_none() && f.kind.has_options()
        });
        if !ok {
            problems.push(Problem {
                path: vec![Seg::Key("annexes")],
                message: format!(
                    "annexes.field `{}` must be a top-level select or multi_select field",
                    b.field
                ),
            });
        }
    }
    if problems.is_empty() {
        return Ok(def);
    }
    let locator = Locator::new(text);
    Err(problems
        .into_iter()
        .map(|p| {
            // A problem inside an annex group is the annex's: say which.
            let message = match p.path.as_slice() {
                [Seg::Key("groups"), Seg::Index(i), ..] if *i >= own_groups => {
                    format!("{} (in annex group `{}`)", p.message, def.groups[*i].id)
                }
                _ => p.message,
            };
            LoadError {
                file: file.to_owned(),
                line: locator.line(&p.path),
                message,
            }
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
