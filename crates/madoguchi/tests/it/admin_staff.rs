//! Staff accounts of an authority, managed by its admin through the pages (plain form posts)
//! and the API: adding an account (its password works at the sign-in page), changing the
//! role, disabling (sessions and tokens stop working) and enabling, resetting the second
//! factor, setting a password; the last admin cannot leave the authority without one; only
//! that authority's admin may do any of it; every change is audited.

use madoguchi_testing::{TestServer, backends};
use serde_json::{Value, json};

use crate::common::page_csrf;
use crate::pages::Browser;

const STAFF_API: &str = "/api/v1/authorities/131041/staff";

/// Audit events with this action.
async fn audited(srv: &TestServer, action: &str) -> u64 {
    // A no-op update counts the rows without changing the chain.
    srv.db
        .execute(&format!(
            "UPDATE audit_events SET action = action WHERE action = '{action}'"
        ))
        .await
}

fn member<'a>(list: &'a Value, login: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|m| m["login"] == login)
        .unwrap_or_else(|| panic!("{login} in {list}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_manages_the_staff_accounts_of_its_authority() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let admin = Browser::new(&srv.base_url);
        admin.login("admin-131041").await;

        let (status, _, page) = admin.get("/admin/staff").await;
        assert_eq!(status, 200, "[{backend}] {page}");
        assert!(page.contains("reviewer-131041") && page.contains("admin-131041"));
        assert!(
            !page.contains("reviewer-141003"),
            "only this authority's staff"
        );
        let token = page_csrf(&page);

        // Bad input: every field named, in Japanese, nothing created.
        let (status, _, page) = admin
            .post(
                "/admin/staff",
                &[
                    ("csrf_token", &token),
                    ("login", "すずき"),
                    ("display_name", ""),
                    ("email", "suzuki@"),
                    ("role", "reviewer"),
                    ("password", "short"),
                ],
            )
            .await;
        assert_eq!(status, 422, "[{backend}]");
        for message in [
            "ログインIDは半角の英小文字・数字",
            "氏名を入力してください。",
            "メールアドレスの形式が正しくありません",
        ] {
            assert!(page.contains(message), "{message}: {page}");
        }
        assert!(page.contains("id=\"new-password-error\""), "{page}");
        assert_eq!(audited(&srv, "staff.created").await, 0);

        // A reviewer account with an initial password.
        let (status, url, page) = admin
            .post(
                "/admin/staff",
                &[
                    ("csrf_token", &token),
                    ("login", "Suzuki.Hanako"),
                    ("display_name", "鈴木　花子"),
                    ("email", "suzuki@shinjuku.example.lg.jp"),
                    ("role", "reviewer"),
                    ("password", "kaigo-hoken-2026-shinjuku"),
                ],
            )
            .await;
        assert_eq!(status, 200, "[{backend}] {page}");
        assert!(url.ends_with("done=created"), "{url}");
        assert!(page.contains("suzuki.hanako") && page.contains("鈴木　花子"));
        // The same login again is refused.
        let (status, _, page) = admin
            .post(
                "/admin/staff",
                &[
                    ("csrf_token", &token),
                    ("login", "suzuki.hanako"),
                    ("display_name", "別人"),
                    ("email", "other@shinjuku.example.lg.jp"),
                    ("role", "reviewer"),
                    ("password", "kaigo-hoken-2026-shinjuku"),
                ],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("ログインID「suzuki.hanako」はすでに使われています。"));

        // The password works at the staff sign-in (on to enrolling the authenticator).
        let person = Browser::new(&srv.base_url);
        let (_, url, page) = person
            .post(
                "/login/password",
                &[
                    ("login", "suzuki.hanako"),
                    ("password", "kaigo-hoken-2026-shinjuku"),
                ],
            )
            .await;
        assert_eq!(url, "/login/totp", "[{backend}] {page}");

        let api = srv.api("admin-131041").await;
        let list = api.get(STAFF_API).await;
        assert_eq!(list.status, 200, "{}", list.text);
        let m = member(&list.body, "suzuki.hanako").clone();
        assert_eq!(m["role"], "reviewer");
        assert_eq!(m["password_set"], true);
        assert_eq!(m["second_factor_enrolled"], false);
        let id = m["user_id"].as_str().unwrap().to_string();
        let me = member(&list.body, "admin-131041")["user_id"]
            .as_str()
            .unwrap()
            .to_string();

        // The last admin can neither demote nor disable themselves.
        let (status, _, page) = admin
            .post(
                &format!("/admin/staff/{me}/role"),
                &[("csrf_token", &token), ("role", "reviewer")],
            )
            .await;
        assert_eq!(status, 409, "[{backend}] {page}");
        assert!(page.contains("管理者が1人もいなくなるため"));
        let (status, _, _) = admin
            .post(
                &format!("/admin/staff/{me}/disabled"),
                &[("csrf_token", &token), ("disabled", "1"), ("confirm", "1")],
            )
            .await;
        assert_eq!(status, 409);
        let r = api
            .put(&format!("{STAFF_API}/{me}"), &json!({ "disabled": true }))
            .await;
        assert_eq!(r.status, 409, "{}", r.text);

        // Promote the new account; now the first admin may step down.
        let (status, url, _) = admin
            .post(
                &format!("/admin/staff/{id}/role"),
                &[("csrf_token", &token), ("role", "authority_admin")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("done=role"), "{url}");

        // Disabling asks for a confirmation, then ends the account's sessions and tokens.
        let token_of_new = madoguchi_core::auth::issue_token(&srv.app, "suzuki.hanako", "t")
            .await
            .unwrap();
        let new_api = madoguchi_testing::Api::new(&srv.base_url, Some(token_of_new));
        assert_eq!(new_api.get(STAFF_API).await.status, 200, "an admin now");
        let (status, _, page) = admin
            .post(
                &format!("/admin/staff/{id}/disabled"),
                &[("csrf_token", &token), ("disabled", "1")],
            )
            .await;
        assert_eq!(status, 422);
        assert!(page.contains("確認のチェックを入れてください"));
        let (status, url, _) = admin
            .post(
                &format!("/admin/staff/{id}/disabled"),
                &[("csrf_token", &token), ("disabled", "1"), ("confirm", "1")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("done=disabled"), "{url}");
        assert_eq!(new_api.get(STAFF_API).await.status, 401);
        // Disabled, it no longer counts as an admin: the first admin cannot step down.
        let r = api
            .put(&format!("{STAFF_API}/{me}"), &json!({ "role": "reviewer" }))
            .await;
        assert_eq!(r.status, 409, "{}", r.text);
        let (status, url, _) = admin
            .post(
                &format!("/admin/staff/{id}/disabled"),
                &[("csrf_token", &token), ("disabled", "0")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("done=enabled"), "{url}");

        // Resetting the second factor (an enrolled authenticator, as after a first sign-in).
        srv.db
            .execute(&format!(
                "UPDATE staff_credentials SET totp_secret = 'JBSWY3DPEHPK3PXP', totp_enrolled_at = 1 WHERE user_id = '{id}'"
            ))
            .await;
        let (_, _, page) = admin.get(&format!("/admin/staff/{id}")).await;
        assert!(page.contains("登録済み"));
        let (status, _, _) = admin
            .post(
                &format!("/admin/staff/{id}/second-factor"),
                &[("csrf_token", &token)],
            )
            .await;
        assert_eq!(status, 422, "needs the confirmation");
        let (status, url, page) = admin
            .post(
                &format!("/admin/staff/{id}/second-factor"),
                &[("csrf_token", &token), ("confirm", "1")],
            )
            .await;
        assert_eq!(status, 200);
        assert!(url.ends_with("done=second_factor"), "{url}");
        assert!(page.contains("未登録（次回のログインで登録します）"));

        // A new password by the API; a weak one is refused naming the field.
        let r = api
            .put(
                &format!("{STAFF_API}/{id}"),
                &json!({ "password": "password" }),
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["error"]["fields"][0]["field"], "password");
        let r = api
            .put(
                &format!("{STAFF_API}/{id}"),
                &json!({ "password": "atarashii-kaigo-2027" }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);

        // Now the first admin may step down; the admin pages are closed to them after.
        let r = api
            .put(&format!("{STAFF_API}/{me}"), &json!({ "role": "reviewer" }))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["role"], "reviewer");
        let (status, _, _) = admin.get("/admin/staff").await;
        assert_eq!(status, 403, "[{backend}] a reviewer now");

        // Every change is in the audit trail, and the chain is intact.
        for action in [
            "staff.created",
            "staff.role_changed",
            "user.disabled",
            "user.enabled",
            "user.totp_reset",
            "user.password_set",
        ] {
            assert!(audited(&srv, action).await >= 1, "[{backend}] {action}");
        }
        assert_eq!(audited(&srv, "staff.role_changed").await, 2);
        madoguchi_core::audit::verify(&srv.app).await.unwrap();
        srv.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_authoritys_admin_manages_its_staff() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let own = srv.api("admin-131041").await;
        let list = own.get(STAFF_API).await;
        let reviewer_id = member(&list.body, "reviewer-131041")["user_id"]
            .as_str()
            .unwrap()
            .to_string();
        // A reviewer is refused (403); another authority's admin finds nothing (404), also
        // when naming the ward's staff under its own code.
        let reviewer = srv.api("reviewer-131041").await;
        assert_eq!(reviewer.get(STAFF_API).await.status, 403);
        let other = srv.api("admin-141003").await;
        assert_eq!(other.get(STAFF_API).await.status, 404, "[{backend}]");
        let r = other
            .put(
                &format!("/api/v1/authorities/141003/staff/{reviewer_id}"),
                &json!({ "disabled": true }),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
        let r = other
            .post(
                "/api/v1/authorities/131041/staff",
                &json!({ "login": "intruder", "display_name": "x", "email": "x@x.jp", "role": "authority_admin", "password": "kaigo-hoken-2026-x" }),
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.text);
        // A provider is refused at the door.
        let p = srv.api("provider1").await;
        assert_eq!(p.get(STAFF_API).await.status, 403);
        // Nothing changed.
        let after = own.get(STAFF_API).await;
        assert_eq!(after.body, list.body);
        assert!(
            srv.db
                .execute("UPDATE users SET login = login WHERE login = 'intruder'")
                .await
                == 0
        );
        srv.stop().await;
    }
}
