//! The two links between a filing and the registry: prefill (registry →
//! answers, when a filing is started) and effects (answers → registry, when it
//! is accepted).

use serde_json::Value;
use serde_json::map::Entry;

use super::model::{FilingData, ProcedureDefinition};
use super::values::is_blank;
use crate::registry::{EffectTarget, RegistryEffect, RegistryKey, RegistrySnapshot};

impl ProcedureDefinition {
    /// Fills every field that has a prefill binding and no answer yet from the
    /// registry (per-establishment fields from that establishment's record).
    /// Hidden groups are filled too, so a group the user reveals later already
    /// shows the current values. Returns `(field path, registry key)` for each
    /// value filled, so the UI can label where it came from.
    pub fn prefill(
        &self,
        data: &mut FilingData,
        registry: &RegistrySnapshot,
        establishment_ids: &[String],
    ) -> Vec<(String, RegistryKey)> {
        let mut filled = Vec::new();
        for group in &self.groups {
            for field in &group.fields {
                let Some(key) = &field.prefill else { continue };
                if !group.per_establishment {
                    if fill(data.fields.entry(&field.id), registry.get(key, None)) {
                        filled.push((format!("fields.{}", field.id), key.clone()));
                    }
                    continue;
                }
                for est in establishment_ids {
                    let source = registry.get(key, Some(est));
                    if is_blank(source) {
                        continue;
                    }
                    let record = data.establishments.entry(est.clone()).or_default();
                    if fill(record.entry(&field.id), source) {
                        filled.push((format!("establishments.{est}.{}", field.id), key.clone()));
                    }
                }
            }
        }
        filled
    }

    /// Registry changes this filing asks for once accepted: every answered
    /// field with an `effect` in a visible group. Corporation keys (top-level
    /// groups) target the corporation; per-establishment groups target each
    /// covered establishment that has an answer.
    pub fn effects(&self, data: &FilingData, establishment_ids: &[String]) -> Vec<RegistryEffect> {
        let mut effects = Vec::new();
        for group in self
            .groups
            .iter()
            .filter(|g| self.is_group_visible(g, data))
        {
            for field in &group.fields {
                let Some(key) = &field.effect else { continue };
                if !group.per_establishment {
                    if let Some(value) = answered(data.fields.get(&field.id)) {
                        effects.push(effect(EffectTarget::Corporation, key, value));
                    }
                    continue;
                }
                for est in establishment_ids {
                    let value = data
                        .establishments
                        .get(est)
                        .and_then(|r| answered(r.get(&field.id)));
                    if let Some(value) = value {
                        effects.push(effect(EffectTarget::Establishment(est.clone()), key, value));
                    }
                }
            }
        }
        effects
    }
}

/// Writes a non-blank `source` into an unanswered entry; true when written.
fn fill(entry: Entry<'_>, source: Option<&Value>) -> bool {
    let Some(source) = source.filter(|s| !is_blank(Some(s))) else {
        return false;
    };
    match entry {
        Entry::Vacant(slot) => {
            slot.insert(source.clone());
        }
        Entry::Occupied(mut slot) if is_blank(Some(slot.get())) => {
            slot.insert(source.clone());
        }
        Entry::Occupied(_) => return false,
    }
    true
}

fn answered(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !is_blank(Some(v)))
}

fn effect(target: EffectTarget, key: &RegistryKey, value: &Value) -> RegistryEffect {
    RegistryEffect {
        target,
        key: key.key.clone(),
        value: value.clone(),
    }
}
