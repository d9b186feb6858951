//! Two ways a definition is extended without being copied:
//!
//! - **Local rules** (独自ルール), `procedures/local-rules/<authority code>/<procedure id>.toml`:
//!   an authority adds groups of fields, attachments and rules to a standard
//!   procedure, and may set its own deadline and its own form number. Its
//!   additions apply to its own cases only; a filing that goes to several
//!   authorities shows the union, each addition labelled with its authority.
//!   The law requires local rules to be published: they are listed publicly.
//! - **Annexes** (付表), `procedures/annexes/<service code>.toml`: the block a
//!   designation procedure asks per establishment for one service type. A
//!   definition with `[annexes] field = "service_types"` gets every annex as
//!   a per-establishment group shown when that field includes the annex's
//!   service type; adding a service is adding an annex file.

use serde::{Deserialize, Serialize};

use super::condition::Condition;
use super::deadline::Deadline;
use super::model::{AttachmentRequirement, Group, Origin, ProcedureDefinition, Rule};

/// One authority's additions to one procedure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalRules {
    /// 地方公共団体コード of the authority.
    pub authority: String,
    /// The standard procedure it extends.
    pub procedure: String,
    /// What the rule is and why (published with it).
    pub summary: String,
    /// The authority's own form number (第5号様式), shown on its cases.
    #[serde(default)]
    pub form_number: Option<String>,
    /// Replaces the standard deadline for this authority's cases.
    #[serde(default)]
    pub deadline: Option<Deadline>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub attachments: Vec<AttachmentRequirement>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The file it was loaded from (not written in the file).
    #[serde(default, skip_deserializing)]
    pub source: String,
}

impl LocalRules {
    /// Adds nothing and changes nothing: no field, document, check, deadline or form number
    /// (an authority's admin removed every addition).
    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.fields.is_empty())
            && self.attachments.is_empty()
            && self.rules.is_empty()
            && self.deadline.is_none()
            && self.form_number.is_none()
    }
}

/// The 付表 of one service type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annex {
    /// サービス種類コード (2 characters).
    pub service_type: String,
    /// 付表 title, e.g. 付表第一号（一）訪問介護事業所の指定等に関する記載事項.
    pub title: String,
    pub groups: Vec<Group>,
}

/// `[annexes]` of a definition: which top-level select field picks the services.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnexBinding {
    pub field: String,
}

impl ProcedureDefinition {
    /// Appends every annex as per-establishment groups shown for its service.
    pub(crate) fn attach_annexes(&mut self, annexes: &[Annex]) {
        let Some(binding) = self.annexes.clone() else {
            return;
        };
        for annex in annexes {
            for group in &annex.groups {
                let mut g = group.clone();
                g.per_establishment = true;
                g.visible_when = Some(Condition::Includes {
                    field: binding.field.clone(),
                    value: annex.service_type.clone(),
                });
                if g.description.is_empty() {
                    g.description = annex.title.clone();
                }
                self.groups.push(g);
            }
        }
    }

    /// This definition with the additions of the given authorities' local
    /// rules (those for other procedures are ignored), each labelled with its
    /// authority (`names`: code → name). With exactly one authority, its
    /// deadline and form number replace the standard ones. `rules` may hold
    /// references or shared pointers (the live catalog hands out `Arc`s).
    pub fn with_local_rules<R: std::borrow::Borrow<LocalRules>>(
        &self,
        rules: &[R],
        name_of: &dyn Fn(&str) -> Option<String>,
    ) -> ProcedureDefinition {
        let mut def = self.clone();
        let mine: Vec<&LocalRules> = rules
            .iter()
            .map(|r| r.borrow())
            .filter(|r| r.procedure == self.id)
            .collect();
        for r in &mine {
            let origin = Origin {
                authority: Some(r.authority.clone()),
                authority_name: name_of(&r.authority),
            };
            for g in &r.groups {
                let mut g = g.clone();
                g.origin = origin.clone();
                for f in &mut g.fields {
                    f.origin = origin.clone();
                }
                def.groups.push(g);
            }
            for a in &r.attachments {
                let mut a = a.clone();
                a.origin = origin.clone();
                def.attachments.push(a);
            }
            def.rules.extend(r.rules.iter().cloned());
            def.local_rules_of.push(r.authority.clone());
        }
        if let [only] = mine.as_slice() {
            if let Some(d) = &only.deadline {
                def.deadline = Some(d.clone());
            }
            if let Some(n) = &only.form_number {
                def.form_number = n.clone();
            }
        }
        def
    }
}
