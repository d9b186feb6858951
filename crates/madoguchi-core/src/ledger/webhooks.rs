//! Webhooks: feed entries pushed to an authority's endpoints.
//!
//! Each feed entry gets one delivery per active endpoint, enqueued as a job in the transaction
//! that wrote the entry. The job runner sends `POST <url>` with the entry's JSON as body and:
//!
//! - `Madoguchi-Delivery: <delivery id>` — the same on every retry and redelivery;
//! - `Madoguchi-Event: <kind>` and `Madoguchi-Seq: <seq>`;
//! - `Madoguchi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
//!
//! A 2xx answer delivers; anything else is retried with the job queue's exponential back-off,
//! and every attempt (status code or network error, timing) is recorded for the admin. When an
//! endpoint cannot be reached at all (connection error, timeout), its other queued deliveries
//! are postponed to the same retry time, so a dead endpoint costs one timeout per back-off
//! period, not one per entry, and the worker's other jobs (mail, other endpoints) go on.
//! Ordering is not guaranteed across retries: receivers apply entries by `seq` and fill gaps
//! from the pull feed (see `docs/ledger.md`).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{KeyInit, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use madoguchi_db::jobs::{self, JobRow};
use madoguchi_db::ledger::webhooks::{self as db, AttemptRow, DeliveryRow, EndpointRow};
use madoguchi_db::{DbError, Tx, new_id};
use openidconnect::http;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Actor, App, CoreError, CoreResult};

/// Kind of the job that carries one delivery attempt round.
pub const KIND_WEBHOOK: &str = "webhook";
/// Time allowed to open the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for the whole exchange.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The part of an endpoint's answer kept for the admin (the rest is read and dropped).
const KEPT_ANSWER: usize = 64 * 1024;
/// Most endpoints per authority.
const MAX_ENDPOINTS: usize = 10;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The HTTP(S) client of the deliveries, built on first use (loading the system's root
/// certificates once per process, not per delivery). Redirects are never followed.
#[derive(Clone, Default)]
pub struct WebhookClient {
    inner: Arc<OnceLock<HttpsClient>>,
}

impl WebhookClient {
    fn client(&self) -> &HttpsClient {
        self.inner.get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut http = HttpConnector::new();
            http.set_connect_timeout(Some(CONNECT_TIMEOUT));
            http.enforce_http(false);
            let builder = hyper_rustls::HttpsConnectorBuilder::new();
            let builder = match builder.with_provider_and_native_roots(provider.clone()) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "no usable system root certificates: HTTPS webhooks will fail");
                    let config = rustls::ClientConfig::builder_with_provider(provider)
                        .with_safe_default_protocol_versions()
                        .expect("ring supports the default TLS versions")
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth();
                    hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
                }
            };
            let connector = builder.https_or_http().enable_http1().wrap_connector(http);
            Client::builder(TokioExecutor::new()).build(connector)
        })
    }
}

/// The signature header value for a body sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// An endpoint as shown to the admin (the secret only once, at creation).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub description: String,
    pub active: bool,
    /// JST, e.g. `2026-11-22 14:05`.
    pub created_at: String,
}

impl From<&EndpointRow> for EndpointView {
    fn from(e: &EndpointRow) -> Self {
        EndpointView {
            id: e.id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            active: e.active == 1,
            created_at: crate::clock::format_ms_jst(e.created_at),
        }
    }
}

/// A new endpoint: its view and the signing secret (shown this once).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointView,
    /// `whsec_…`: the key of `Madoguchi-Signature`. Store it now; it is not shown again.
    pub secret: String,
}

/// One delivery with its attempts.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryView {
    /// Sent as `Madoguchi-Delivery`.
    pub id: String,
    pub endpoint_id: String,
    pub seq: i64,
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: Vec<AttemptView>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    pub attempt_no: i64,
    /// JST.
    pub at: String,
    pub duration_ms: i64,
    /// `ok`, `http_error`, `network_error` or `timeout`.
    pub outcome: String,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

impl From<&AttemptRow> for AttemptView {
    fn from(a: &AttemptRow) -> Self {
        AttemptView {
            attempt_no: a.attempt_no,
            at: super::jst_seconds(a.started_at),
            duration_ms: a.finished_at - a.started_at,
            outcome: a.outcome.clone(),
            status_code: a.status_code,
            error: a.error.clone(),
        }
    }
}

