//! The procedure definitions and reference data compiled into the binary (the repository's
//! `procedures/` and `reference-data/` folders), so the server runs in a closed network, and
//! the live [`Catalog`] whose local rules authority admins can change at run time.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use include_dir::{Dir, include_dir};
use madoguchi_domain::authority::DesignationRules;
use madoguchi_domain::procedure::{LocalRules, ProcedureCatalog};

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

/// The procedure catalog the application serves from: the embedded definitions (fixed for
/// the life of the process, reached through `Deref`) and the **live** local rules — the
/// embedded files overlaid with what authority admins published in the database
/// (`authority_local_rules`), swapped at run time without a restart. A published rule
/// replaces the embedded file of the same authority and procedure; a published rule that adds
/// nothing hides it.
///
/// Readers take a snapshot (`Arc`s) and never wait for a writer for longer than a map swap.
pub struct Catalog {
    procedures: ProcedureCatalog,
    /// The embedded files' rules, by (authority, procedure).
    embedded: LocalRuleMap,
    /// What applies now, by (authority, procedure).
    live: RwLock<Arc<LocalRuleMap>>,
    /// Serialises publishing (read the newest row, then swap) so two publications of the same
    /// rule cannot leave the older one in place.
    pub(crate) publish_lock: tokio::sync::Mutex<()>,
}

type LocalRuleMap = BTreeMap<(String, String), Arc<LocalRules>>;

impl std::ops::Deref for Catalog {
    type Target = ProcedureCatalog;

    fn deref(&self) -> &ProcedureCatalog {
        &self.procedures
    }
}

impl Catalog {
    /// Serves `procedures` with their embedded local rules only (until [`Catalog::set_published`]).
    pub fn new(procedures: ProcedureCatalog) -> Catalog {
        let mut embedded = LocalRuleMap::new();
        for authority in procedures.authorities_with_local_rules() {
            for r in procedures.local_rules_of(authority) {
                embedded.insert(
                    (r.authority.clone(), r.procedure.clone()),
                    Arc::new(r.clone()),
                );
            }
        }
        Catalog {
            live: RwLock::new(Arc::new(embedded.clone())),
            embedded,
            procedures,
            publish_lock: tokio::sync::Mutex::new(()),
        }
    }

    fn snapshot(&self) -> Arc<LocalRuleMap> {
        self.live
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The local rules of the given authorities for one procedure, as they apply now.
    pub fn local_rules_for(&self, procedure: &str, authorities: &[String]) -> Vec<Arc<LocalRules>> {
        let live = self.snapshot();
        authorities
            .iter()
            .filter_map(|a| live.get(&(a.clone(), procedure.to_owned())).cloned())
            .collect()
    }

    /// The local rules of one authority (one per procedure it extends), as they apply now.
    pub fn local_rules_of(&self, authority: &str) -> Vec<Arc<LocalRules>> {
        self.snapshot()
            .iter()
            .filter(|((a, _), _)| a == authority)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The embedded file's rule of an authority for a procedure, if there is one.
    pub fn embedded_local_rules(
        &self,
        authority: &str,
        procedure: &str,
    ) -> Option<Arc<LocalRules>> {
        self.embedded
            .get(&(authority.to_owned(), procedure.to_owned()))
            .cloned()
    }

    /// Makes `rule` the one that applies for its authority and procedure (`None`: back to the
    /// embedded file, if any). A rule that adds nothing hides the file's.
    pub fn set_published(&self, authority: &str, procedure: &str, rule: Option<LocalRules>) {
        let key = (authority.to_owned(), procedure.to_owned());
        let mut guard = self
            .live
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut next: LocalRuleMap = (**guard).clone();
        match rule {
            Some(r) if r.is_empty() => {
                next.remove(&key);
            }
            Some(r) => {
                next.insert(key, Arc::new(r));
            }
            None => match self.embedded.get(&key) {
                Some(file) => {
                    next.insert(key, file.clone());
                }
                None => {
                    next.remove(&key);
                }
            },
        }
        *guard = Arc::new(next);
    }

    /// Checks a local-rules text for `authority` and `procedure` with the loader of the
    /// files; the loader's problems when it does not load.
    pub fn check_local_rules(
        &self,
        authority: &str,
        procedure: &str,
        text: &str,
    ) -> Result<LocalRules, Vec<madoguchi_domain::procedure::LoadError>> {
        let file = format!("local-rules/{authority}/{procedure}.toml");
        let rules = self.procedures.check_local_rules(&file, text)?;
        if rules.authority != authority || rules.procedure != procedure {
            return Err(vec![madoguchi_domain::procedure::LoadError {
                file,
                line: None,
                message: format!(
                    "the rule is for `{}` / `{}`, not `{authority}` / `{procedure}`",
                    rules.authority, rules.procedure
                ),
            }]);
        }
        Ok(rules)
    }
}

/// The text of an embedded local-rules file, if there is one.
pub fn embedded_local_rules_text(authority: &str, procedure: &str) -> Option<&'static str> {
    PROCEDURES
        .get_file(format!("local-rules/{authority}/{procedure}.toml"))
        .and_then(|f| f.contents_utf8())
}
