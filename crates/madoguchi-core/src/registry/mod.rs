//! The once-only registry: reading a corporation's record as a snapshot for prefill, and
//! applying accepted registry effects (recording every old and new value).

pub mod demo;
// Provider portal part A: マイページ.
pub mod organisation;
pub mod view;

use madoguchi_db::{Tx, registry};
use madoguchi_domain::registry::{EffectTarget, RegistryEffect, RegistrySnapshot};

use crate::CoreResult;

/// The corporation's record and those of all its establishments.
pub async fn snapshot(tx: &mut Tx, corporation_id: &str) -> CoreResult<RegistrySnapshot> {
    let corp = registry::get_corporation(tx, corporation_id).await?;
    let mut snap = RegistrySnapshot {
        corporation: registry::parse_profile(&corp.profile)?,
        ..Default::default()
    };
    for e in registry::list_establishments_of(tx, corporation_id).await? {
        snap.establishments
            .insert(e.id.clone(), registry::parse_profile(&e.profile)?);
    }
    Ok(snap)
}

/// Applies effects to the registry, limited to `establishment_scope` for establishment
/// targets; records each change against the case. Returns how many values changed.
pub async fn apply_effects(
    tx: &mut Tx,
    corporation_id: &str,
    effects: &[RegistryEffect],
    establishment_scope: &[String],
    case_id: &str,
    authority_code: &str,
    now: i64,
) -> CoreResult<usize> {
    let mut changed = 0;
    let corp_effects: Vec<_> = effects
        .iter()
        .filter(|e| e.target == EffectTarget::Corporation)
        .collect();
    if !corp_effects.is_empty() {
        let corp = registry::get_corporation(tx, corporation_id).await?;
        let mut profile = registry::parse_profile(&corp.profile)?;
        for e in corp_effects {
            let old = profile
                .get(&e.key)
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            if old != e.value {
                registry::insert_registry_change(
                    tx,
                    case_id,
                    authority_code,
                    "corporation",
                    corporation_id,
                    &e.key,
                    &old,
                    &e.value,
                    now,
                )
                .await?;
                profile.insert(e.key.clone(), e.value.clone());
                changed += 1;
            }
        }
        registry::update_corporation_profile(tx, corporation_id, &profile, now).await?;
    }
    for est_id in establishment_scope {
        let mine: Vec<_> = effects
            .iter()
            .filter(|e| matches!(&e.target, EffectTarget::Establishment(id) if id == est_id))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let est = registry::get_establishment(tx, est_id).await?;
        if est.corporation_id != corporation_id {
            continue;
        }
        let mut profile = registry::parse_profile(&est.profile)?;
        for e in mine {
            let old = profile
                .get(&e.key)
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            if old != e.value {
                registry::insert_registry_change(
                    tx,
                    case_id,
                    authority_code,
                    "establishment",
                    est_id,
                    &e.key,
                    &old,
                    &e.value,
                    now,
                )
                .await?;
                profile.insert(e.key.clone(), e.value.clone());
                changed += 1;
            }
        }
        registry::update_establishment_profile(tx, est_id, &profile, now).await?;
    }
    Ok(changed)
}
