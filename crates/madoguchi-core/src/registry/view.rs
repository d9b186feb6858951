//! Reading the registry as the actor may see it: a provider sees its own corporation's
//! establishments; authority staff see the establishments their authority designated.

use madoguchi_db::registry;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Actor, App, CoreError, CoreResult};

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DesignationItem {
    pub service_code: String,
    pub service_name: String,
    pub authority_code: String,
    pub authority_name: String,
    pub valid_from: String,
    pub valid_until: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EstablishmentView {
    pub id: String,
    pub corporation_id: String,
    pub office_number: String,
    pub municipality_code: String,
    pub name: String,
    /// The registry record (名称, 所在地, 管理者 …) every filing prefills from.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
    pub designations: Vec<DesignationItem>,
}

async fn to_view(
    tx: &mut madoguchi_db::Tx,
    e: registry::EstablishmentRow,
    authorities: &[registry::AuthorityRow],
) -> CoreResult<EstablishmentView> {
    let designations = registry::designations_of_establishment(tx, &e.id)
        .await?
        .into_iter()
        .map(|d| DesignationItem {
            service_name: madoguchi_domain::ids::find_service_type(&d.service_code)
                .map(|s| s.name.to_string())
                .unwrap_or_default(),
            authority_name: authorities
                .iter()
                .find(|a| a.code == d.authority_code)
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            service_code: d.service_code,
            authority_code: d.authority_code,
            valid_from: d.valid_from,
            valid_until: d.valid_until,
        })
        .collect();
    Ok(EstablishmentView {
        record: serde_json::from_str(&e.profile)?,
        id: e.id,
        corporation_id: e.corporation_id,
        office_number: e.office_number,
        municipality_code: e.municipality_code,
        name: e.name,
        designations,
    })
}

fn may_see(actor: &Actor, v: &EstablishmentView) -> bool {
    match (actor.corporation_id(), actor.authority_code()) {
        (Some(c), _) => v.corporation_id == c,
        (None, Some(a)) => v.designations.iter().any(|d| d.authority_code == a),
        _ => matches!(actor.role, crate::Role::Operator),
    }
}

/// Establishments visible to the actor.
pub async fn list(app: &App, actor: &Actor) -> CoreResult<Vec<EstablishmentView>> {
    let mut tx = app.db.begin_read().await?;
    let authorities = registry::list_authorities(&mut tx).await?;
    let rows = match actor.corporation_id() {
        Some(c) => registry::list_establishments_of(&mut tx, c).await?,
        None => {
            let mut all = Vec::new();
            for corp in registry::list_corporations(&mut tx).await? {
                all.extend(registry::list_establishments_of(&mut tx, &corp.id).await?);
            }
            all
        }
    };
    let mut out = Vec::new();
    for e in rows {
        let v = to_view(&mut tx, e, &authorities).await?;
        if may_see(actor, &v) {
            out.push(v);
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// One establishment, or `NotFound` if the actor may not see it.
pub async fn get(app: &App, actor: &Actor, id: &str) -> CoreResult<EstablishmentView> {
    let mut tx = app.db.begin_read().await?;
    let authorities = registry::list_authorities(&mut tx).await?;
    let e = registry::get_establishment(&mut tx, id).await?;
    let v = to_view(&mut tx, e, &authorities).await?;
    tx.commit().await?;
    if may_see(actor, &v) {
        Ok(v)
    } else {
        Err(CoreError::NotFound)
    }
}

/// The actor's corporation record (providers only).
pub async fn corporation(app: &App, actor: &Actor) -> CoreResult<(String, serde_json::Value)> {
    let corp = actor.require_provider()?;
    let mut tx = app.db.begin_read().await?;
    let c = registry::get_corporation(&mut tx, corp).await?;
    tx.commit().await?;
    Ok((c.name, serde_json::from_str(&c.profile)?))
}

/// The registry snapshot a provider's forms prefill from and compare with.
pub async fn snapshot_for(
    app: &App,
    corporation_id: &str,
) -> CoreResult<madoguchi_domain::registry::RegistrySnapshot> {
    let mut tx = app.db.begin_read().await?;
    let s = crate::registry::snapshot(&mut tx, corporation_id).await?;
    tx.commit().await?;
    Ok(s)
}
