//! Who is acting: a signed-in user with the role that decides what they may see and do.
//! Access rules live with the use cases; this module only resolves the actor.

use madoguchi_db::{Tx, users};

use crate::{CoreError, CoreResult};

/// The role a user acts in (from their membership).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// 事業者担当者 of a corporation.
    Provider { corporation_id: String },
    /// 審査担当 of an authority.
    Reviewer { authority_code: String },
    /// 管理者 of an authority.
    AuthorityAdmin { authority_code: String },
    /// 運営者 of the platform.
    Operator,
}

impl Role {
    pub fn key(&self) -> &'static str {
        match self {
            Role::Provider { .. } => "provider",
            Role::Reviewer { .. } => "reviewer",
            Role::AuthorityAdmin { .. } => "authority_admin",
            Role::Operator => "operator",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Role::Provider { .. } => "事業者",
            Role::Reviewer { .. } => "審査担当",
            Role::AuthorityAdmin { .. } => "自治体管理者",
            Role::Operator => "運営者",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: String,
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    /// May submit (and withdraw) filings. False for GビズID エントリー accounts (account type 1),
    /// which may view and draft only; local accounts are not restricted.
    pub can_submit: bool,
}

impl Actor {
    /// The corporation a provider acts for.
    pub fn corporation_id(&self) -> Option<&str> {
        match &self.role {
            Role::Provider { corporation_id } => Some(corporation_id),
            _ => None,
        }
    }

    /// The authority a reviewer or authority admin acts for.
    pub fn authority_code(&self) -> Option<&str> {
        match &self.role {
            Role::Reviewer { authority_code } | Role::AuthorityAdmin { authority_code } => {
                Some(authority_code)
            }
            _ => None,
        }
    }

    /// The provider's corporation, or `Forbidden` for other roles.
    pub fn require_provider(&self) -> CoreResult<&str> {
        self.corporation_id()
            .ok_or_else(|| CoreError::Forbidden("事業者の担当者のみが行える操作です。".into()))
    }

    /// `Forbidden` unless the actor may submit filings (GビズID エントリー accounts may not).
    pub fn require_can_submit(&self) -> CoreResult<()> {
        if self.can_submit {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "GビズIDエントリーのアカウントでは提出・取下げはできません（閲覧と下書きの作成・保存はできます）。GビズIDプライムまたはメンバーのアカウントでログインして提出してください。".into(),
            ))
        }
    }

    /// The reviewer's authority, or `Forbidden` for other roles.
    pub fn require_authority_staff(&self) -> CoreResult<&str> {
        self.authority_code()
            .ok_or_else(|| CoreError::Forbidden("自治体の担当者のみが行える操作です。".into()))
    }
}

/// Loads an active user and their (first) membership as an actor.
pub async fn load_actor(tx: &mut Tx, user_id: &str) -> CoreResult<Actor> {
    let user = users::get_user(tx, user_id).await?;
    if user.disabled_at.is_some() {
        return Err(CoreError::NotFound);
    }
    let memberships = users::memberships_of(tx, user_id).await?;
    let m = memberships.first().ok_or(CoreError::NotFound)?;
    let role = match (m.role.as_str(), &m.corporation_id, &m.authority_code) {
        ("provider", Some(c), _) => Role::Provider {
            corporation_id: c.clone(),
        },
        ("reviewer", _, Some(a)) => Role::Reviewer {
            authority_code: a.clone(),
        },
        ("authority_admin", _, Some(a)) => Role::AuthorityAdmin {
            authority_code: a.clone(),
        },
        ("operator", _, _) => Role::Operator,
        _ => {
            return Err(CoreError::Internal(format!(
                "membership {} is malformed",
                m.id
            )));
        }
    };
    // Provider-identity users carry their provider's account type; エントリー (1) may not
    // submit, and neither may an account whose type the provider did not state.
    let can_submit = match madoguchi_db::oidc::account_type_of(tx, user_id).await? {
        None => true,
        Some(t) => t == "2" || t == "3",
    };
    Ok(Actor {
        user_id: user.id,
        login: user.login,
        display_name: user.display_name,
        email: user.email,
        role,
        can_submit,
    })
}
