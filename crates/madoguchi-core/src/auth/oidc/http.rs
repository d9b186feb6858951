//! The HTTP client the relying party talks to its OpenID provider with: hyper over rustls (ring
//! provider, the system's root certificates), plain `http://` allowed for a local development
//! provider. Redirects are never followed (no SSRF through the provider's answers), every
//! exchange has a time limit, and answers are read up to a size limit.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse, http};

/// Largest answer read from the provider (discovery, keys, tokens, UserInfo).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Time allowed for one exchange with the provider.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Why an exchange with the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("request to the OpenID provider failed: {0}")]
    Request(String),
    #[error("the OpenID provider did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the OpenID provider's answer is too large or unreadable: {0}")]
    Body(String),
}

/// A cheap-to-clone HTTPS (and HTTP) client.
#[derive(Clone)]
pub struct ProviderHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ProviderHttp {
    pub fn new() -> ProviderHttp {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_provider_and_native_roots(provider.clone()) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "no usable system root certificates: HTTPS to the OpenID provider will fail"
                );
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .expect("ring supports the default TLS versions")
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            }
        };
        let connector = builder.https_or_http().enable_http1().build();
        ProviderHttp {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::Request(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| HttpError::Body(e.to_string()))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, bytes.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| HttpError::Timeout(TIMEOUT))?
    }
}

impl Default for ProviderHttp {
    fn default() -> Self {
        ProviderHttp::new()
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
