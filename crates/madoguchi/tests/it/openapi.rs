//! The OpenAPI document lists every API path of issue #2 and is valid JSON.

use madoguchi_testing::{TestServer, backends};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_the_api() {
    let srv = TestServer::start(backends()[0]).await;
    let r = srv.anonymous().get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3."));
    let paths = r.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/me", "get"),
        ("/api/v1/procedures", "get"),
        ("/api/v1/establishments", "get"),
        ("/api/v1/establishments/{id}", "get"),
        ("/api/v1/filings", "post"),
        ("/api/v1/filings/{id}", "get"),
        ("/api/v1/filings/{id}", "put"),
        ("/api/v1/filings/{id}/submit", "post"),
        ("/api/v1/filings/{id}/withdraw", "post"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/accept", "post"),
        ("/api/v1/cases/{id}/return", "post"),
        ("/api/v1/cases/{id}/comments", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let health = srv.anonymous().get("/healthz").await;
    assert_eq!(health.body["status"], "ok");
    srv.stop().await;
}