/// Checks an endpoint URL: http or https, a host, no credentials, reasonable length.
fn check_url(url: &str) -> CoreResult<String> {
    let bad = |m: &str| CoreError::field("url", "invalid_url", m);
    let url = url.trim();
    if url.is_empty() {
        return Err(CoreError::field(
            "url",
            "required",
            "配信先の URL を入力してください。",
        ));
    }
    if url.len() > 2000 {
        return Err(bad("URL は2000文字以内で入力してください。"));
    }
    let parsed = openidconnect::url::Url::parse(url).map_err(|_| {
        bad("URL の形式が正しくありません（例: https://ledger.example.lg.jp/madoguchi）。")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("URL は http:// または https:// で始めてください。"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("URL にホスト名がありません。"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad(
            "URL に利用者名やパスワードを含めないでください（署名で認証します）。",
        ));
    }
    Ok(parsed.to_string())
}

/// Creates an endpoint for the admin's authority; every later feed entry is delivered to it.
pub async fn create_endpoint(
    app: &App,
    actor: &Actor,
    authority_code: &str,
    url: &str,
    description: &str,
) -> CoreResult<CreatedEndpoint> {
    let code = super::own_authority(actor, authority_code)?;
    let url = check_url(url)?;
    let description = description.trim();
    if description.chars().count() > 200 {
        return Err(CoreError::field(
            "description",
            "too_long",
            "説明は200文字以内で入力してください。",
        ));
    }
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    if db::endpoints_of(&mut tx, code, false).await?.len() >= MAX_ENDPOINTS {
        return Err(CoreError::field(
            "url",
            "too_many",
            format!(
                "配信先は1自治体あたり{MAX_ENDPOINTS}件までです。使わない配信先を停止してください。"
            ),
        ));
    }
    let secret = format!("whsec_{}", crate::auth::random_secret()?);
    let row = EndpointRow {
        id: new_id(),
        authority_code: code.into(),
        url,
        secret: secret.clone(),
        description: description.into(),
        active: 1,
        created_by: actor.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    db::insert_endpoint(&mut tx, &row).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "ledger.webhook_created",
        "webhook_endpoint",
        &row.id,
        &serde_json::json!({ "authority": code, "url": row.url }),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedEndpoint {
        endpoint: EndpointView::from(&row),
        secret,
    })
}

/// The authority's endpoints.
pub async fn list_endpoints(
    app: &App,
    actor: &Actor,
    authority_code: &str,
) -> CoreResult<Vec<EndpointView>> {
    let code = super::own_authority(actor, authority_code)?;
    let mut tx = app.db.begin_read().await?;
    let rows = db::endpoints_of(&mut tx, code, false).await?;
    tx.commit().await?;
    Ok(rows.iter().map(EndpointView::from).collect())
}

/// Loads an endpoint of the actor's authority (another authority's is `NotFound`).
async fn own_endpoint(
    tx: &mut Tx,
    actor: &Actor,
    authority_code: &str,
    id: &str,
) -> CoreResult<EndpointRow> {
    let code = super::own_authority(actor, authority_code)?;
    match db::get_endpoint(tx, id).await {
        Ok(e) if e.authority_code == code => Ok(e),
        Ok(_) | Err(DbError::NotFound) => Err(CoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Pauses or resumes an endpoint. A paused endpoint gets no new deliveries; deliveries already
/// queued to it fail without being sent (the admin may redeliver them after resuming).
pub async fn set_active(
    app: &App,
    actor: &Actor,
    authority_code: &str,
    id: &str,
    active: bool,
) -> CoreResult<EndpointView> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let e = own_endpoint(&mut tx, actor, authority_code, id).await?;
    db::set_endpoint_active(&mut tx, &e.id, active, now).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        if active {
            "ledger.webhook_resumed"
        } else {
            "ledger.webhook_paused"
        },
        "webhook_endpoint",
        &e.id,
        &serde_json::json!({ "authority": e.authority_code }),
    )
    .await?;
    let e = db::get_endpoint(&mut tx, &e.id).await?;
    tx.commit().await?;
    Ok(EndpointView::from(&e))
}

/// An endpoint's deliveries, newest first, with every attempt.
pub async fn list_deliveries(
    app: &App,
    actor: &Actor,
    authority_code: &str,
    endpoint_id: &str,
    status: Option<&str>,
    limit: i64,
) -> CoreResult<Vec<DeliveryView>> {
    if let Some(s) = status
        && !matches!(s, "pending" | "delivered" | "failed")
    {
        return Err(CoreError::field(
            "status",
            "invalid_status",
            "status は pending、delivered、failed のいずれかを指定してください。",
        ));
    }
    if !(1..=500).contains(&limit) {
        return Err(CoreError::field(
            "limit",
            "out_of_range",
            "limit は1から500の範囲で指定してください。",
        ));
    }
    let mut tx = app.db.begin_read().await?;
    let e = own_endpoint(&mut tx, actor, authority_code, endpoint_id).await?;
    let mut out = Vec::new();
    for d in db::deliveries_of(&mut tx, &e.id, status, limit).await? {
        let attempts = db::attempts_of(&mut tx, &d.id).await?;
        let entry =
            madoguchi_db::ledger::feed::get_entry(&mut tx, &d.authority_code, d.seq).await?;
        out.push(view(&d, entry.kind, &attempts));
    }
    tx.commit().await?;
    Ok(out)
}

fn view(d: &DeliveryRow, kind: String, attempts: &[AttemptRow]) -> DeliveryView {
    DeliveryView {
        id: d.id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        seq: d.seq,
        kind,
        status: d.status.clone(),
        attempts: attempts.iter().map(AttemptView::from).collect(),
        last_status_code: d.last_status_code,
        last_error: d.last_error.clone(),
        created_at: super::jst_seconds(d.created_at),
        delivered_at: d.delivered_at.map(super::jst_seconds),
    }
}

/// Sends a delivery again now (after a failure, or to replay a delivered one): a new round of
/// attempts under the same delivery id. A delivery still being retried is left alone.
pub async fn redeliver(
    app: &App,
    actor: &Actor,
    authority_code: &str,
    delivery_id: &str,
) -> CoreResult<DeliveryView> {
    let now = app.now_ms();
    let mut tx = app.db.begin().await?;
    let d = match db::get_delivery(&mut tx, delivery_id).await {
        Ok(d) => d,
        Err(DbError::NotFound) => return Err(CoreError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let e = own_endpoint(&mut tx, actor, authority_code, &d.endpoint_id).await?;
    if d.status == "pending" {
        return Err(CoreError::Conflict(
            "この配信は送信中（再試行待ち）です。結果が出てから再送してください。".into(),
        ));
    }
    if e.active != 1 {
        return Err(CoreError::Conflict(
            "配信先が停止中です。再開してから再送してください。".into(),
        ));
    }
    let round = round_of(&d.job_key) + 1;
    let job_key = job_key(&d.id, round);
    db::restart_delivery(&mut tx, &d.id, &job_key, now).await?;
    enqueue_job(app, &mut tx, &d.id, &job_key, now).await?;
    madoguchi_db::audit::append(
        &mut tx,
        now,
        &actor.user_id,
        "ledger.webhook_redelivered",
        "webhook_delivery",
        &d.id,
        &serde_json::json!({ "authority": d.authority_code, "seq": d.seq, "round": round }),
    )
    .await?;
    let d = db::get_delivery(&mut tx, &d.id).await?;
    let attempts = db::attempts_of(&mut tx, &d.id).await?;
    let entry = madoguchi_db::ledger::feed::get_entry(&mut tx, &d.authority_code, d.seq).await?;
    tx.commit().await?;
    app.jobs_waker.notify_one();
    Ok(view(&d, entry.kind, &attempts))
}

fn job_key(delivery_id: &str, round: i64) -> String {
    format!("webhook:{delivery_id}:{round}")
}

fn round_of(job_key: &str) -> i64 {
    job_key
        .rsplit(':')
        .next()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1)
}

#[derive(Serialize, Deserialize)]
struct JobPayload {
    delivery_id: String,
}

async fn enqueue_job(
    app: &App,
    tx: &mut Tx,
    delivery_id: &str,
    job_key: &str,
    now: i64,
) -> CoreResult<()> {
    let payload = serde_json::to_string(&JobPayload {
        delivery_id: delivery_id.into(),
    })?;
    jobs::enqueue(
        tx,
        KIND_WEBHOOK,
        &payload,
        Some(job_key),
        now,
        app.config.job_max_attempts,
        now,
    )
    .await?;
    Ok(())
}

/// Creates the deliveries of a new feed entry to the authority's active endpoints, in the
/// entry's transaction (the caller commits and wakes the worker).
pub(crate) async fn enqueue_deliveries(
    app: &App,
    tx: &mut Tx,
    authority_code: &str,
    seq: i64,
    now: i64,
) -> CoreResult<()> {
    for e in db::endpoints_of(tx, authority_code, true).await? {
        let id = new_id();
        let key = job_key(&id, 1);
        db::insert_delivery(
            tx,
            &DeliveryRow {
                id: id.clone(),
                endpoint_id: e.id,
                authority_code: authority_code.into(),
                seq,
                status: "pending".into(),
                attempts: 0,
                job_key: key.clone(),
                last_status_code: None,
                last_error: None,
                created_at: now,
                updated_at: now,
                delivered_at: None,
            },
        )
        .await?;
        enqueue_job(app, tx, &id, &key, now).await?;
    }
    Ok(())
}

/// What one HTTP attempt came to.
struct Outcome {
    kind: &'static str,
    status_code: Option<i64>,
    error: Option<String>,
}

/// Runs one attempt of a delivery job (called by the job runner). `Err((message, retry))`
/// tells the runner whether to retry.
pub async fn deliver(app: &App, job: &JobRow) -> Result<(), (String, bool)> {
    let payload: JobPayload =
        serde_json::from_str(&job.payload).map_err(|e| (format!("bad payload: {e}"), false))?;
    let internal = |e: CoreError| (e.to_string(), true);
    let mut tx = app.db.begin_read().await.map_err(|e| internal(e.into()))?;
    let loaded = async {
        let d = db::get_delivery(&mut tx, &payload.delivery_id).await?;
        let e = db::get_endpoint(&mut tx, &d.endpoint_id).await?;
        let entry =
            madoguchi_db::ledger::feed::get_entry(&mut tx, &d.authority_code, d.seq).await?;
        Ok::<_, DbError>((d, e, entry))
    }
    .await;
    tx.commit().await.map_err(|e| internal(e.into()))?;
    let (d, endpoint, entry) = match loaded {
        Ok(x) => x,
        Err(DbError::NotFound) => return Err(("delivery vanished".into(), false)),
        Err(e) => return Err(internal(e.into())),
    };
    if d.status != "pending" || d.job_key.as_str() != job.dedup_key.as_deref().unwrap_or("") {
        // Delivered meanwhile, or superseded by a redelivery round: nothing to send.
        return Ok(());
    }
    if endpoint.active != 1 {
        let now = app.now_ms();
        finish(
            app,
            &d,
            None,
            "failed",
            now,
            "配信先が停止されていたため送信しませんでした。",
        )
        .await
        .map_err(internal)?;
        return Ok(());
    }
    let started = app.now_ms();
    let clock = Instant::now();
    let outcome = send(
        app,
        &endpoint,
        &d,
        &entry.kind,
        entry.payload.into_bytes(),
        started,
    )
    .await;
    let finished = started + clock.elapsed().as_millis() as i64;
    let last_try = job.attempts >= job.max_attempts;
    let status = match (outcome.kind, last_try) {
        ("ok", _) => "delivered",
        (_, true) => "failed",
        (_, false) => "pending",
    };
    let attempt = AttemptRow {
        id: new_id(),
        delivery_id: d.id.clone(),
        attempt_no: 0,
        started_at: started,
        finished_at: finished,
        outcome: outcome.kind.into(),
        status_code: outcome.status_code,
        error: outcome.error.clone(),
    };
    let unreachable = matches!(outcome.kind, "network_error" | "timeout");
    let retry_at = finished + crate::jobs::backoff_ms(app.config.job_backoff_base_ms, job.attempts);
    let write = async {
        let mut tx = app.db.begin().await?;
        db::record_attempt(&mut tx, &attempt, status).await?;
        if unreachable && !last_try {
            let moved = db::postpone_endpoint(&mut tx, &endpoint.id, retry_at, finished).await?;
            if moved > 0 {
                tracing::info!(endpoint = %endpoint.id, moved, "webhook endpoint unreachable: its queued deliveries wait for the back-off");
            }
        }
        tx.commit().await?;
        Ok::<_, DbError>(())
    };
    write.await.map_err(|e| internal(e.into()))?;
    match outcome.kind {
        "ok" => Ok(()),
        _ => Err((
            outcome
                .error
                .unwrap_or_else(|| format!("HTTP {}", outcome.status_code.unwrap_or(0))),
            true,
        )),
    }
}

/// Marks a delivery finished without an HTTP attempt (paused endpoint).
async fn finish(
    app: &App,
    d: &DeliveryRow,
    status_code: Option<i64>,
    status: &str,
    now: i64,
    error: &str,
) -> CoreResult<()> {
    let mut tx = app.db.begin().await?;
    db::record_attempt(
        &mut tx,
        &AttemptRow {
            id: new_id(),
            delivery_id: d.id.clone(),
            attempt_no: 0,
            started_at: now,
            finished_at: now,
            outcome: "skipped".into(),
            status_code,
            error: Some(error.into()),
        },
        status,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One HTTP attempt.
async fn send(
    app: &App,
    endpoint: &EndpointRow,
    d: &DeliveryRow,
    kind: &str,
    body: Vec<u8>,
    now_ms: i64,
) -> Outcome {
    let timestamp = now_ms.div_euclid(1000);
    let request = http::Request::post(endpoint.url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::USER_AGENT, "Madoguchi-Webhook/1")
        .header("Madoguchi-Delivery", d.id.as_str())
        .header("Madoguchi-Seq", d.seq.to_string())
        .header("Madoguchi-Event", kind)
        .header(
            "Madoguchi-Signature",
            signature(&endpoint.secret, timestamp, &body),
        )
        .body(Full::new(Bytes::from(body)));
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            return Outcome {
                kind: "network_error",
                status_code: None,
                error: Some(format!("request not built: {e}")),
            };
        }
    };
    let exchange = async {
        let response = app.webhooks.client().request(request).await?;
        let status = response.status();
        // Read (a bounded part of) the answer so the connection can be reused.
        let _ = Limited::new(response.into_body(), KEPT_ANSWER)
            .collect()
            .await;
        Ok::<_, hyper_util::client::legacy::Error>(status)
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Err(_) => Outcome {
            kind: "timeout",
            status_code: None,
            error: Some(format!(
                "no answer within {} seconds",
                REQUEST_TIMEOUT.as_secs()
            )),
        },
        Ok(Err(e)) => Outcome {
            kind: "network_error",
            status_code: None,
            error: Some(error_chain(&e)),
        },
        Ok(Ok(status)) if status.is_success() => Outcome {
            kind: "ok",
            status_code: Some(i64::from(status.as_u16())),
            error: None,
        },
        Ok(Ok(status)) => Outcome {
            kind: "http_error",
            status_code: Some(i64::from(status.as_u16())),
            error: Some(format!("HTTP {}", status.as_u16())),
        },
    }
}

/// An error with its causes ("client error (Connect): tcp connect error: Connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{"seq":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"seq":1}"#),
            "t=1700000000,v1=926c3c48823e4dc937cdb0992313bcbbc472579d779ab54f0d4e09e4049838aa"
        );
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            check_url(" https://ledger.example.lg.jp/hook ").unwrap(),
            "https://ledger.example.lg.jp/hook"
        );
        for bad in [
            "",
            "ftp://x",
            "https://user:pw@example.jp/",
            "not a url",
            "javascript:alert(1)",
        ] {
            assert!(
                matches!(check_url(bad), Err(CoreError::Validation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn redelivery_rounds_count_up() {
        assert_eq!(round_of(&job_key("d", 1)), 1);
        assert_eq!(round_of(&job_key("d", 7)), 7);
    }
}
