//! A thin HTTP client for tests: JSON in, (status, JSON) out, bearer token attached.

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    pub base: String,
    token: Option<String>,
    pub client: Client,
}

/// A response: status and body parsed as JSON (`Value::Null` if not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
    pub text: String,
}

impl Api {
    pub fn new(base: &str, token: Option<String>) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            token,
            client: Client::builder().build().expect("client"),
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let res = rb.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, body, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.request(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.request(Method::PUT, path, Some(body), &[]).await
    }

    /// Sends raw bytes with a content type (malformed bodies).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(bytes);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        let res = rb.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        Resp {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }

    /// Uploads a file (multipart field `file`); returns the response.
    pub async fn upload(&self, filename: &str, bytes: Vec<u8>) -> Resp {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_string())
            .mime_str("application/pdf")
            .expect("mime");
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut rb = self
            .client
            .post(format!("{}/api/v1/attachments", self.base))
            .multipart(form);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        let res = rb.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        Resp {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
        }
    }
}
