//! Load-time checks of a definition: everything the type system cannot say
//! (ids, duplicates, empty strings, options; references are in `check_refs`).
//!
//! Each problem carries the path of the offending item (`groups[1].fields[0]`)
//! so the loader can point at its line. Messages are English: they are read by
//! definition authors in start-up logs and CI, not by providers.

use std::collections::BTreeSet;

use super::model::{Field, FieldKind, ProcedureDefinition};

/// One step of a path into the definition document.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Seg {
    Key(&'static str),
    Index(usize),
}

/// A problem found in a definition, located by its path.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    pub path: Vec<Seg>,
    pub message: String,
}

use Seg::{Index, Key};

/// Checks a parsed definition; `file` is used to compare the file name with
/// the declared version.
pub(crate) fn check_definition(def: &ProcedureDefinition, file: &str) -> Vec<Problem> {
    let mut c = Checker {
        def,
        problems: Vec::new(),
    };
    c.header(file);
    c.groups();
    for gi in 0..def.groups.len() {
        c.group_extras(gi);
    }
    c.attachments();
    c.cycles();
    c.definition_extras();
    c.problems
}

pub(super) struct Checker<'d> {
    pub(super) def: &'d ProcedureDefinition,
    problems: Vec<Problem>,
}

/// `^[a-z][a-z0-9_]*$`: ids appear in JSON paths, HTML names and URLs.
fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `YYYY-MM` or `YYYY-MM-DD`, so that versions sort chronologically as text.
pub(crate) fn is_version(s: &str) -> bool {
    let ok_month = |m: &str| matches!(m.parse::<u32>(), Ok(1..=12)) && m.len() == 2;
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match s.split('-').collect::<Vec<_>>()[..] {
        [y, m] => digits(y, 4) && ok_month(m),
        [y, m, d] => digits(y, 4) && ok_month(m) && digits(d, 2) && ("01"..="31").contains(&d),
        _ => false,
    }
}

