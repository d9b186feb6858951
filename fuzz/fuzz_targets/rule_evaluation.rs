//! Rule evaluation never panics: arbitrary answers against shipped definitions with CEL
//! rules and computed values, and arbitrary CEL expressions over arbitrary variables.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use madoguchi_domain::procedure::{Expr, FilingData, ProcedureCatalog, ProcedureDefinition, Vars};

static DEFINITIONS: LazyLock<Vec<ProcedureDefinition>> = LazyLock::new(|| {
    let catalog = ProcedureCatalog::from_sources([
        (
            "procedures/ehr-subsidy/2026-04.toml",
            include_str!("../../procedures/ehr-subsidy/2026-04.toml"),
        ),
        (
            "procedures/suspension-abolition/2026-04.toml",
            include_str!("../../procedures/suspension-abolition/2026-04.toml"),
        ),
        (
            "procedures/designation-application/2026-04.toml",
            include_str!("../../procedures/designation-application/2026-04.toml"),
        ),
        ("procedures/annexes/11.toml", include_str!("../../procedures/annexes/11.toml")),
        ("procedures/annexes/15.toml", include_str!("../../procedures/annexes/15.toml")),
        ("procedures/annexes/51.toml", include_str!("../../procedures/annexes/51.toml")),
    ])
    .expect("shipped definitions load");
    catalog.list_latest().into_iter().cloned().collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector & 1 == 0 {
        // Answers as JSON against a shipped definition.
        let defs = &*DEFINITIONS;
        let def = &defs[(selector as usize >> 1) % defs.len()];
        let Ok(mut filing) = serde_json::from_slice::<FilingData>(rest) else {
            return;
        };
        let ids: Vec<String> = filing.establishments.keys().cloned().collect();
        def.normalize(&mut filing);
        let _ = def.validate(&filing, &ids);
        let _ = def.required_attachments(&filing);
        let _ = def.is_corporation_wide(&filing);
        let _ = def.due_date(&filing);
        let _ = def.effects(&filing, &ids);
    } else {
        // `expression\nJSON variables`.
        let text = String::from_utf8_lossy(rest);
        let (source, vars) = text.split_once('\n').unwrap_or((&text, "{}"));
        let Ok(expr) = Expr::parse(source) else {
            return;
        };
        let vars: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(vars).unwrap_or_default();
        let _ = expr.eval(&Vars::new().with(&vars));
        let _ = expr.variables();
    }
});
