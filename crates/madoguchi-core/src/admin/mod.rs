//! An authority's administration by its admins (管理): staff accounts and roles (`staff`),
//! the authority's local rules edited through forms with a preview before publishing
//! (`local_rules`, `preview`), its details and the code tables (`authority`), and
//! per-procedure statistics (`statistics`). Every use case starts with
//! [`crate::policy::may_administer_authority`]: another authority's code is `NotFound`, the
//! authority's reviewers are refused.

pub mod authority;
pub mod local_rules;
pub mod preview;
mod rule_edits;
pub(crate) mod rules_in_force;
pub mod staff;
pub mod statistics;

use madoguchi_db::{DbError, Tx, registry};

use crate::{Actor, CoreError, CoreResult};

/// The authority's name after the policy check; `NotFound` for an authority the registry
/// does not hold.
pub(crate) async fn authority_name(tx: &mut Tx, actor: &Actor, code: &str) -> CoreResult<String> {
    crate::policy::may_administer_authority(actor, code)?;
    match registry::get_authority(tx, code).await {
        Ok(a) => Ok(a.name),
        Err(DbError::NotFound) => Err(CoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Trims a required one-line text and checks its length; the error names the field.
pub(crate) fn required_text(
    field: &str,
    label: &str,
    value: &str,
    max: usize,
) -> Result<String, madoguchi_domain::procedure::FieldError> {
    let v = value.trim();
    let error = |code: &str, message: String| madoguchi_domain::procedure::FieldError {
        field: field.into(),
        code: code.into(),
        message,
    };
    if v.is_empty() {
        return Err(error("required", format!("{label}を入力してください。")));
    }
    if v.chars().count() > max {
        return Err(error(
            "too_long",
            format!("{label}は{max}文字以内で入力してください。"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(error(
            "invalid_format",
            format!("{label}に使えない文字（制御文字）が含まれています。"),
        ));
    }
    Ok(v.to_owned())
}
