//! Authorization, in one place. Two layers, both here:
//!
//! 1. **Who may call a route at all** ([`Access`]): every route of the web crate is declared
//!    with one, and the router is built from that table, so a route cannot exist without a
//!    policy (a test walks the table).
//! 2. **Which objects an actor may see or change** (the `may_*` functions): a provider only its
//!    corporation's filings and files; authority staff only cases addressed to their
//!    authority. Use cases call these right after loading an object, and answer `NotFound` —
//!    never `Forbidden` — for another tenant's object, so ids cannot be probed.

use crate::{Actor, CoreError, CoreResult, Role};

/// The role-level policy of a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (health, assets, sign-in pages, OpenAPI document).
    Public,
    /// Any signed-in user (their own profile, sign-out, files they may see).
    SignedIn,
    /// Provider staff of a corporation.
    Provider,
    /// Reviewers and admins of an authority.
    AuthorityStaff,
    /// Admins of an authority.
    AuthorityAdmin,
    /// Provider staff or authority staff (both sides of a case: comments).
    CaseParty,
}

impl Access {
    /// Whether a signed-in actor passes this route policy.
    pub fn permits(self, actor: &Actor) -> bool {
        match self {
            Access::Public | Access::SignedIn => true,
            Access::Provider => matches!(actor.role, Role::Provider { .. }),
            Access::AuthorityStaff => matches!(
                actor.role,
                Role::Reviewer { .. } | Role::AuthorityAdmin { .. }
            ),
            Access::AuthorityAdmin => matches!(actor.role, Role::AuthorityAdmin { .. }),
            Access::CaseParty => matches!(
                actor.role,
                Role::Provider { .. } | Role::Reviewer { .. } | Role::AuthorityAdmin { .. }
            ),
        }
    }

    /// Whether the route needs a signed-in actor.
    pub fn needs_actor(self) -> bool {
        self != Access::Public
    }
}

/// A provider may see and change filings of its own corporation.
pub fn may_access_filing(actor: &Actor, filing_corporation_id: &str) -> CoreResult<()> {
    if actor.corporation_id() == Some(filing_corporation_id) {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}

/// Authority staff may see and decide cases addressed to their authority.
pub fn may_handle_case(actor: &Actor, case_authority_code: &str) -> CoreResult<()> {
    if actor.authority_code() == Some(case_authority_code) {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}

/// An authority's ledger linkage (changes feed, exports, webhooks, import) is for that
/// authority's staff only; the route's `Access` decides reviewer or admin.
pub fn may_use_ledger(actor: &Actor, authority_code: &str) -> CoreResult<()> {
    if actor.authority_code() == Some(authority_code) {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}

/// An authority's administration (staff accounts, local rules, authority details,
/// statistics) is for that authority's admins: another authority's code is `NotFound` for
/// everyone, and the authority's own reviewers are refused (`Forbidden`).
pub fn may_administer_authority(actor: &Actor, authority_code: &str) -> CoreResult<()> {
    if actor.authority_code() != Some(authority_code) {
        return Err(CoreError::NotFound);
    }
    match actor.role {
        Role::AuthorityAdmin { .. } => Ok(()),
        _ => Err(CoreError::Forbidden(
            "この操作は自治体の管理者のみが行えます。".into(),
        )),
    }
}

/// Both parties of a case may comment on it: its authority's staff and the filing corporation.
pub fn may_comment_case(
    actor: &Actor,
    case_authority_code: &str,
    case_corporation_id: &str,
) -> CoreResult<()> {
    if actor.authority_code() == Some(case_authority_code)
        || actor.corporation_id() == Some(case_corporation_id)
    {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}

/// Both parties of a case may read its form set (print view, .xlsx): the addressed
/// authority's staff and the filing corporation's provider staff.
pub fn may_read_case_form(
    actor: &Actor,
    case_authority_code: &str,
    case_corporation_id: &str,
) -> CoreResult<()> {
    if actor.authority_code() == Some(case_authority_code)
        || actor.corporation_id() == Some(case_corporation_id)
    {
        Ok(())
    } else {
        Err(CoreError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: "u".into(),
            login: "l".into(),
            display_name: "d".into(),
            email: String::new(),
            role,
            can_submit: true,
        }
    }

    #[test]
    fn roles_meet_route_policies() {
        let p = actor(Role::Provider {
            corporation_id: "c1".into(),
        });
        let r = actor(Role::Reviewer {
            authority_code: "131041".into(),
        });
        let a = actor(Role::AuthorityAdmin {
            authority_code: "131041".into(),
        });
        let o = actor(Role::Operator);
        assert!(
            Access::Provider.permits(&p)
                && !Access::Provider.permits(&r)
                && !Access::Provider.permits(&o)
        );
        assert!(
            Access::AuthorityStaff.permits(&r)
                && Access::AuthorityStaff.permits(&a)
                && !Access::AuthorityStaff.permits(&p)
        );
        assert!(Access::AuthorityAdmin.permits(&a) && !Access::AuthorityAdmin.permits(&r));
        assert!(
            Access::CaseParty.permits(&p)
                && Access::CaseParty.permits(&r)
                && !Access::CaseParty.permits(&o)
        );
        assert!(Access::SignedIn.permits(&o));
    }

    #[test]
    fn objects_of_other_tenants_are_not_found() {
        let p = actor(Role::Provider {
            corporation_id: "c1".into(),
        });
        let r = actor(Role::Reviewer {
            authority_code: "131041".into(),
        });
        assert!(may_access_filing(&p, "c1").is_ok());
        assert!(matches!(
            may_access_filing(&p, "c2"),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(
            may_access_filing(&r, "c1"),
            Err(CoreError::NotFound)
        ));
        assert!(may_handle_case(&r, "131041").is_ok());
        assert!(matches!(
            may_handle_case(&r, "141003"),
            Err(CoreError::NotFound)
        ));
        assert!(may_use_ledger(&r, "131041").is_ok());
        assert!(matches!(
            may_use_ledger(&r, "141003"),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(may_use_ledger(&p, "c1"), Err(CoreError::NotFound)));
        let admin = actor(Role::AuthorityAdmin {
            authority_code: "131041".into(),
        });
        assert!(may_administer_authority(&admin, "131041").is_ok());
        assert!(matches!(
            may_administer_authority(&admin, "141003"),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(
            may_administer_authority(&r, "131041"),
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            may_administer_authority(&r, "141003"),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(
            may_administer_authority(&p, "131041"),
            Err(CoreError::NotFound)
        ));
        assert!(may_comment_case(&p, "141003", "c1").is_ok());
        assert!(may_read_case_form(&p, "141003", "c1").is_ok());
        assert!(may_read_case_form(&r, "131041", "c9").is_ok());
        assert!(matches!(
            may_read_case_form(&p, "141003", "c2"),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(
            may_read_case_form(&r, "141003", "c1"),
            Err(CoreError::NotFound)
        ));
        assert!(matches!(
            may_comment_case(&p, "141003", "c2"),
            Err(CoreError::NotFound)
        ));
    }
}
