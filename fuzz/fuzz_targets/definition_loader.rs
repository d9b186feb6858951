//! The definition loader never panics, whatever the file says: as a procedure definition,
//! as an authority's local rules over the shipped 変更届, and as a 付表 annex.
#![no_main]

use libfuzzer_sys::fuzz_target;
use madoguchi_domain::procedure::{ProcedureCatalog, parse_definition};

const CHANGE: &str = include_str!("../../procedures/change-notification/2026-04.toml");

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(def) = parse_definition("procedures/fuzz/2026-04.toml", &text) {
        // A definition that loads can be evaluated on its own sample.
        let ids = vec!["e1".to_owned()];
        let mut sample = def.sample_data(&ids);
        def.normalize(&mut sample);
        let _ = def.validate(&sample, &ids);
        let _ = def.due_date(&sample);
    }
    let _ = ProcedureCatalog::from_sources([
        ("procedures/change-notification/2026-04.toml", CHANGE),
        ("procedures/local-rules/131041/change-notification.toml", &text),
    ]);
    let _ = ProcedureCatalog::from_sources([
        ("procedures/change-notification/2026-04.toml", CHANGE),
        ("procedures/annexes/11.toml", &text),
    ]);
});
