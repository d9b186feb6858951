//! Notifications: decisions notify every user of the corporation in-app (header badge,
//! list, mark read) and by e-mail as each user prefers (at once, a daily digest, or none);
//! the daily sweep reminds of deadlines (7 days, 1 day) and designations ending (3 months,
//! 1 week) once per stage, and schedules itself. Nothing internal reaches a provider.

use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use madoguchi_core::App;
use madoguchi_core::clock::FixedClock;
use madoguchi_testing::{TestServer, backends};
use serde_json::json;

use crate::common::{establishment_id, only_case, representative_change};
use crate::pages::{Browser, csrf};

const MARKER: &str = "INTERNAL-NOTE-MARKER-9c1d";
const PROVIDER_MAIL: &str = "kimura@sakura-fukushi.example.jp";
const CORPORATION_MAIL: &str = "office@sakura-fukushi.example.jp";

/// A second application over the server's database with a clock the test sets, and the
/// daily sweep configured at 07:00.
async fn app_at(srv: &TestServer, at: chrono::DateTime<Utc>) -> (App, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(at));
    let mut config = srv.config.clone();
    config.jobs.daily_sweep_at = "07:00".into();
    let app = madoguchi::server::open(&config, clock.clone())
        .await
        .expect("second app");
    (app, clock)
}

