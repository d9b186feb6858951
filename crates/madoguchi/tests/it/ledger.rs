//! Ledger linkage (issue #6), end to end over real HTTP on both backends:
//!
//! - a ledger simulator consumes the changes feed and the webhooks while filings are accepted
//!   concurrently and the webhook endpoint fails every third request: its copy ends identical
//!   to the registry, every entry applied exactly once;
//! - a Shift_JIS export imported into an empty instance exports again byte for byte, the row
//!   with 𠮷 reported and left out rather than corrupted;
//! - imports report every bad row with its line number and write nothing; re-running is a no-op;
//! - another authority's ledger is 404, exports are audited with their SHA-256.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use madoguchi_testing::{Api, TestBackend, TestDb, TestServer, backends};
use serde_json::{Map, Value, json};
use sha2::Digest;
use tokio::sync::Mutex;

use crate::common::{FANOUT, representative_change};

/// The authority whose ledger is simulated with webhooks and the feed.
const LEDGER: &str = "141003";

/// A ledger system's copy of the records its authority holds, kept by applying feed entries.
#[derive(Default)]
struct Ledger {
    copy: BTreeMap<(String, String), Map<String, Value>>,
    /// The last `seq` applied (entries are applied in order, each once).
    applied: i64,
    /// Every `seq` applied, in the order applied.
    log: Vec<i64>,
    /// Entries received again after being applied (redeliveries, retries, overlap with the feed).
    duplicates: usize,
}

impl Ledger {
    /// Applies an entry if it is the next one; `false` if it was applied before.
    fn apply(&mut self, entry: &Value) -> bool {
        let seq = entry["seq"].as_i64().expect("seq");
        if seq <= self.applied {
            self.duplicates += 1;
            return false;
        }
        assert_eq!(seq, self.applied + 1, "entries must be applied in order");
        for c in entry["changes"].as_array().expect("changes") {
            let target = c["target"].as_str().unwrap().to_string();
            let id = c["target_id"].as_str().unwrap().to_string();
            let record = self.copy.entry((target, id)).or_default();
            let key = c["key"].as_str().unwrap().to_string();
            if c["new"].is_null() {
                record.remove(&key);
            } else {
                record.insert(key, c["new"].clone());
            }
        }
        self.applied = seq;
        self.log.push(seq);
        true
    }

    /// Pulls and applies everything after what was applied (a poll, or a gap seen in webhooks).
    async fn catch_up(&mut self, api: &Api, code: &str, page: usize) {
        loop {
            let r = api
                .get(&format!(
                    "/api/v1/authorities/{code}/changes?since={}&limit={page}",
                    self.applied
                ))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            for e in r.body["entries"].as_array().unwrap() {
                self.apply(e);
            }
            assert_eq!(r.body["next_cursor"], self.applied.to_string());
            if r.body["has_more"] != true {
                return;
            }
        }
    }
}

/// The registry's current records that `code`'s ledger holds (corporations with an
/// establishment it designates, and those establishments), read from outside the product.
async fn registry_view(
    srv: &TestServer,
    code: &str,
) -> BTreeMap<(String, String), Map<String, Value>> {
    let mut tx = srv.app.db.begin_read().await.unwrap();
    let mut out = BTreeMap::new();
    for corp in madoguchi_db::registry::list_corporations(&mut tx)
        .await
        .unwrap()
    {
        let holders =
            madoguchi_db::ledger::feed::authorities_covering_corporation(&mut tx, &corp.id)
                .await
                .unwrap();
        if holders.iter().any(|h| h == code) {
            out.insert(
                ("corporation".to_string(), corp.id.clone()),
                madoguchi_db::registry::parse_profile(&corp.profile).unwrap(),
            );
        }
        for e in madoguchi_db::registry::list_establishments_of(&mut tx, &corp.id)
            .await
            .unwrap()
        {
            let holders =
                madoguchi_db::ledger::feed::authorities_covering_establishment(&mut tx, &e.id)
                    .await
                    .unwrap();
            if holders.iter().any(|h| h == code) {
                out.insert(
                    ("establishment".to_string(), e.id.clone()),
                    madoguchi_db::registry::parse_profile(&e.profile).unwrap(),
                );
            }
        }
    }
    tx.commit().await.unwrap();
    out
}

