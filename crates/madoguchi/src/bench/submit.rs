//! A provider's submission over the public API, as a system-to-system client does it: in
//! one request (`POST /api/v1/submissions`), or step by step (with a file, the 5-request
//! flow: upload the 200 KB PDF, start a draft, save the 2 KB of answers, link the file to
//! its requirement, submit). Every request must answer 2xx; the submit must create cases.

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The procedure every benchmark filing uses: a notification filed for one establishment,
/// with an optional attachment requirement.
pub const PROCEDURE: &str = "suspension-abolition";
const REQUIREMENT: &str = "user_measures_list";

/// An authenticated API client and what a filing needs.
#[derive(Clone)]
pub struct Submitter {
    client: reqwest::Client,
    base: String,
    token: String,
    establishments: Vec<String>,
    answers: Value,
    pdf: Vec<u8>,
}

/// About 2 KB of answers (UTF-8 Japanese text, within the fields' limits).
pub fn answers() -> Value {
    let effective = (chrono::Local::now().date_naive() + chrono::Days::new(90))
        .format("%Y-%m-%d")
        .to_string();
    json!({
        "kind": "abolition",
        "effective_date": effective,
        "reason": "人員の確保が難しく、サービスの質を保てないため。".repeat(13),
        "user_measures": "利用者ごとに近隣の事業所と居宅介護支援事業所へ引き継ぎます。".repeat(14),
    })
}

/// A 200 KB PDF-looking file (the upload check reads the first bytes).
pub fn pdf_200k() -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%bench ".to_vec();
    let mut x: u32 = 0x9E37_79B9;
    while out.len() < 200 * 1024 - 8 {
        // A cheap generator so the file does not compress to nothing.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push(b'0' + (x % 43) as u8);
        if out.len().is_multiple_of(80) {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"\n%%EOF\n");
    out
}

impl Submitter {
    /// Reads the provider's establishments (every filing names one of them).
    pub async fn new(base: &str, token: &str) -> anyhow::Result<Submitter> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        let s = Submitter {
            client,
            base: base.to_string(),
            token: token.to_string(),
            establishments: Vec::new(),
            answers: answers(),
            pdf: pdf_200k(),
        };
        let list = s
            .call(reqwest::Method::GET, "/api/v1/establishments", None)
            .await?;
        let establishments: Vec<String> = list
            .as_array()
            .context("establishments: not a list")?
            .iter()
            .filter_map(|e| e["id"].as_str().map(str::to_string))
            .collect();
        if establishments.is_empty() {
            bail!("the provider has no establishment");
        }
        Ok(Submitter {
            establishments,
            ..s
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let resp = req
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| what.to_string())?;
        let status = resp.status();
        let body = resp.bytes().await?;
        if !status.is_success() {
            bail!("{what}: {status}: {}", String::from_utf8_lossy(&body));
        }
        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        self.send(req, &format!("{method} {path}")).await
    }

    /// Uploads the 200 KB file (`POST /api/v1/attachments`).
    async fn upload(&self, seq: usize) -> anyhow::Result<String> {
        let form = reqwest::multipart::Form::new().part("file", self.file_part(seq)?);
        let req = self
            .client
            .post(format!("{}/api/v1/attachments", self.base))
            .multipart(form);
        let v = self.send(req, "POST /api/v1/attachments").await?;
        Ok(v["attachment_id"]
            .as_str()
            .context("upload: no attachment_id")?
            .to_string())
    }

    /// One submission in one request (`POST /api/v1/submissions`): the answers and, with
    /// `with_file`, the 200 KB file; created, attached and submitted in one commit.
    pub async fn submit_one(&self, seq: usize, with_file: bool) -> anyhow::Result<()> {
        let est = &self.establishments[seq % self.establishments.len()];
        let filing = json!({
            "procedure_id": PROCEDURE,
            "establishment_ids": [est],
            "data": { "fields": self.answers },
        });
        let mut form = reqwest::multipart::Form::new().part(
            "filing",
            reqwest::multipart::Part::text(filing.to_string()).mime_str("application/json")?,
        );
        if with_file {
            form = form.part(REQUIREMENT, self.file_part(seq)?);
        }
        let req = self
            .client
            .post(format!("{}/api/v1/submissions", self.base))
            .header("Idempotency-Key", format!("bench-one-{seq}"))
            .multipart(form);
        let out = self.send(req, "POST /api/v1/submissions").await?;
        if out["replayed"].as_bool() != Some(false)
            || out["case_ids"].as_array().is_none_or(|c| c.is_empty())
        {
            bail!("submission created no case: {out}");
        }
        Ok(())
    }