/// `date` at `hour`:00 in Japan.
fn jst(date: NaiveDate, hour: u32) -> chrono::DateTime<Utc> {
    madoguchi_core::clock::jst()
        .from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn user_id(app: &App, login: &str) -> String {
    let mut tx = app.db.begin_read().await.unwrap();
    let u = madoguchi_db::users::get_user_by_login(&mut tx, login)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    u.id
}

/// Every notification of a user (newest first).
async fn all_of(app: &App, user: &str) -> Vec<madoguchi_db::notifications::NotificationRow> {
    let mut tx = app.db.begin_read().await.unwrap();
    let rows = madoguchi_db::notifications::list_of_user(&mut tx, user, false, 1000, 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    rows
}

async fn drain(app: &App) {
    let mailer = madoguchi_core::mail::Mailer::new(&app.config.mail).unwrap();
    madoguchi_core::jobs::runner::drain(app, &mailer)
        .await
        .unwrap();
}

/// Unread notifications of decisions (the sweep, run on the real clock here, may add
/// reminders of its own depending on the day).
async fn unread_decisions(api: &madoguchi_testing::Api) -> usize {
    let r = api.get("/api/v1/notifications?unread=true").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"].as_str().unwrap_or_default().starts_with("case_"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_notify_in_app_and_by_each_users_email_preference() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        // Two users of the corporation: the API's local account and the person who signs in
        // through GビズID (both kimura@…).
        let b = Browser::new(&srv.base_url);
        b.login_oidc("provider1").await;
        let p1 = srv.api("provider1").await;
        let (fid, _) = representative_change(&srv, &p1, "佐々木　一郎", "ササキ　イチロウ").await;
        let r = p1
            .post(&format!("/api/v1/filings/{fid}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let case_ref = |code: &str| {
            r.body["filing"]["cases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["authority_code"] == code)
                .unwrap()["reference"]
                .as_str()
                .unwrap()
                .to_string()
        };

        // 横浜市 writes an internal note, then returns; 東京都 accepts.
        let yokohama = srv.api("reviewer-141003").await;
        let ycase = only_case(&yokohama).await;
        let r = yokohama
            .post(
                &format!("/api/v1/cases/{ycase}/comments"),
                &json!({ "message": format!("担当引継ぎ {MARKER}"), "internal": true }),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
        let r = yokohama
            .post(
                &format!("/api/v1/cases/{ycase}/return"),
                &json!({ "message": "フリガナをご確認ください。", "fields": ["fields.representative_kana"] }),
            )
            .await;
        assert_eq!(r.status, 200);
        let tokyo = srv.api("reviewer-130001").await;
        let tcase = only_case(&tokyo).await;
        assert_eq!(
            tokyo
                .post(&format!("/api/v1/cases/{tcase}/accept"), &json!({}))
                .await
                .status,
            200
        );

        // In-app, for every user: both, unread, from provider-visible facts only.
        let r = p1.get("/api/v1/notifications").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(unread_decisions(&p1).await, 2, "[{backend}] {}", r.text);
        let items = r.body["items"].as_array().unwrap();
        let returned = items
            .iter()
            .find(|n| n["kind"] == "case_returned")
            .expect("return notified");
        assert!(returned["title"].as_str().unwrap().contains("横浜市"));
        assert!(
            returned["body"]
                .as_str()
                .unwrap()
                .contains("フリガナをご確認ください。")
        );
        assert_eq!(returned["href"], format!("/filings/{fid}"));
        assert!(items.iter().any(|n| n["kind"] == "case_accepted"));
        assert!(!r.text.contains(MARKER), "internal note leaked");
        // Other corporations hear nothing.
        let p2 = srv.api("provider2").await;
        assert_eq!(p2.get("/api/v1/notifications").await.body["total"], 0);

        // By e-mail at once (the default): one mail per decision, to the users and the
        // corporation's address.
        srv.drain_jobs().await;
        let mails = srv.sink.wait_for(5 + 2, Duration::from_secs(10)).await;
        let to_provider: Vec<_> = mails
            .iter()
            .filter(|m| m.to.iter().any(|t| t == PROVIDER_MAIL))
            .collect();
        assert_eq!(to_provider.len(), 2, "[{backend}] return and acceptance");
        assert!(
            to_provider
                .iter()
                .all(|m| m.to.iter().any(|t| t == CORPORATION_MAIL))
        );
        assert!(mails.iter().all(|m| !m.raw.contains(MARKER)));

        // The signed-in user's header badge, the list, opening and marking read.
        let (_, _, page) = b.get("/filings").await;
        assert!(page.contains("href=\"/notifications\""));
        assert!(page.contains("（未読 2件）"), "badge with the unread count");
        let (status, _, page) = b.get("/notifications").await;
        assert_eq!(status, 200);
        assert!(page.contains(returned["title"].as_str().unwrap()));
        assert!(!page.contains(MARKER));
        let token = csrf(&page);
        // The browser user's own notification of the return.
        let at = page.find("name=\"id\" value=\"").unwrap() + "name=\"id\" value=\"".len();
        let first_id = page[at..].split('"').next().unwrap().to_string();
        let (status, url, page) = b
            .post(
                "/notifications/open",
                &[("csrf_token", token.as_str()), ("id", first_id.as_str())],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            url,
            format!("/filings/{fid}"),
            "opening leads to the filing"
        );
        assert!(page.contains("（未読 1件）"));
        assert_eq!(
            unread_decisions(&p1).await,
            2,
            "reading is per user: the other user's stay unread"
        );
        let (status, _, _) = b
            .post(
                "/notifications/open",
                &[
                    ("csrf_token", token.as_str()),
                    ("id", "01900000-0000-7000-8000-000000000000"),
                ],
            )
            .await;
        assert_eq!(status, 404);
        // Another user cannot open (or learn of) someone else's notification.
        let b2 = Browser::new(&srv.base_url);
        b2.login_oidc("provider2").await;
        let (_, _, p2page) = b2.get("/notifications").await;
        let (status, _, _) = b2
            .post(
                "/notifications/open",
                &[
                    ("csrf_token", csrf(&p2page).as_str()),
                    ("id", first_id.as_str()),
                ],
            )
            .await;
        assert_eq!(status, 404);
        let (status, _, page) = b
            .post("/notifications/read", &[("csrf_token", token.as_str())])
            .await;
        assert_eq!(status, 422, "nothing chosen");
        assert!(page.contains("既読にするお知らせを選んでください。"));
        let (status, url, page) = b
            .post(
                "/notifications/read",
                &[("csrf_token", token.as_str()), ("all", "1")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(url, "/notifications?done=read");
        assert!(page.contains("（未読なし）"));

        // The e-mail setting: immediate until changed; then the daily digest for the signed-in
        // user, and none for the API's account.
        let (_, _, page) = b.get("/settings/notifications").await;
        assert!(page.contains("<legend") && page.contains("value=\"immediate\" checked"));
        let (status, _, page) = b
            .post(
                "/settings/notifications",
                &[("csrf_token", token.as_str()), ("email_mode", "weekly")],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("受け取り方を選んでください"));
        let (status, url, page) = b
            .post(
                "/settings/notifications",
                &[("csrf_token", token.as_str()), ("email_mode", "daily")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("done=settings_saved"));
        assert!(page.contains("value=\"daily\" checked"));
        let local = {
            let id = user_id(&srv.app, "provider1").await;
            let mut tx = srv.app.db.begin_read().await.unwrap();
            let a = madoguchi_core::actor::load_actor(&mut tx, &id)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            a
        };
        madoguchi_core::notifications::set_preference(&srv.app, &local, "none")
            .await
            .unwrap();

        // 新宿区 accepts: in-app at once, by e-mail only to the corporation's address.
        let shinjuku = srv.api("reviewer-131041").await;
        let scase = only_case(&shinjuku).await;
        assert_eq!(
            shinjuku
                .post(&format!("/api/v1/cases/{scase}/accept"), &json!({}))
                .await
                .status,
            200
        );
        assert_eq!(unread_decisions(&p1).await, 3);
        let (_, _, page) = b.get("/filings").await;
        assert!(page.contains("（未読 1件）"));
        srv.drain_jobs().await;
        let mails = srv.sink.wait_for(5 + 3, Duration::from_secs(10)).await;
        let shinjuku_ref = case_ref("131041");
        let accepted = mails
            .iter()
            .find(|m| m.subject.contains(&shinjuku_ref) && m.subject.contains("受け付けられました"))
            .expect("acceptance mail");
        assert_eq!(accepted.to, vec![CORPORATION_MAIL.to_string()]);

        // The daily digest: one mail to the user who chose it, listing what was not mailed;
        // once a day.
        let report = madoguchi_core::notifications::sweep::sweep(&srv.app)
            .await
            .unwrap();
        assert_eq!(report.digests, 1, "[{backend}] {report:?}");
        srv.drain_jobs().await;
        let mails = srv.sink.wait_for(5 + 4, Duration::from_secs(10)).await;
        let digest = mails
            .iter()
            .find(|m| m.subject.contains("お知らせのまとめ"))
            .expect("digest");
        assert_eq!(digest.to, vec![PROVIDER_MAIL.to_string()]);
        assert!(
            digest.body.contains("新宿区で受け付けられました"),
            "{}",
            digest.body
        );
        assert!(digest.body.contains("/settings/notifications"));
        let again = madoguchi_core::notifications::sweep::sweep(&srv.app)
            .await
            .unwrap();
        assert_eq!(again.digests, 0, "one digest a day");

        // None for both: in-app only.
        let (status, _, _) = b
            .post(
                "/settings/notifications",
                &[("csrf_token", token.as_str()), ("email_mode", "none")],
            )
            .await;
        assert_eq!(status, 200);
        let shibuya = srv.api("reviewer-131130").await;
        let bcase = only_case(&shibuya).await;
        assert_eq!(
            shibuya
                .post(&format!("/api/v1/cases/{bcase}/accept"), &json!({}))
                .await
                .status,
            200
        );
        assert_eq!(unread_decisions(&p1).await, 4, "in-app still");
        srv.drain_jobs().await;
        let mails = srv.sink.wait_for(5 + 5, Duration::from_secs(10)).await;
        let shibuya_ref = case_ref("131130");
        let accepted = mails
            .iter()
            .find(|m| m.subject.contains(&shibuya_ref) && m.subject.contains("受け付けられました"))
            .expect("acceptance mail to the corporation");
        assert_eq!(accepted.to, vec![CORPORATION_MAIL.to_string()]);
        let report = madoguchi_core::notifications::sweep::sweep(&srv.app)
            .await
            .unwrap();
        assert_eq!(report.digests, 0, "no digest for 'none'");
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reminds_once_per_stage_and_schedules_itself() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let p1 = srv.api("provider1").await;
        let kimura = user_id(&srv.app, "provider1").await;

        // A draft 変更届 changed on 2027-01-10: due some days later, by the strictest of the
        // authorities it goes to.
        let est = establishment_id(&p1, "1471100048").await;
        let r = p1
            .post(
                "/api/v1/filings",
                &json!({ "procedure_id": "change-notification", "establishment_ids": [est] }),
            )
            .await;
        assert_eq!(r.status, 201);
        let fid = r.body["id"].as_str().unwrap().to_string();
        let mut data = r.body["data"].clone();
        data["fields"]["change_items"] = json!(["representative"]);
        data["fields"]["change_date"] = json!("2027-01-10");
        let r = p1
            .put(
                &format!("/api/v1/filings/{fid}"),
                &json!({ "data": data, "lock_version": r.body["lock_version"] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let due = d(r.body["addressees"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["due_on"].as_str())
            .min()
            .expect("a due date"));
        let deadline_notices = |rows: &[madoguchi_db::notifications::NotificationRow]| {
            rows.iter()
                .filter(|n| n.dedupe_key.starts_with(&format!("deadline:filing:{fid}:")))
                .map(|n| n.title.clone())
                .collect::<Vec<_>>()
        };

        let (app, clock) = app_at(&srv, jst(due - chrono::Days::new(8), 9)).await;
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        assert!(
            deadline_notices(&all_of(&app, &kimura).await).is_empty(),
            "[{backend}] 8 days before: nothing yet"
        );
        clock.set(jst(due - chrono::Days::new(6), 9));
        for _ in 0..2 {
            madoguchi_core::notifications::sweep::sweep(&app)
                .await
                .unwrap();
        }
        let notices = deadline_notices(&all_of(&app, &kimura).await);
        assert_eq!(notices.len(), 1, "[{backend}] once per stage: {notices:?}");
        assert!(notices[0].contains("あと6日"), "{notices:?}");
        clock.set(jst(due - chrono::Days::new(1), 9));
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        let notices = deadline_notices(&all_of(&app, &kimura).await);
        assert_eq!(notices.len(), 2, "{notices:?}");
        assert!(notices[0].contains("明日"), "{notices:?}");
        clock.set(jst(due + chrono::Days::new(1), 9));
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        assert_eq!(
            deadline_notices(&all_of(&app, &kimura).await).len(),
            2,
            "overdue: no more reminders"
        );
        // The user wants e-mail at once: the reminders went out by mail.
        drain(&app).await;
        let mails = srv.sink.wait_for(2, Duration::from_secs(10)).await;
        let reminders: Vec<_> = mails
            .iter()
            .filter(|m| m.subject.contains("提出期限が近づいています"))
            .collect();
        assert_eq!(reminders.len(), 2, "[{backend}]");
        assert!(
            reminders
                .iter()
                .all(|m| m.to == vec![PROVIDER_MAIL.to_string()])
        );

        // Designation expiry: 3 months, then 1 week before the last valid day.
        let corp = {
            let mut tx = app.db.begin_read().await.unwrap();
            let m = madoguchi_db::users::memberships_of(&mut tx, &kimura)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            m[0].corporation_id.clone().unwrap()
        };
        let mut tx = app.db.begin_read().await.unwrap();
        let designation = madoguchi_db::registry::designations_of_corporation(&mut tx, &corp)
            .await
            .unwrap()
            .into_iter()
            .max_by(|a, b| a.valid_until.cmp(&b.valid_until))
            .unwrap();
        tx.commit().await.unwrap();
        let until = d(&designation.valid_until);
        let three = madoguchi_domain::reminders::three_months_before(until).unwrap();
        let expiry = |rows: &[madoguchi_db::notifications::NotificationRow]| {
            rows.iter()
                .filter(|n| {
                    n.dedupe_key
                        .starts_with(&format!("expiry:{}:", designation.id))
                })
                .map(|n| (n.dedupe_key.clone(), n.body.clone()))
                .collect::<Vec<_>>()
        };
        clock.set(jst(three.pred_opt().unwrap(), 9));
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        assert!(expiry(&all_of(&app, &kimura).await).is_empty());
        clock.set(jst(three, 9));
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        let found = expiry(&all_of(&app, &kimura).await);
        assert_eq!(found.len(), 1, "[{backend}] {found:?}");
        assert!(found[0].0.ends_with(":3m"));
        assert!(found[0].1.contains("指定更新申請"));
        clock.set(jst(until - chrono::Days::new(7), 9));
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        let found = expiry(&all_of(&app, &kimura).await);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|(k, _)| k.ends_with(":1w")));
        clock.set(jst(until + chrono::Days::new(1), 9));
        madoguchi_core::notifications::sweep::sweep(&app)
            .await
            .unwrap();
        assert_eq!(expiry(&all_of(&app, &kimura).await).len(), 2);
        // Only the corporation's own users are told.
        let hayashi = user_id(&app, "provider2").await;
        assert!(expiry(&all_of(&app, &hayashi).await).is_empty());

        // The schedule: the worker queues today's run at 07:00 (once, however often asked);
        // the run queues tomorrow's.
        let day = d("2027-06-01");
        clock.set(jst(day, 3));
        drain(&app).await;
        madoguchi_core::notifications::sweep::schedule(&app)
            .await
            .unwrap();
        madoguchi_core::notifications::sweep::schedule(&app)
            .await
            .unwrap();
        let sweeps = |jobs: &[madoguchi_db::jobs::JobRow]| {
            let mut v: Vec<(String, String, i64)> = jobs
                .iter()
                .filter(|j| j.kind == madoguchi_core::notifications::sweep::KIND_SWEEP)
                .map(|j| (j.dedup_key.clone().unwrap(), j.status.clone(), j.run_at))
                .collect();
            v.sort();
            v
        };
        let list = || async {
            let mut tx = app.db.begin_read().await.unwrap();
            let jobs = madoguchi_db::jobs::list_jobs(&mut tx, 10_000)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            jobs
        };
        assert_eq!(
            sweeps(&list().await),
            vec![(
                "sweep:2027-06-01".to_string(),
                "queued".to_string(),
                jst(day, 7).timestamp_millis()
            )]
        );
        drain(&app).await;
        assert_eq!(sweeps(&list().await)[0].1, "queued", "not before 07:00");
        clock.set(jst(day, 7));
        drain(&app).await;
        assert_eq!(
            sweeps(&list().await),
            vec![
                (
                    "sweep:2027-06-01".to_string(),
                    "done".to_string(),
                    jst(day, 7).timestamp_millis()
                ),
                (
                    "sweep:2027-06-02".to_string(),
                    "queued".to_string(),
                    jst(day.succ_opt().unwrap(), 7).timestamp_millis()
                ),
            ]
        );
        srv.stop().await;
    }
}
