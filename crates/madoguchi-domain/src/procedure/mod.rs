//! Procedure definitions (手続の定義) as data.
//!
//! A procedure type (変更届出, 廃止・休止届出 …) is described by a versioned
//! TOML file, `procedures/<id>/<version>.toml`, documented in
//! `docs/procedures.md`. This module parses those files into a
//! [`ProcedureCatalog`], and evaluates a definition against a filing's answers
//! ([`FilingData`]): visibility, validation, required attachments, prefill from
//! the registry and the registry effects applied on acceptance.
//!
//! Invariants: field ids are unique across a definition; conditions only look
//! at top-level fields; prefill/effect keys match their group's scope. The
//! loader enforces them, so evaluation never has to second-guess a definition.

mod attachments;
// Provider portal part A: reusing answers, what an option reveals.
mod carry;
mod check;
mod check_exprs;
mod check_refs;
pub mod code_tables;
mod condition;
mod deadline;
mod diff;
mod expr;
mod load;
mod local_rules;
pub mod local_rules_edit;
mod migrate;
mod model;
mod registry_link;
mod reveal;
mod rules;
mod sample;
mod validate;
mod values;
mod warnings;

pub use condition::Condition;
pub use deadline::Deadline;
pub use diff::{ChangeKind, FieldChange, FilingDiff, ItemChange, diff};
pub use expr::{EvalError, Expr, Vars};
pub use load::{LoadError, ProcedureCatalog, parse_definition};
pub use local_rules::{Annex, AnnexBinding, LocalRules};
pub use migrate::Migration;
pub use model::{
    AttachmentRequirement, Choice, Designates, Fanout, Field, FieldError, FieldKind, FilingData,
    Group, Origin, ProcedureDefinition, ProcedureKind, Renewal, Repeat, Review, Routing, Rule,
    Targets, designation_period,
};
pub use reveal::Revealed;
pub use values::{is_email, is_phone};

impl ProcedureDefinition {
    /// A field by id, with the group holding it.
    pub fn field(&self, id: &str) -> Option<(&Group, &Field)> {
        self.groups
            .iter()
            .find_map(|g| g.fields.iter().find(|f| f.id == id).map(|f| (g, f)))
    }

    /// An attachment requirement by id.
    pub fn attachment(&self, id: &str) -> Option<&AttachmentRequirement> {
        self.attachments.iter().find(|a| a.id == id)
    }
}
