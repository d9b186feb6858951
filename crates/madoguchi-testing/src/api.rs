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

    /// Sends a request with an oversized body and reads the answer while the body is still
    /// being written. A server that refuses an oversized body answers before reading it all
    /// and then closes; a client that first writes the whole body (as reqwest does) can meet
    /// a broken pipe or a reset before it reads the answer. Here a writer task sends the body
    /// in chunks (its errors are expected and ignored) while the answer is read, with a
    /// bounded wait.
    pub async fn send_oversized(&self, method: Method, path: &str, body: Vec<u8>) -> Resp {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self
            .base
            .strip_prefix("http://")
            .expect("plain-HTTP test server")
            .to_owned();
        let stream = tokio::net::TcpStream::connect(&host)
            .await
            .expect("connect");
        let (mut rd, mut wr) = stream.into_split();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        if let Some(t) = &self.token {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        head.push_str("\r\n");
        let writer = tokio::spawn(async move {
            if wr.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for chunk in body.chunks(16 * 1024) {
                if wr.write_all(chunk).await.is_err() {
                    return;
                }
            }
        });
        let mut buf = Vec::new();
        let read = async {
            let mut chunk = [0u8; 8192];
            loop {
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                if response_complete(&buf) {
                    break;
                }
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(30), read)
            .await
            .expect("the server answered an oversized body within 30 s");
        writer.abort();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let code: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status code");
        Resp {
            status: StatusCode::from_u16(code).expect("status"),
            body: serde_json::from_str(body).unwrap_or(Value::Null),
            text: body.to_owned(),
        }
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
        self.multipart("/api/v1/attachments", form, &[]).await
    }

    /// POSTs a multipart form with extra headers; returns the response.
    pub async fn multipart(
        &self,
        path: &str,
        form: reqwest::multipart::Form,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self
            .client
            .post(format!("{}{}", self.base, path))
            .multipart(form);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
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

/// Whether `buf` holds a whole HTTP/1.1 answer with a Content-Length body.
fn response_complete(buf: &[u8]) -> bool {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    len.is_some_and(|len| buf.len() >= end + 4 + len)
}
