//! A submission acknowledged with a 2xx survives the server being killed with SIGKILL at once:
//! the real binary is started, a filing submitted, the process killed the moment the response
//! arrives, and a new process must show the submission.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use madoguchi_testing::{Api, TestDb, backends};
use serde_json::json;

use crate::common::establishment_id;

struct Server {
    child: Child,
    base: String,
}

fn start(db: &TestDb, demo: bool) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut args = vec![
        "--data-dir".to_string(),
        db.dir.path().display().to_string(),
        "--database-url".into(),
        db.url.clone(),
        "serve".into(),
        "--addr".into(),
        format!("127.0.0.1:{port}"),
        "--no-worker".into(),
    ];
    if demo {
        args.push("--demo".into());
    }
    let child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(&args)
        .env("MADOGUCHI_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn madoguchi");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server at {base} did not become ready");
}

fn token(db: &TestDb, login: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args([
            "--data-dir",
            &db.dir.path().display().to_string(),
            "--database-url",
            &db.url,
            "token",
            "issue",
            login,
        ])
        .env("MADOGUCHI_LOG_LEVEL", "error")
        .output()
        .expect("token issue");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_right_after_submit_loses_nothing() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let mut server = start(&db, true);
        wait_ready(&server.base).await;
        let bearer = token(&db, "provider1");
        let est =
            establishment_id(&Api::new(&server.base, Some(bearer.clone())), "1370400010").await;
        let mut submitted = Vec::new();
        for round in 0..3 {
            let api = Api::new(&server.base, Some(bearer.clone()));
            let r = api
                .post(
                    "/api/v1/filings",
                    &json!({ "procedure_id": "suspension-abolition", "establishment_ids": [est] }),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            let fid = r.body["id"].as_str().unwrap().to_string();
            let mut data = r.body["data"].clone();
            data["fields"]["kind"] = json!("abolition");
            data["fields"]["effective_date"] = json!("2026-12-31");
            data["fields"]["reason"] = json!(format!("事業の統合のため（{round}）"));
            data["fields"]["user_measures"] = json!("近隣の事業所へ引き継ぎます。");
            let r = api
                .put(&format!("/api/v1/filings/{fid}"), &json!({ "data": data }))
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            let r = api
                .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
                .await;
            // Kill the moment the 2xx is in hand.
            server.child.kill().expect("SIGKILL");
            let _ = server.child.wait();
            assert_eq!(r.status, 200, "[{backend}] {}", r.text);
            submitted.push((fid, r.body["filing"]["reference"].clone()));
            server = start(&db, false);
            wait_ready(&server.base).await;
        }
        let api = Api::new(&server.base, Some(bearer));
        for (fid, reference) in &submitted {
            let r = api.get(&format!("/api/v1/filings/{fid}")).await;
            assert_eq!(r.status, 200);
            assert_eq!(
                r.body["status"], "submitted",
                "[{backend}] submission lost after SIGKILL"
            );
            assert_eq!(&r.body["reference"], reference);
            assert_eq!(
                r.body["cases"].as_array().unwrap().len(),
                2,
                "東京都 (通所介護) and 新宿区 (地域密着型通所介護)"
            );
        }
        server.child.kill().ok();
        let _ = server.child.wait();
    }
}