    /// The 200 KB file as a multipart part, made unique by `seq` (files are stored by
    /// content: equal bytes would be written once).
    fn file_part(&self, seq: usize) -> anyhow::Result<reqwest::multipart::Part> {
        let mut bytes = self.pdf.clone();
        let stamp = format!("{seq:016}");
        bytes[16..32].copy_from_slice(stamp.as_bytes());
        Ok(reqwest::multipart::Part::bytes(bytes)
            .file_name("利用者への措置の一覧.pdf")
            .mime_str("application/pdf")?)
    }

    /// One complete submission through the step-by-step API: with a file, the 5-request
    /// flow (upload, start a draft, save the answers, link the file, submit); without, the
    /// last 3. `seq` picks the establishment and makes the file unique.
    pub async fn submit(&self, seq: usize, with_file: bool) -> anyhow::Result<()> {
        let attachment = if with_file {
            Some(self.upload(seq).await?)
        } else {
            None
        };
        let est = &self.establishments[seq % self.establishments.len()];
        let draft = self
            .call(
                reqwest::Method::POST,
                "/api/v1/filings",
                Some(json!({ "procedure_id": PROCEDURE, "establishment_ids": [est] })),
            )
            .await?;
        let id = draft["id"].as_str().context("draft: no id")?.to_string();
        let mut data = draft["data"].clone();
        let fields = data["fields"]
            .as_object_mut()
            .context("draft: no data.fields")?;
        for (k, v) in self.answers.as_object().into_iter().flatten() {
            fields.insert(k.clone(), v.clone());
        }
        self.call(
            reqwest::Method::PUT,
            &format!("/api/v1/filings/{id}"),
            Some(json!({ "data": data, "lock_version": draft["lock_version"] })),
        )
        .await?;
        if let Some(att) = attachment {
            self.call(
                reqwest::Method::POST,
                &format!("/api/v1/filings/{id}/attachments"),
                Some(json!({ "attachment_id": att, "requirement_id": REQUIREMENT })),
            )
            .await?;
        }
        let req = self
            .client
            .post(format!("{}/api/v1/filings/{id}/submit", self.base))
            .header("Idempotency-Key", format!("bench-{id}"));
        let out = self.send(req, "POST /api/v1/filings/{id}/submit").await?;
        if out["case_ids"].as_array().is_none_or(|c| c.is_empty()) {
            bail!("submit created no case: {out}");
        }
        Ok(())
    }

    /// Filings of the provider that are no longer drafts (the smoke test counts them).
    pub async fn submitted_count(&self) -> anyhow::Result<usize> {
        let list = self
            .call(reqwest::Method::GET, "/api/v1/filings", None)
            .await?;
        Ok(list
            .as_array()
            .context("filings: not a list")?
            .iter()
            .filter(|f| {
                f["status"].as_str() != Some("draft")
                    && !f["cases"].as_array().is_none_or(|c| c.is_empty())
            })
            .count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_about_2_kb_and_the_file_200_kb() {
        let a = answers().to_string().len();
        assert!((1800..2600).contains(&a), "{a}");
        let reason = answers()["reason"].as_str().unwrap().chars().count();
        let measures = answers()["user_measures"].as_str().unwrap().chars().count();
        assert!(reason <= 1000 && measures <= 2000);
        let pdf = pdf_200k();
        assert!(
            pdf.starts_with(b"%PDF-") && (200 * 1024 - 100..=200 * 1024 + 100).contains(&pdf.len())
        );
    }
}