/// The webhook receiver: fails every third request with 500, checks signatures, and keeps a
/// ledger current from what arrives (filling gaps from the feed).
struct Receiver {
    requests: AtomicUsize,
    failed: AtomicUsize,
    bad_signatures: AtomicUsize,
    secret: Mutex<String>,
    /// (delivery id, seq) of every accepted request.
    received: Mutex<Vec<(String, i64)>>,
    ledger: Mutex<Ledger>,
    feed: Api,
}

async fn hook(
    State(rx): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let n = rx.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if n % 3 == 0 {
        rx.failed.fetch_add(1, Ordering::SeqCst);
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let sig = h("madoguchi-signature");
    let t: i64 = sig
        .split(',')
        .find_map(|p| p.strip_prefix("t="))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let secret = rx.secret.lock().await.clone();
    if sig != madoguchi_core::ledger::webhooks::signature(&secret, t, &body)
        || (chrono::Utc::now().timestamp() - t).abs() > 300
    {
        rx.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    let entry: Value = serde_json::from_slice(&body).expect("JSON body");
    let seq = entry["seq"].as_i64().unwrap();
    assert_eq!(h("madoguchi-seq"), seq.to_string());
    assert_eq!(h("madoguchi-event"), entry["kind"].as_str().unwrap());
    rx.received
        .lock()
        .await
        .push((h("madoguchi-delivery"), seq));
    let mut ledger = rx.ledger.lock().await;
    if seq > ledger.applied + 1 {
        // A gap (an earlier delivery is still being retried): fill it from the feed.
        ledger.catch_up(&rx.feed, LEDGER, 50).await;
    } else {
        ledger.apply(&entry);
    }
    StatusCode::OK
}

async fn start_receiver(feed: Api) -> (Arc<Receiver>, String) {
    let rx = Arc::new(Receiver {
        requests: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        bad_signatures: AtomicUsize::new(0),
        secret: Mutex::new(String::new()),
        received: Mutex::new(Vec::new()),
        ledger: Mutex::new(Ledger::default()),
        feed,
    });
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (rx, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ledger_simulator_consumes_feed_and_webhooks_while_filings_are_accepted() {
    for backend in backends() {
        simulate(backend).await;
    }
}

async fn simulate(backend: TestBackend) {
    let srv = TestServer::start(backend).await;
    let admin = srv.api(&format!("admin-{LEDGER}")).await;
    let p1 = srv.api("provider1").await;

    // The ledger's endpoint, and two simulated ledgers starting from the registry as it is.
    let (rx, url) = start_receiver(srv.api(&format!("reviewer-{LEDGER}")).await).await;
    let r = admin
        .post(
            &format!("/api/v1/authorities/{LEDGER}/webhooks"),
            &json!({ "url": url, "description": "台帳システム（試験）" }),
        )
        .await;
    assert_eq!(r.status, 201, "[{backend}] {}", r.text);
    *rx.secret.lock().await = r.body["secret"].as_str().unwrap().to_string();
    let endpoint_id = r.body["endpoint"]["id"].as_str().unwrap().to_string();
    let start = registry_view(&srv, LEDGER).await;
    assert!(!start.is_empty());
    rx.ledger.lock().await.copy = start.clone();
    // A pull-only ledger of another authority, fed by registry.changed entries.
    let tokyo = srv.api("reviewer-130001").await;
    let mut tokyo_ledger = Ledger {
        copy: registry_view(&srv, "130001").await,
        ..Ledger::default()
    };

    // Four representative changes, each fanning out to five authorities, all submitted.
    let names = [
        ("佐々木　一郎", "ササキ　イチロウ"),
        ("鈴木　二郎", "スズキ　ジロウ"),
        ("高橋　三郎", "タカハシ　サブロウ"),
        ("田中　四郎", "タナカ　シロウ"),
    ];
    let mut filings = Vec::new();
    for (name, kana) in names {
        let (fid, _) = representative_change(&srv, &p1, name, kana).await;
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        filings.push(fid);
    }

    // A pull-only ledger of the simulated authority, polling while decisions happen.
    let stop = Arc::new(tokio::sync::Notify::new());
    let poller = {
        let api = srv.api(&format!("reviewer-{LEDGER}")).await;
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut ledger = Ledger {
                copy: start,
                ..Ledger::default()
            };
            loop {
                ledger.catch_up(&api, LEDGER, 3).await;
                tokio::select! {
                    _ = stop.notified() => break,
                    _ = tokio::time::sleep(Duration::from_millis(15)) => {}
                }
            }
            ledger.catch_up(&api, LEDGER, 3).await;
            ledger
        })
    };

    // 横浜市 returns the first filing before deciding anything else; the provider corrects it.
    let yokohama = srv.api(&format!("reviewer-{LEDGER}")).await;
    let first_case = case_of(&p1, &filings[0], LEDGER).await;
    let r = yokohama
        .post(
            &format!("/api/v1/cases/{first_case}/return"),
            &json!({ "message": "フリガナをご確認ください。" }),
        )
        .await;
    assert_eq!(r.status, 200, "[{backend}] {}", r.text);
    let f = p1.get(&format!("/api/v1/filings/{}", filings[0])).await;
    let mut data = f.body["data"].clone();
    data["fields"]["representative_kana"] = json!("ササキ　イチロー");
    let r = p1
        .put(
            &format!("/api/v1/filings/{}", filings[0]),
            &json!({ "data": data }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = p1
        .post(
            &format!("/api/v1/filings/{}/submit", filings[0]),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // All five authorities accept all cases at once, each in its own order.
    let mut deciders = Vec::new();
    for (i, code) in FANOUT.into_iter().enumerate() {
        let api = srv.api(&format!("reviewer-{code}")).await;
        let mut cases = Vec::new();
        for fid in &filings {
            cases.push(case_of(&p1, fid, code).await);
        }
        let n = cases.len();
        cases.rotate_left(i % n);
        deciders.push(tokio::spawn(async move {
            for id in cases {
                let r = api
                    .post(&format!("/api/v1/cases/{id}/accept"), &json!({}))
                    .await;
                assert_eq!(r.status, 200, "accept {id} at {code}: {}", r.text);
            }
        }));
    }
    for d in deciders {
        d.await.expect("decider");
    }
    stop.notify_one();
    let polled = poller.await.expect("poller");

    // The feed: case.returned, then acceptances, dense from 1.
    let latest = {
        let r = yokohama
            .get(&format!("/api/v1/authorities/{LEDGER}/changes?limit=500"))
            .await;
        let entries = r.body["entries"].as_array().unwrap().clone();
        let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=seqs.len() as i64).collect::<Vec<_>>(),
            "[{backend}] dense"
        );
        assert_eq!(entries[0]["kind"], "case.returned");
        let accepted = entries
            .iter()
            .filter(|e| e["kind"] == "case.accepted")
            .count();
        assert_eq!(
            accepted,
            filings.len(),
            "[{backend}] one entry per decided case"
        );
        assert!(
            entries.iter().any(|e| e["kind"] == "registry.changed"),
            "[{backend}] other authorities' acceptances reach this ledger too"
        );
        *seqs.last().unwrap()
    };

    // Every delivery eventually arrives, despite the failures.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = admin
            .get(&format!(
                "/api/v1/authorities/{LEDGER}/webhooks/{endpoint_id}/deliveries?limit=500"
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = r.body.as_array().unwrap();
        if d.len() as i64 == latest && d.iter().all(|d| d["status"] == "delivered") {
            assert!(
                d.iter().any(|d| d["attempts"].as_array().unwrap().len() > 1
                    && d["attempts"][0]["status_code"] == 500
                    && d["attempts"][0]["outcome"] == "http_error"),
                "[{backend}] failed attempts are recorded and visible"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "[{backend}] deliveries not done: {}",
            r.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let registry = registry_view(&srv, LEDGER).await;
    // The pull-only ledger.
    assert_eq!(
        polled.log,
        (1..=latest).collect::<Vec<_>>(),
        "[{backend}] each entry once, in order"
    );
    assert_eq!(
        polled.copy, registry,
        "[{backend}] polled ledger equals the registry"
    );
    // The webhook-fed ledger.
    {
        let ledger = rx.ledger.lock().await;
        assert_eq!(
            ledger.log,
            (1..=latest).collect::<Vec<_>>(),
            "[{backend}] each entry once, in order"
        );
        assert_eq!(
            ledger.copy, registry,
            "[{backend}] webhook ledger equals the registry"
        );
    }
    let received = rx.received.lock().await.clone();
    let seqs: BTreeSet<i64> = received.iter().map(|r| r.1).collect();
    assert_eq!(
        seqs,
        (1..=latest).collect(),
        "[{backend}] every entry was pushed"
    );
    assert!(
        rx.failed.load(Ordering::SeqCst) > 0,
        "the endpoint failed sometimes"
    );
    assert_eq!(
        rx.bad_signatures.load(Ordering::SeqCst),
        0,
        "every body was signed"
    );
    // The representative the registry ended with is what the ledgers hold.
    let corp = p1.get("/api/v1/corporation").await;
    let corp_key = registry
        .iter()
        .find(|(k, v)| k.0 == "corporation" && v["corporate_number"] == "7040005007253")
        .map(|(k, _)| k.clone())
        .expect("provider1's corporation is in 横浜市's ledger");
    assert_eq!(
        rx.ledger.lock().await.copy[&corp_key]["representative_name"],
        corp.body["record"]["representative_name"]
    );
    // Another authority's pull-only ledger, fed by case.accepted and registry.changed.
    tokyo_ledger.catch_up(&tokyo, "130001", 7).await;
    assert_eq!(
        tokyo_ledger.copy,
        registry_view(&srv, "130001").await,
        "[{backend}] 東京都's ledger too"
    );

    // Manual redelivery from the admin page (再送): same delivery id, applied once.
    // The newest entry's delivery: the page lists the latest twenty of each endpoint.
    let (delivery_id, seq) = received.iter().max_by_key(|r| r.1).unwrap().clone();
    let (cookie, csrf) = sign_in(&srv, &format!("admin-{LEDGER}")).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{}/ledger", srv.base_url))
        .header("cookie", format!("madoguchi={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("再送") && html.contains(&delivery_id),
        "[{backend}] the page lists deliveries"
    );
    let res = client
        .post(format!(
            "{}/ledger/deliveries/{delivery_id}/redeliver",
            srv.base_url
        ))
        .header("cookie", format!("madoguchi={cookie}"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "[{backend}] redeliver");
    let before = rx.ledger.lock().await.duplicates;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let again = rx
            .received
            .lock()
            .await
            .iter()
            .filter(|r| r.0 == delivery_id)
            .count();
        if again >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "[{backend}] redelivery did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let ledger = rx.ledger.lock().await;
    assert!(
        ledger.duplicates > before,
        "[{backend}] the redelivery was recognised"
    );
    assert_eq!(ledger.log.iter().filter(|s| **s == seq).count(), 1);
    drop(ledger);
    srv.stop().await;
}

/// The id of a filing's case at one authority.
async fn case_of(p: &Api, filing_id: &str, code: &str) -> String {
    let f = p.get(&format!("/api/v1/filings/{filing_id}")).await;
    f.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["authority_code"] == code)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn sign_in(srv: &TestServer, login: &str) -> (String, String) {
    let mut tx = srv.app.db.begin_read().await.unwrap();
    let user = madoguchi_db::users::get_user_by_login(&mut tx, login)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (secret, session) = madoguchi_core::auth::create_session(&srv.app, &user.id, "test")
        .await
        .unwrap();
    (secret, session.csrf_token)
}

/// Sets values of an establishment's record from outside the product (test setup).
async fn set_establishment(srv: &TestServer, office_number: &str, values: Value) {
    let mut tx = srv.app.db.begin().await.unwrap();
    let e = madoguchi_db::ledger::import::establishment_by_office_number(&mut tx, office_number)
        .await
        .unwrap()
        .unwrap();
    let mut profile = madoguchi_db::registry::parse_profile(&e.profile).unwrap();
    for (k, v) in values.as_object().unwrap() {
        profile.insert(k.clone(), v.clone());
    }
    madoguchi_db::registry::update_establishment_profile(&mut tx, &e.id, &profile, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Runs the real binary against a database.
fn cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args([
            "--data-dir",
            db.dir.path().to_str().unwrap(),
            "--database-url",
            &db.url,
        ])
        .args(args)
        .env("MADOGUCHI_LOG_LEVEL", "error")
        .output()
        .expect("run madoguchi")
}

/// An empty instance: migrated, the authorities onboarded, no corporation or establishment.
async fn empty_instance(backend: TestBackend, from: &TestServer) -> TestDb {
    let db = TestDb::new(backend).await;
    let config = madoguchi::config::Config::load(&madoguchi::config::DataArgs {
        config: None,
        data_dir: Some(db.dir.path().to_path_buf()),
        database_url: Some(db.url.clone()),
    })
    .unwrap();
    let app = madoguchi::server::open_default(&config).await.unwrap();
    let mut src = from.app.db.begin_read().await.unwrap();
    let authorities = madoguchi_db::registry::list_authorities(&mut src)
        .await
        .unwrap();
    src.commit().await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    for a in authorities {
        madoguchi_db::registry::insert_authority(&mut tx, &a)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.db.close().await;
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_jis_export_imports_into_an_empty_instance_and_exports_byte_identical() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        // Characters a Shift_JIS ledger cannot take, can take after mapping, or would read
        // as a formula.
        set_establishment(&srv, "1370401059", json!({ "name": "𠮷野訪問介護新宿" })).await;
        set_establishment(
            &srv,
            "1370400010",
            json!({ "address": "東京都新宿区新宿三丁目1番1号〜2号", "phone": "+81-3-1234-5600", "manager_name": "髙橋　花子" }),
        )
        .await;
        let tokyo = srv.api("reviewer-130001").await;
        let path = "/api/v1/authorities/130001/exports/establishments?encoding=shift_jis";

        // Refused by default: the row is named, nothing is replaced.
        let r = tokyo.get(path).await;
        assert_eq!(r.status, 422, "[{backend}] {}", r.text);
        let fields = r.body["error"]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 1, "{}", r.text);
        assert_eq!(fields[0]["field"], "rows.3.事業所名");
        assert!(
            fields[0]["message"]
                .as_str()
                .unwrap()
                .contains("𠮷（U+20BB7）")
        );
        assert!(
            fields[0]["message"]
                .as_str()
                .unwrap()
                .contains("1370401059")
        );

        // Written without that row when asked.
        let res = tokyo
            .client
            .get(format!("{}{path}&unmappable=skip", srv.base_url))
            .bearer_auth(token(&srv, "reviewer-130001").await)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=Shift_JIS");
        assert_eq!(res.headers()["madoguchi-skipped-rows"], "1");
        assert_eq!(res.headers()["madoguchi-vendor-specific-cells"], "1");
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
        let first = res.bytes().await.unwrap().to_vec();
        let text = madoguchi_domain::cp932::decode(&first).expect("valid CP932");
        assert!(text.starts_with("事業所番号,サービス種類コード,"));
        assert!(
            text.contains("1番1号～2号"),
            "〜 written as its CP932 equivalent"
        );
        assert!(text.contains(",'+81-3-1234-5600,"), "formula neutralised");
        assert!(text.contains("髙橋　花子"));
        assert!(
            !text.contains("1370401059") && !text.contains("&#"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2, "header and one row");

        // The export was audited with its digest.
        let digest = hex::encode(sha2::Sha256::digest(&first));
        let mut tx = srv.app.db.begin_read().await.unwrap();
        let (head, _) = madoguchi_db::audit::head(&mut tx).await.unwrap();
        let events = madoguchi_db::audit::page(&mut tx, 0, head + 1)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let audited = events
            .iter()
            .filter(|e| e.action == "ledger.exported")
            .map(|e| serde_json::from_str::<Value>(&e.details).unwrap())
            .find(|d| d["sha256"] == digest)
            .unwrap_or_else(|| panic!("[{backend}] no audit event with the file's SHA-256"));
        assert_eq!(audited["rows"], 1);
        assert_eq!(audited["skipped_rows"], 1);
        assert_eq!(audited["complete"], true);

        // Into an empty instance with the real CLI, twice; then out again.
        let empty = empty_instance(backend, &srv).await;
        let file = empty.dir.path().join("tokyo.csv");
        std::fs::write(&file, &first).unwrap();
        for run in 0..2 {
            let out = cli(
                &empty,
                &[
                    "import",
                    "establishments",
                    file.to_str().unwrap(),
                    "--authority",
                    "130001",
                ],
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "[{backend}] import {run}: {stdout} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(stdout.contains("shift_jis"), "{stdout}");
            if run == 1 {
                assert!(
                    stdout.contains("変更なし1行"),
                    "[{backend}] idempotent: {stdout}"
                );
            }
        }
        let again = empty.dir.path().join("again.csv");
        let out = cli(
            &empty,
            &[
                "export",
                "establishments",
                "--authority",
                "130001",
                "--encoding",
                "shift_jis",
                "-o",
                again.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(&again).unwrap(),
            first,
            "[{backend}] byte-identical round trip"
        );
        srv.stop().await;
    }
}

async fn token(srv: &TestServer, login: &str) -> String {
    madoguchi_core::auth::issue_token(&srv.app, login, "test")
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_reports_every_bad_row_and_writes_nothing() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let empty = empty_instance(backend, &srv).await;
        let csv = concat!(
            "介護保険事業所番号,サービス種類コード,指定日,事業所名称,市区町村コード,法人番号,法人名,利用定員,備考\r\n",
            "1370400010,15,2022/4/1,さくらデイサービス新宿,131041,7040005007253,社会福祉法人　さくら福祉会,30,\r\n",
            "1370400011,15,2022-04-01,番号違い,131041,7040005007253,社会福祉法人　さくら福祉会,,\r\n",
            "1370401059,11,令和2年7月1日,ひまわり,131041,4011001098994,株式会社ひまわりケア,十,\r\n",
            "1372010031,11,2023-04-01,八王子,132012,7040005007253,社会福祉法人　さくら福祉会,,\r\n",
        );
        let file = empty.dir.path().join("bad.csv");
        std::fs::write(&file, csv).unwrap();
        let out = cli(
            &empty,
            &[
                "import",
                "establishments",
                file.to_str().unwrap(),
                "--authority",
                "130001",
            ],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "[{backend}] {stderr}");
        for needle in [
            "3行目「介護保険事業所番号」",
            "4行目「法人番号」",
            "4行目「利用定員」",
            "5行目",
            "八王子市",
            "備考",
        ] {
            assert!(
                stderr.contains(needle),
                "[{backend}] {needle} not in: {stderr}"
            );
        }
        // Nothing was written.
        let probe = cli(
            &empty,
            &[
                "export",
                "establishments",
                "--authority",
                "130001",
                "-o",
                empty.dir.path().join("p.csv").to_str().unwrap(),
            ],
        );
        assert!(probe.status.success());
        assert_eq!(
            std::fs::read_to_string(empty.dir.path().join("p.csv"))
                .unwrap()
                .lines()
                .count(),
            1,
            "[{backend}] only the header: nothing was imported"
        );
        // A file that is not a CSV at all is one clear error.
        let junk = empty.dir.path().join("junk.csv");
        std::fs::write(&junk, b"PK\x03\x04\x00\x00binary").unwrap();
        let out = cli(
            &empty,
            &[
                "import",
                "establishments",
                junk.to_str().unwrap(),
                "--authority",
                "130001",
            ],
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("CSV ファイルではないようです"));
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_routes_keep_to_their_authority_and_role() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let reviewer = srv.api("reviewer-131041").await;
        let admin = srv.api("admin-131041").await;
        let other = srv.api("reviewer-141003").await;
        let provider = srv.api("provider1").await;
        let own = "/api/v1/authorities/131041";
        assert_eq!(reviewer.get(&format!("{own}/changes")).await.status, 200);
        assert_eq!(other.get(&format!("{own}/changes")).await.status, 404);
        assert_eq!(other.get(&format!("{own}/exports/cases")).await.status, 404);
        assert_eq!(provider.get(&format!("{own}/changes")).await.status, 403);
        assert_eq!(reviewer.get(&format!("{own}/webhooks")).await.status, 403);
        assert_eq!(admin.get(&format!("{own}/webhooks")).await.status, 200);
        let r = reviewer.get(&format!("{own}/changes?since=abc")).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "since");
        let r = admin
            .post(&format!("{own}/webhooks"), &json!({ "url": "ftp://x" }))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "url");
        let r = reviewer
            .get(&format!("{own}/exports/establishments?encoding=ebcdic"))
            .await;
        assert_eq!(r.status, 422);
        assert_eq!(r.body["error"]["fields"][0]["field"], "encoding");
        // xlsx: a real workbook.
        let res = reviewer
            .client
            .get(format!(
                "{}{own}/exports/establishments?format=xlsx",
                srv.base_url
            ))
            .bearer_auth(token(&srv, "reviewer-131041").await)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"), "an OOXML zip");
        // UTF-8 with BOM.
        let r = reviewer
            .get(&format!("{own}/exports/establishments?encoding=utf-8-bom"))
            .await;
        assert!(r.text.starts_with('\u{FEFF}'), "BOM first");
        // An accepted case appears in the cases file, with its establishments and changes.
        let (fid, _) =
            representative_change(&srv, &provider, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = provider
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let case = case_of(&provider, &fid, "131041").await;
        let r = reviewer
            .post(&format!("/api/v1/cases/{case}/accept"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let reference = r.body["reference"].as_str().unwrap().to_string();
        let r = reviewer.get(&format!("{own}/exports/cases")).await;
        assert_eq!(r.status, 200, "[{backend}] {}", r.text);
        let lines: Vec<&str> = r.text.lines().collect();
        assert_eq!(lines.len(), 2, "[{backend}] {}", r.text);
        let cells: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(cells[0], reference);
        assert_eq!(cells[1], "変更届出書");
        assert_eq!(cells[2], "受付完了");
        assert_eq!(cells[3], "7040005007253");
        assert_eq!(
            cells[5], "1370400010",
            "新宿区's establishment of the corporation"
        );
        assert_eq!(cells[8], "2", "representative name and kana changed");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_stream_with_bounded_buffering_and_are_audited_when_read_to_the_end() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        // A thousand designations with long addresses (~0.7 MB of CSV, eleven chunks), imported.
        let mut csv = String::from(
            "事業所番号,サービス種類コード,指定年月日,事業所名,所在市区町村コード,法人名,事業所所在地\r\n",
        );
        let street = "東京都新宿区西新宿二丁目八番一号".repeat(12);
        for serial in 0..1000 {
            let base = format!("13704{:04}", 5000 + serial);
            let check = madoguchi_domain::ids::OfficeNumber::check_digit(&base);
            csv.push_str(&format!(
                "{base}{check},15,2024-04-01,事業所{serial},131041,株式会社大量,{street}{serial}\r\n"
            ));
        }
        let report = madoguchi_core::ledger::import::import_establishments(
            &srv.app,
            madoguchi_core::ledger::import::ImportBy::Cli,
            "130001",
            csv.as_bytes(),
            madoguchi_core::ledger::import::ImportOptions {
                encoding: madoguchi_core::ledger::import::InputEncoding::Auto,
                dry_run: false,
            },
            &|_, _| {},
        )
        .await
        .unwrap();
        assert!(report.applied, "[{backend}] {:?}", report.errors);
        assert_eq!(report.designations_created, 1000);

        let mut tx = srv.app.db.begin_read().await.unwrap();
        let user = madoguchi_db::users::get_user_by_login(&mut tx, "reviewer-130001")
            .await
            .unwrap();
        let actor = madoguchi_core::actor::load_actor(&mut tx, &user.id)
            .await
            .unwrap();
        let (audit_before, _) = madoguchi_db::audit::head(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let options =
            madoguchi_core::ledger::export::ExportOptions::parse(None, None, None).unwrap();
        let mut export = madoguchi_core::ledger::export::start(
            &srv.app,
            madoguchi_core::ledger::export::ExportBy::Staff(&actor),
            "130001",
            madoguchi_core::ledger::export::ExportKind::Establishments,
            options,
        )
        .await
        .unwrap();
        // Nobody reads: the writer must stop after a few chunks instead of buffering the file.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let mut tx = srv.app.db.begin_read().await.unwrap();
        let (audit_paused, _) = madoguchi_db::audit::head(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            audit_paused, audit_before,
            "[{backend}] the export ran ahead of its reader"
        );
        let mut total = 0;
        let mut chunks = 0;
        let mut largest = 0;
        let mut hasher = sha2::Sha256::new();
        while let Some(chunk) = export.body.recv().await {
            let chunk = chunk.expect("complete export");
            total += chunk.len();
            largest = largest.max(chunk.len());
            chunks += 1;
            hasher.update(&chunk);
        }
        assert!(total > 600_000, "[{backend}] {total} bytes");
        assert!(
            chunks >= 10 && largest < 80 * 1024,
            "[{backend}] {chunks} chunks, largest {largest}"
        );
        let mut tx = srv.app.db.begin_read().await.unwrap();
        let (head, _) = madoguchi_db::audit::head(&mut tx).await.unwrap();
        let events = madoguchi_db::audit::page(&mut tx, audit_before, head)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let e = events
            .iter()
            .find(|e| e.action == "ledger.exported")
            .expect("audited");
        let details: Value = serde_json::from_str(&e.details).unwrap();
        assert_eq!(e.actor, user.id);
        assert_eq!(
            details["rows"], 1002,
            "the import's thousand and the demo's two"
        );
        assert_eq!(details["sha256"], hex::encode(hasher.finalize()));
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_waits_out_its_back_off_without_holding_up_other_jobs() {
    for backend in backends() {
        // No in-process worker: the test runs each job itself and watches the queue.
        let srv = TestServer::start_with(backend, |c| {
            c.server.run_worker = false;
            c.jobs.backoff_base_ms = 60_000;
        })
        .await;
        let admin = srv.api(&format!("admin-{LEDGER}")).await;
        let r = admin
            .post(
                &format!("/api/v1/authorities/{LEDGER}/webhooks"),
                // Nothing listens on port 1: every connection is refused.
                &json!({ "url": "http://127.0.0.1:1/hook" }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let endpoint = r.body["endpoint"]["id"].as_str().unwrap().to_string();
        let p1 = srv.api("provider1").await;
        let reviewer = srv.api(&format!("reviewer-{LEDGER}")).await;
        // Two filings, both submitted before either is accepted (the helper checks the prefill).
        let mut cases = Vec::new();
        for (name, kana) in [
            ("佐々木　一郎", "ササキ　イチロウ"),
            ("鈴木　二郎", "スズキ　ジロウ"),
        ] {
            let (fid, _) = representative_change(&srv, &p1, name, kana).await;
            let r = p1
                .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            cases.push(case_of(&p1, &fid, LEDGER).await);
        }
        for case in cases {
            let r = reviewer
                .post(&format!("/api/v1/cases/{case}/accept"), &json!({}))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        let deliveries = |admin: Api| {
            let endpoint = endpoint.clone();
            async move {
                let r = admin
                    .get(&format!(
                        "/api/v1/authorities/{LEDGER}/webhooks/{endpoint}/deliveries"
                    ))
                    .await;
                assert_eq!(r.status, 200, "{}", r.text);
                r.body.as_array().unwrap().clone()
            }
        };
        assert_eq!(deliveries(admin.clone()).await.len(), 2);
        let mailer = madoguchi_core::mail::Mailer::new(&srv.app.config.mail).unwrap();
        // Run jobs until the first delivery attempt.
        loop {
            let ran = madoguchi_core::jobs::runner::run_once(&srv.app, &mailer)
                .await
                .unwrap();
            assert_ne!(
                ran,
                madoguchi_core::jobs::runner::Ran::Nothing,
                "no webhook job ran"
            );
            let d = deliveries(admin.clone()).await;
            if d.iter()
                .any(|d| !d["attempts"].as_array().unwrap().is_empty())
            {
                break;
            }
        }
        // Everything else still due runs (mail), without trying the endpoint again.
        let mut others = 0;
        while madoguchi_core::jobs::runner::run_once(&srv.app, &mailer)
            .await
            .unwrap()
            != madoguchi_core::jobs::runner::Ran::Nothing
        {
            others += 1;
        }
        let d = deliveries(admin.clone()).await;
        let attempts: Vec<&Value> = d
            .iter()
            .flat_map(|d| d["attempts"].as_array().unwrap())
            .collect();
        assert_eq!(
            attempts.len(),
            1,
            "[{backend}] one attempt at a dead endpoint: {d:?}"
        );
        assert_eq!(attempts[0]["outcome"], "network_error");
        assert!(d.iter().all(|d| d["status"] == "pending"));
        let mut tx = srv.app.db.begin_read().await.unwrap();
        let jobs = madoguchi_db::jobs::list_jobs(&mut tx, 1000).await.unwrap();
        tx.commit().await.unwrap();
        let now = srv.app.now_ms();
        let webhook_jobs: Vec<_> = jobs.iter().filter(|j| j.kind == "webhook").collect();
        assert_eq!(webhook_jobs.len(), 2);
        assert!(
            webhook_jobs
                .iter()
                .all(|j| j.status == "queued" && j.run_at > now + 50_000),
            "[{backend}] both deliveries wait for the back-off: {webhook_jobs:?}"
        );
        assert!(
            jobs.iter().any(|j| j.kind == "mail" && j.status == "done") && others > 0,
            "[{backend}] the mail went out meanwhile"
        );
        srv.stop().await;
    }
}