impl Checker<'_> {
    pub(super) fn problem(&mut self, path: Vec<Seg>, message: String) {
        self.problems.push(Problem { path, message });
    }

    fn not_empty(&mut self, value: &str, path: Vec<Seg>, what: &str) {
        if value.trim().is_empty() {
            self.problem(path, format!("{what} must not be empty"));
        }
    }

    fn header(&mut self, file: &str) {
        let d = self.def;
        let id_ok = d.id.starts_with(|c: char| c.is_ascii_lowercase())
            && d.id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            self.problem(
                vec![Key("id")],
                format!("procedure id `{}` must match [a-z][a-z0-9-]*", d.id),
            );
        }
        if !is_version(&d.version) {
            self.problem(
                vec![Key("version")],
                format!("version `{}` must be YYYY-MM or YYYY-MM-DD", d.version),
            );
        } else if let Some(stem) = file
            .rsplit(['/', '\\'])
            .next()
            .and_then(|n| n.strip_suffix(".toml"))
            && is_version(stem)
            && stem != d.version
        {
            self.problem(
                vec![Key("version")],
                format!(
                    "version `{}` does not match the file name `{stem}.toml`",
                    d.version
                ),
            );
        }
        self.not_empty(&d.title, vec![Key("title")], "title");
        self.not_empty(&d.form_number, vec![Key("form_number")], "form_number");
        if let Some(max) = d.targets.max_establishments
            && max < d.targets.min_establishments
        {
            self.problem(
                vec![Key("targets")],
                format!("targets: max_establishments {max} must be ≥ min_establishments"),
            );
        }
        if let Some(x) = &d.designates {
            let ok = d.field(&x.start_field).is_some_and(|(g, f)| {
                !g.per_establishment && g.repeat.is_none() && f.kind == FieldKind::Date
            });
            if !ok || d.annexes.is_none() || !(1..=10).contains(&x.years) {
                self.problem(
                    vec![Key("designates")],
                    format!(
                        "designates needs [annexes], a top-level date start_field (`{}`) and years 1–10",
                        x.start_field
                    ),
                );
            }
        }
        if let Some(r) = &d.renews {
            let ok = d.field(&r.service_field).is_some_and(|(g, f)| {
                !g.per_establishment && g.repeat.is_none() && f.kind.has_options()
            });
            if !ok {
                self.problem(
                    vec![Key("renews"), Key("service_field")],
                    format!(
                        "renews.service_field `{}` must be a top-level select field",
                        r.service_field
                    ),
                );
            }
            if !(1..=10).contains(&r.years) {
                self.problem(
                    vec![Key("renews"), Key("years")],
                    format!("renews.years {} must be 1–10", r.years),
                );
            }
        }
        if let Some(r) = &d.routing
            && crate::ids::LocalGovCode::parse(&r.authority).is_err()
        {
            self.problem(
                vec![Key("routing"), Key("authority")],
                format!(
                    "routing.authority `{}` is not a valid 地方公共団体コード",
                    r.authority
                ),
            );
        }
        if let Some(c) = &d.fanout.corporation_wide_when {
            self.condition(c, vec![Key("fanout"), Key("corporation_wide_when")]);
        }
    }

    fn groups(&mut self) {
        let mut group_ids = BTreeSet::new();
        let mut field_ids = BTreeSet::new();
        for (gi, group) in self.def.groups.iter().enumerate() {
            let at = |rest: &[Seg]| [&[Key("groups"), Index(gi)], rest].concat();
            if !is_ident(&group.id) {
                self.problem(
                    at(&[Key("id")]),
                    format!("group id `{}` must match [a-z][a-z0-9_]*", group.id),
                );
            } else if !group_ids.insert(group.id.as_str()) {
                self.problem(
                    at(&[Key("id")]),
                    format!("duplicate group id `{}`", group.id),
                );
            }
            self.not_empty(&group.title, at(&[Key("title")]), "group title");
            if let Some(c) = &group.visible_when {
                self.condition(c, at(&[Key("visible_when")]));
            }
            for (fi, field) in group.fields.iter().enumerate() {
                let fat = |k: &'static str| at(&[Key("fields"), Index(fi), Key(k)]);
                if !is_ident(&field.id) {
                    self.problem(
                        fat("id"),
                        format!("field id `{}` must match [a-z][a-z0-9_]*", field.id),
                    );
                } else if !field_ids.insert(field.id.as_str()) {
                    self.problem(
                        fat("id"),
                        format!(
                            "duplicate field id `{}` (field ids are unique across the definition)",
                            field.id
                        ),
                    );
                }
                self.field(field, group.per_establishment, &fat);
            }
        }
    }

    fn field(&mut self, f: &Field, per_establishment: bool, at: &dyn Fn(&'static str) -> Vec<Seg>) {
        self.not_empty(&f.label, at("label"), "field label");
        if f.kind.has_options() {
            if f.options.is_empty() {
                self.problem(
                    at("kind"),
                    format!("field `{}` of kind {} needs options", f.id, f.kind.as_str()),
                );
            }
            let mut seen = BTreeSet::new();
            for (oi, choice) in f.options.iter().enumerate() {
                let oat = [at("options"), vec![Index(oi)]].concat();
                if choice.value.trim().is_empty() || choice.label.trim().is_empty() {
                    self.problem(
                        oat,
                        format!("an option of field `{}` has an empty value or label", f.id),
                    );
                } else if !seen.insert(choice.value.as_str()) {
                    self.problem(
                        oat,
                        format!("duplicate option `{}` in field `{}`", choice.value, f.id),
                    );
                }
            }
        } else if !f.options.is_empty() {
            self.problem(
                at("options"),
                format!(
                    "field `{}` of kind {} cannot have options",
                    f.id,
                    f.kind.as_str()
                ),
            );
        }
        if let Some(max) = f.max_length
            && (!f.kind.is_free_text() || max == 0)
        {
            self.problem(
                at("max_length"),
                format!(
                    "max_length of field `{}` needs a text kind and a value ≥ 1",
                    f.id
                ),
            );
        }
        if f.unit.is_some() && !f.kind.is_numeric() {
            self.problem(
                at("unit"),
                format!("unit of field `{}` needs kind integer or number", f.id),
            );
        }
        if let Some(c) = &f.required_when {
            if f.required {
                self.problem(
                    at("required_when"),
                    format!(
                        "field `{}` has both required = true and required_when",
                        f.id
                    ),
                );
            }
            self.condition(c, at("required_when"));
        }
        for (key, binding) in [(&f.prefill, "prefill"), (&f.effect, "effect")] {
            if let Some(key) = key {
                self.binding(f, key, binding, per_establishment, at(binding));
            }
        }
    }

    fn attachments(&mut self) {
        let mut ids = BTreeSet::new();
        for (ai, a) in self.def.attachments.iter().enumerate() {
            let at = |k: &'static str| vec![Key("attachments"), Index(ai), Key(k)];
            if !is_ident(&a.id) {
                self.problem(
                    at("id"),
                    format!("attachment id `{}` must match [a-z][a-z0-9_]*", a.id),
                );
            } else if !ids.insert(a.id.as_str()) {
                self.problem(at("id"), format!("duplicate attachment id `{}`", a.id));
            }
            self.not_empty(&a.label, at("label"), "attachment label");
            if let Some(c) = &a.required_when {
                if a.required {
                    self.problem(
                        at("required_when"),
                        format!(
                            "attachment `{}` has both required = true and required_when",
                            a.id
                        ),
                    );
                }
                self.condition(c, at("required_when"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_version;

    #[test]
    fn versions() {
        assert!(is_version("2026-04"));
        assert!(is_version("2026-10-01"));
        assert!(!is_version("2026-4"));
        assert!(!is_version("2026-13"));
        assert!(!is_version("v1"));
        assert!(!is_version("2026-04-32"));
    }
}
