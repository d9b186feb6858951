//! The gate inside the use cases, on a real (SQLite) database with the demo world: a refused
//! upload stores nothing, and linking files to one filing stops at the per-filing total
//! (each distinct file counted once).

use std::sync::Arc;

use madoguchi_core::config::CoreConfig;
use madoguchi_core::filings::{self, NewFiling};
use madoguchi_core::{Actor, App, CoreError, actor, clock, registry};
use madoguchi_db::Db;

fn code(e: CoreError) -> String {
    match e {
        CoreError::Validation(errs) => errs[0].code.clone(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn app_with_provider(config: CoreConfig) -> (App, Actor) {
    let db = Db::connect(&format!(
        "sqlite://{}",
        config.data_dir.join("madoguchi.db").display()
    ))
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let app = App::new(db, config, Arc::new(clock::SystemClock)).unwrap();
    registry::demo::seed_if_empty(&app).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let user = madoguchi_db::users::get_user_by_login(&mut tx, "provider1")
        .await
        .unwrap();
    let actor = actor::load_actor(&mut tx, &user.id).await.unwrap();
    (app, actor)
}

fn pdf_of(len: usize, tag: &str) -> Vec<u8> {
    let mut b = format!("%PDF-1.4\n% {tag}\n").into_bytes();
    b.resize(len, b' ');
    b
}

#[tokio::test]
async fn refused_uploads_store_nothing_and_filings_have_a_total_limit() {
    let dir = std::env::temp_dir().join(format!("mdg-limits-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = CoreConfig {
        data_dir: dir.clone(),
        max_filing_bytes: 5_000,
        ..CoreConfig::default()
    };
    let (app, actor) = app_with_provider(config).await;

    let refused = filings::upload(&app, &actor, "写真.png", "image/png", pdf_of(100, "x")).await;
    assert_eq!(code(refused.unwrap_err()), "type_mismatch");
    let macro_doc = filings::upload(
        &app,
        &actor,
        "集計.xlsm",
        "application/octet-stream",
        vec![1; 10],
    )
    .await;
    assert_eq!(code(macro_doc.unwrap_err()), "macro_enabled");
    assert!(
        !app.blobs.root().exists()
            || std::fs::read_dir(app.blobs.root())
                .unwrap()
                .next()
                .is_none(),
        "a refused upload left a blob"
    );

    let corp = actor.corporation_id().unwrap().to_string();
    let mut tx = app.db.begin().await.unwrap();
    let est = madoguchi_db::registry::list_establishments_of(&mut tx, &corp)
        .await
        .unwrap();
    drop(tx);
    let filing = filings::create(
        &app,
        &actor,
        NewFiling {
            procedure_id: "change-notification".into(),
            establishment_ids: vec![est[0].id.clone()],
            ..NewFiling::default()
        },
    )
    .await
    .unwrap();
    let def = app.catalog.latest("change-notification").unwrap();
    let req = def.attachments[0].id.clone();

    let a = filings::upload(&app, &actor, "a.pdf", "application/pdf", pdf_of(3_000, "a"))
        .await
        .unwrap();
    let b = filings::upload(&app, &actor, "b.pdf", "application/pdf", pdf_of(3_000, "b"))
        .await
        .unwrap();
    filings::link_attachment(&app, &actor, &filing, &a, &req)
        .await
        .unwrap();
    // 3,000 + 3,000 > 5,000.
    let over = filings::link_attachment(&app, &actor, &filing, &b, &req).await;
    assert_eq!(code(over.unwrap_err()), "filing_too_large");
    // The same file again (even for another requirement) is not counted twice.
    if let Some(other) = def.attachments.get(1) {
        filings::link_attachment(&app, &actor, &filing, &a, &other.id)
            .await
            .unwrap();
    }
    filings::link_attachment(&app, &actor, &filing, &a, &req)
        .await
        .unwrap();
    // Removing the first file makes room for the second.
    filings::detach(&app, &actor, &filing, &a, &req)
        .await
        .unwrap();
    if let Some(other) = def.attachments.get(1) {
        filings::detach(&app, &actor, &filing, &a, &other.id)
            .await
            .unwrap();
    }
    filings::link_attachment(&app, &actor, &filing, &b, &req)
        .await
        .unwrap();
    std::fs::remove_dir_all(dir).ok();
}
