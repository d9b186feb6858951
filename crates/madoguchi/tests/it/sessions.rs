//! Sessions with an injected clock: idle timeout, absolute lifetime, sign-out, and disabling
//! an account ending every session (and API token) at once.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use madoguchi::config::{Config, DataArgs};
use madoguchi_core::auth::{create_session, end_session, resolve_session, set_user_disabled};
use madoguchi_core::clock::FixedClock;
use madoguchi_testing::{TestDb, backends};

const IDLE: i64 = 30 * 60_000;
const ABSOLUTE: i64 = 12 * 3_600_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_end_at_sign_out_and_die_with_the_account() {
    for backend in backends() {
        let db = TestDb::new(backend).await;
        let config = Config::load(&DataArgs {
            config: None,
            data_dir: Some(db.dir.path().into()),
            database_url: Some(db.url.clone()),
        })
        .unwrap();
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).unwrap(),
        ));
        let app = madoguchi::server::open(&config, clock.clone())
            .await
            .unwrap();
        madoguchi_core::registry::demo::seed_if_empty(&app)
            .await
            .unwrap();
        let user_id = {
            let mut tx = app.db.begin_read().await.unwrap();
            let u = madoguchi_db::users::get_user_by_login(&mut tx, "reviewer-131041")
                .await
                .unwrap();
            tx.commit().await.unwrap();
            u.id
        };

        // Idle timeout: activity within 30 minutes keeps the session; 30 idle minutes end it.
        let (secret, s) = create_session(&app, &user_id, "test").await.unwrap();
        assert_eq!(s.csrf_token.len(), 64, "256-bit CSRF token");
        assert_eq!(secret.len(), 64, "256-bit session secret");
        clock.advance(Duration::minutes(29));
        assert!(
            resolve_session(&app, &secret, IDLE, ABSOLUTE).await.is_ok(),
            "[{backend}] 29 idle minutes keep it"
        );
        clock.advance(Duration::minutes(29));
        assert!(
            resolve_session(&app, &secret, IDLE, ABSOLUTE).await.is_ok(),
            "[{backend}] activity refreshed the idle timer"
        );
        clock.advance(Duration::minutes(31));
        assert!(
            resolve_session(&app, &secret, IDLE, ABSOLUTE)
                .await
                .is_err(),
            "[{backend}] 31 idle minutes end it"
        );

        // Absolute lifetime: 12 hours even with constant activity.
        let (secret, _) = create_session(&app, &user_id, "test").await.unwrap();
        // Activity every 20 minutes for 12 h 20 min: the session must end past 12 hours.
        for _ in 0..=(12 * 60 / 20) {
            clock.advance(Duration::minutes(20));
            if resolve_session(&app, &secret, IDLE, ABSOLUTE)
                .await
                .is_err()
            {
                break;
            }
        }
        assert!(
            resolve_session(&app, &secret, IDLE, ABSOLUTE)
                .await
                .is_err(),
            "[{backend}] a 12-hour session ends"
        );

        // Sign-out ends the session; a new sign-in gets a new secret.
        let (a, _) = create_session(&app, &user_id, "test").await.unwrap();
        let (b, _) = create_session(&app, &user_id, "test").await.unwrap();
        assert_ne!(a, b);
        end_session(&app, &a).await.unwrap();
        assert!(resolve_session(&app, &a, IDLE, ABSOLUTE).await.is_err());
        assert!(
            resolve_session(&app, &b, IDLE, ABSOLUTE).await.is_ok(),
            "other sessions survive a sign-out"
        );

        // Disabling the account ends every session and stops API tokens at once.
        let token = madoguchi_core::auth::issue_token(&app, "reviewer-131041", "t")
            .await
            .unwrap();
        assert!(
            madoguchi_core::auth::authenticate_token(&app, &token)
                .await
                .is_ok()
        );
        set_user_disabled(&app, "reviewer-131041", true, "test")
            .await
            .unwrap();
        assert!(
            resolve_session(&app, &b, IDLE, ABSOLUTE).await.is_err(),
            "[{backend}] disabled account keeps no session"
        );
        assert!(
            madoguchi_core::auth::authenticate_token(&app, &token)
                .await
                .is_err()
        );
        assert!(
            create_session(&app, &user_id, "test").await.is_err(),
            "a disabled user cannot sign in"
        );
        set_user_disabled(&app, "reviewer-131041", false, "test")
            .await
            .unwrap();
        assert!(
            resolve_session(&app, &b, IDLE, ABSOLUTE).await.is_err(),
            "re-enabling does not revive old sessions"
        );
        assert!(madoguchi_core::audit::verify(&app).await.is_ok());
    }
}
