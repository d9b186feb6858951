//! A browser without JavaScript for the provider portal tests (part A): cookie session,
//! provider sign-in through the development OpenID provider, form posts (urlencoded and
//! multipart) with the page's CSRF token, and small readers of the returned HTML.

use reqwest::Client;

pub(crate) struct Web {
    pub client: Client,
    pub base: String,
    /// The session's CSRF token, read from the last page that carried one.
    pub csrf: String,
}

/// A response: status, final path (with query) and body.
pub(crate) struct Page {
    pub status: u16,
    pub url: String,
    pub html: String,
}

impl Web {
    /// Signs `account` in as a provider (GビズID stand-in) and lands on the first page.
    pub(crate) async fn provider(base: &str, account: &str) -> Web {
        let client = Client::builder().cookie_store(true).build().unwrap();
        let r = client
            .get(format!("{base}/login/oidc"))
            .send()
            .await
            .unwrap();
        let authorize = r.url().clone();
        assert_eq!(authorize.path(), "/dev-idp/authorize");
        let mut form: Vec<(String, String)> = authorize
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        form.push(("account".into(), account.into()));
        let mut action = authorize.clone();
        action.set_query(None);
        let r = client.post(action).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 200, "sign-in of {account}");
        let html = r.text().await.unwrap();
        let mut web = Web {
            client,
            base: base.into(),
            csrf: String::new(),
        };
        web.remember(&html);
        web
    }

    /// Signs a staff member in through the demo one-click sign-in.
    pub(crate) async fn staff(base: &str, login: &str) -> Web {
        let client = Client::builder().cookie_store(true).build().unwrap();
        let r = client
            .post(format!("{base}/login/demo"))
            .form(&[("login", login)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let html = r.text().await.unwrap();
        let mut web = Web {
            client,
            base: base.into(),
            csrf: String::new(),
        };
        web.remember(&html);
        web
    }

    fn remember(&mut self, html: &str) {
        if let Some(t) = attr_after(html, "name=\"csrf_token\" value=\"") {
            self.csrf = t;
        }
    }

    async fn page(&mut self, r: reqwest::Response) -> Page {
        let status = r.status().as_u16();
        let url = r.url().path().to_string()
            + &r.url().query().map(|q| format!("?{q}")).unwrap_or_default();
        let html = r.text().await.unwrap();
        self.remember(&html);
        Page { status, url, html }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    /// Posts a form; the CSRF token is added.
    pub(crate) async fn post(&mut self, path: &str, form: &[(String, String)]) -> Page {
        let mut all = vec![("csrf_token".to_string(), self.csrf.clone())];
        all.extend(form.iter().cloned());
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .form(&all)
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    /// Posts a multipart form: text fields, then files (field `file`), CSRF token added.
    pub(crate) async fn post_files(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, Vec<u8>)],
    ) -> Page {
        let mut form = reqwest::multipart::Form::new().text("csrf_token", self.csrf.clone());
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (name, bytes) in files {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
        }
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.page(r).await
    }
}

/// The text up to the next `"` after the first occurrence of `marker`.
pub(crate) fn attr_after(html: &str, marker: &str) -> Option<String> {
    let at = html.find(marker)? + marker.len();
    Some(html[at..].split('"').next()?.to_string())
}

/// Every `name="_present" value="…"` of the page (the fields the form rendered).
pub(crate) fn present(html: &str) -> Vec<String> {
    html.match_indices("name=\"_present\" value=\"")
        .map(|(i, m)| {
            html[i + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .replace("&#46;", ".")
        })
        .collect()
}

/// The value attribute of the input named `name` (HTML entities of `.` undone), if any.
pub(crate) fn input_value(html: &str, name: &str) -> Option<String> {
    let escaped = name.replace('.', "&#46;");
    for n in [name.to_string(), escaped] {
        let marker = format!("name=\"{n}\"");
        for (i, _) in html.match_indices(&marker) {
            let tag_start = html[..i].rfind('<')?;
            let tag_end = i + html[i..].find('>')?;
            let tag = &html[tag_start..tag_end];
            if let Some(v) = attr_after(tag, "value=\"") {
                return Some(v);
            }
        }
    }
    None
}

/// The batch id a page URL names (`/batches/<id>…`).
pub(crate) fn batch_id(url: &str) -> String {
    url.trim_start_matches("/batches/")
        .split(['/', '?', '#'])
        .next()
        .unwrap()
        .to_string()
}

/// A small file that passes the upload checks (a PDF header).
pub(crate) fn pdf(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n{text}\n%%EOF").into_bytes()
}
