//! Rate limits over real HTTP: sign-in attempts per client address and per login name, and
//! searches per account, answer 429 with Retry-After; a client cannot escape by forging
//! X-Forwarded-For (no proxy is trusted by default).

use madoguchi_testing::{TestServer, backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_search_are_rate_limited() {
    let srv =
        TestServer::start_with(backends()[0], |c| c.web.rate_limits.sign_in_per_minute = 10).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let limit = srv.config.web.rate_limits.sign_in_per_minute as usize;
    let mut statuses = Vec::new();
    for i in 0..=limit {
        let r = client
            .post(format!("{}/login/demo", srv.base_url))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .form(&[("login", format!("nobody-{i}"))])
            .send()
            .await
            .unwrap();
        statuses.push((
            r.status().as_u16(),
            r.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string()),
        ));
    }
    assert!(
        statuses[..limit].iter().all(|(s, _)| *s != 429),
        "{statuses:?}"
    );
    let (last, retry_after) = &statuses[limit];
    assert_eq!(
        *last, 429,
        "the attempt past the limit is refused despite a forged X-Forwarded-For"
    );
    let secs: u64 = retry_after
        .as_deref()
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&secs));

    // Per account: one reviewer's token is limited on search regardless of anything else.
    let rv = srv.api("reviewer-131041").await;
    let per_minute = srv.config.web.rate_limits.search_per_minute as usize;
    let mut refused = None;
    // The bucket refills (per_minute / 60 per second) while the loop runs, so allow headroom:
    // the refusal must still come, and not before the limit.
    for i in 0..per_minute * 2 {
        let r = rv.get("/api/v1/cases").await;
        if r.status == 429 {
            refused = Some((i, r));
            break;
        }
    }
    let (i, r) = refused.expect("search is limited");
    assert!(i >= per_minute - 1, "refused only past the limit (at {i})");
    assert_eq!(r.body["error"]["code"], "rate_limited");
    srv.stop().await;
}
