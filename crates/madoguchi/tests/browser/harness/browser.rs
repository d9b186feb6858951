//! A person at the browser: signs in the way people do (the provider through the development
//! GビズID's pages, staff with the demo one-click list), fills fields found by their visible
//! label, clicks buttons and links by their text, attaches files, reads the flash message,
//! and shoots every page it visits. Every `fill` counts as one field typed ([`Browser::typed`]),
//! so a flow can report how many fields a person had to type.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ElementRef};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::{axe, shots};

/// The W3C WebDriver key of an element reference in script results.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Script helpers shared by the lookups: normalised text, the text a person reads in a label
/// (tags such as 「必須」 and screen-reader-only text left out), visibility.
const JS_HELPERS: &str = r#"
const norm = s => (s || '').replace(/\s+/g, ' ').trim();
const readable = el => {
  const c = el.cloneNode(true);
  c.querySelectorAll('.tag, .visually-hidden, .local-rule, .new-field, .choice__meta').forEach(x => x.remove());
  return norm(c.textContent);
};
const shown = el => {
  const r = el.getBoundingClientRect();
  return r.width > 2 && r.height > 2 && el.getAttribute('aria-hidden') !== 'true'
    && getComputedStyle(el).visibility !== 'hidden';
};
"#;

#[derive(Clone)]
pub struct Browser {
    pub client: Client,
    base: String,
    typed: Arc<AtomicUsize>,
    javascript: bool,
    /// Whether [`Browser::shoot`] shoots and checks (off for a flow's second backend).
    checks: bool,
}

impl Browser {
    /// The shared Chromium session with JavaScript, signed out, at desktop width, for the
    /// server at `base_url`.
    pub async fn open(base_url: &str) -> Browser {
        Self::start(base_url, true).await
    }

    /// The shared session with JavaScript disabled by Chrome's content setting (what a user
    /// who turned JavaScript off gets: page scripts never run).
    pub async fn without_js(base_url: &str) -> Browser {
        Self::start(base_url, false).await
    }

    async fn start(base_url: &str, javascript: bool) -> Browser {
        let client = super::driver::session(javascript).await;
        let mut timeouts = TimeoutConfiguration::default();
        timeouts.set_script(Some(Duration::from_secs(60)));
        timeouts.set_page_load(Some(Duration::from_secs(60)));
        timeouts.set_implicit(Some(Duration::ZERO));
        client.update_timeouts(timeouts).await.expect("timeouts");
        let b = Browser {
            client,
            base: base_url.trim_end_matches('/').to_string(),
            typed: Arc::new(AtomicUsize::new(0)),
            javascript,
            checks: true,
        };
        b.client.goto("about:blank").await.expect("blank page");
        b.clear_cookies().await;
        // The session is shared: undo what an earlier test may have left behind when it
        // failed half-way (print media emulation, a narrow window).
        shots::cdp(
            &b.client,
            "Emulation.setEmulatedMedia",
            json!({ "media": "" }),
        )
        .await;
        shots::set_width(&b.client, shots::DESKTOP).await;
        b
    }

    /// Turns [`Browser::shoot`] on or off: a flow repeated on a second backend shows the same
    /// pages, so it need not shoot and check them again.
    pub fn with_checks(mut self, on: bool) -> Browser {
        self.checks = on;
        self
    }

    /// Whether page scripts run in this session.
    pub fn javascript(&self) -> bool {
        self.javascript
    }

    /// The server's address.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// How many fields were typed into so far ([`Browser::fill`] calls).
    pub fn typed(&self) -> usize {
        self.typed.load(Ordering::SeqCst)
    }

    /// Starts counting typed fields from zero.
    pub fn reset_typed(&self) {
        self.typed.store(0, Ordering::SeqCst);
    }

    /// Forgets every cookie (sign-out without a trace; the next test starts fresh).
    pub async fn clear_cookies(&self) {
        shots::cdp(&self.client, "Network.clearBrowserCookies", json!({})).await;
    }

    pub async fn goto(&self, path: &str) {
        let url = if path.starts_with("http") || path.starts_with("data:") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current path with its query (`/filings/…/edit?done=saved`).
    pub async fn path(&self) -> String {
        let u = self.client.current_url().await.expect("current url");
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    }

    /// Waits (up to 10 s) until the path starts with `prefix`.
    pub async fn wait_path(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let p = self.path().await;
            if p.starts_with(prefix) {
                return p;
            }
            assert!(
                Instant::now() < deadline,
                "expected to arrive at {prefix}…, still at {p}: {}",
                self.main_text().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn element(&self, v: &Value) -> Option<Element> {
        v.get(ELEMENT_KEY).and_then(Value::as_str).map(|id| {
            Element::from_element_id(self.client.clone(), ElementRef::from(id.to_string()))
        })
    }

    fn elements(&self, v: &Value) -> Vec<Element> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| self.element(e))
            .collect()
    }

    async fn script(&self, body: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(&format!("{JS_HELPERS}\n{body}"), args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{body}"))
    }

    /// Every form control whose label reads `label` (tags such as 「必須」 ignored; for choice
    /// tiles, their title).
    async fn controls(&self, label: &str) -> Vec<Element> {
        let found = self
            .script(
                r#"
                const [text] = arguments;
                const title = l => { const t = l.querySelector('.choice__title'); return t ? norm(t.textContent) : null; };
                return [...document.querySelectorAll('label')]
                  .filter(l => l.control && (readable(l) === text || title(l) === text))
                  .map(l => l.control);
                "#,
                vec![json!(label)],
            )
            .await;
        self.elements(&found)
    }

    async fn labels_on_page(&self) -> String {
        let v = self
            .script(
                "return [...document.querySelectorAll('label')].map(readable).join(' / ');",
                vec![],
            )
            .await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// The one control labelled `label` (the `index`-th when the label repeats, e.g. one per
    /// establishment).
    pub async fn control(&self, label: &str, index: usize) -> Element {
        let mut all = self.controls(label).await;
        if index >= all.len() {
            panic!(
                "no field labelled 「{label}」 (#{index}) on {}; labels: {}",
                self.path().await,
                self.labels_on_page().await
            );
        }
        if index == 0 && all.len() > 1 {
            panic!(
                "{} fields are labelled 「{label}」 on {}: use fill_nth",
                all.len(),
                self.path().await
            );
        }
        all.swap_remove(index)
    }

    /// Types `value` into the field labelled `label` (replacing what is there). Counts as one
    /// field typed.
    pub async fn fill(&self, label: &str, value: &str) {
        self.fill_control(self.control(label, 0).await, value).await;
    }

    /// Like [`Browser::fill`] for the `index`-th field of that label.
    pub async fn fill_nth(&self, label: &str, index: usize, value: &str) {
        let mut all = self.controls(label).await;
        assert!(index < all.len(), "no field 「{label}」 #{index}");
        self.fill_control(all.swap_remove(index), value).await;
    }

    async fn fill_control(&self, el: Element, value: &str) {
        self.typed.fetch_add(1, Ordering::SeqCst);
        let kind = el.attr("type").await.ok().flatten().unwrap_or_default();
        if kind == "date" {
            // A date picker takes keystrokes in the locale's order; people pick or type the
            // date, the effect is the same value.
            self.client
                .execute(
                    "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
                    vec![serde_json::to_value(&el).expect("element"), json!(value)],
                )
                .await
                .expect("set date");
        } else {
            el.clear().await.expect("clear field");
            el.send_keys(value).await.expect("type into field");
        }
    }

    /// The current value of the field labelled `label`.
    pub async fn value(&self, label: &str) -> String {
        self.control(label, 0)
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Ticks the checkbox (or picks the radio button) labelled `label`.
    pub async fn check(&self, label: &str) {
        let el = self.control(label, 0).await;
        if !el.is_selected().await.unwrap_or(false) {
            el.click().await.expect("tick");
        }
    }

    /// Like [`Browser::check`] for the `index`-th checkbox of that label.
    pub async fn check_nth(&self, label: &str, index: usize) {
        let mut all = self.controls(label).await;
        assert!(index < all.len(), "no checkbox 「{label}」 #{index}");
        let el = all.swap_remove(index);
        if !el.is_selected().await.unwrap_or(false) {
            el.click().await.expect("tick");
        }
    }

    /// Clears the checkbox labelled `label`.
    pub async fn uncheck(&self, label: &str) {
        let el = self.control(label, 0).await;
        if el.is_selected().await.unwrap_or(false) {
            el.click().await.expect("untick");
        }
    }

    /// Like [`Browser::select`] for the `index`-th list of that label (the same question
    /// asked once per establishment).
    pub async fn select_nth(&self, label: &str, index: usize, option: &str) {
        let mut all = self.controls(label).await;
        assert!(index < all.len(), "no list 「{label}」 #{index}");
        all.swap_remove(index)
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("choose 「{option}」 in 「{label}」 #{index}: {e}"));
    }

    /// Picks the option shown as `option` in the list labelled `label`.
    pub async fn select(&self, label: &str, option: &str) {
        self.control(label, 0)
            .await
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("choose 「{option}」 in 「{label}」: {e}"));
    }

    async fn clickables(&self, text: &str, scope: &str) -> Vec<Element> {
        let found = self
            .script(
                r#"
                const [text, scope] = arguments;
                const root = scope ? document.querySelector(scope) : document;
                if (!root) return [];
                const label = el => el.tagName === 'INPUT' ? norm(el.value) : norm(el.textContent);
                return [...root.querySelectorAll('button, a[href], input[type=submit], summary')]
                  .filter(el => shown(el) && (label(el) === text || readable(el) === text));
                "#,
                vec![json!(text), json!(scope)],
            )
            .await;
        self.elements(&found)
    }

    /// Marks the current document, so [`Browser::wait_for_new_page`] can tell when another
    /// one has replaced it.
    async fn mark_page(&self) {
        self.client
            .execute(
                "document.documentElement.setAttribute('data-mg-left', '1');",
                vec![],
            )
            .await
            .expect("mark the page");
    }

    /// Waits (up to 20 s) until a new page has loaded after a click that navigates.
    async fn wait_for_new_page(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = self
                .client
                .execute(
                    "return document.readyState === 'complete' && !document.documentElement.hasAttribute('data-mg-left');",
                    vec![],
                )
                .await;
            if matches!(ready, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: no new page within 20 s (still at {})",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `el` and waits for the page it leads to.
    async fn click_and_wait(&self, el: Element, what: &str) {
        self.mark_page().await;
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {what}: {e}"));
        self.wait_for_new_page(what).await;
    }

    /// Clicks the button or link that reads `text` (there must be exactly one on the page) and
    /// waits for the page it leads to.
    pub async fn click(&self, text: &str) {
        self.click_in("", text).await;
    }

    /// Opens the disclosure (`<summary>`) that reads `text`, on the same page.
    pub async fn expand(&self, text: &str) {
        self.expand_in("", text).await;
    }

    /// Opens the disclosure reading `text` inside the element matching the CSS `scope`.
    pub async fn expand_in(&self, scope: &str, text: &str) {
        let mut all = self.clickables(text, scope).await;
        assert_eq!(
            all.len(),
            1,
            "one disclosure 「{text}」 on {}",
            self.path().await
        );
        all.swap_remove(0)
            .click()
            .await
            .expect("open the disclosure");
    }

    /// Clicks the button or link reading `text` inside the element matching the CSS `scope`,
    /// and waits for the page it leads to.
    pub async fn click_in(&self, scope: &str, text: &str) {
        let mut all = self.clickables(text, scope).await;
        match all.len() {
            1 => {
                self.click_and_wait(all.swap_remove(0), &format!("「{text}」"))
                    .await
            }
            0 => panic!(
                "no button or link 「{text}」{} on {} (buttons and links: {}): {}",
                if scope.is_empty() {
                    String::new()
                } else {
                    format!(" in {scope}")
                },
                self.path().await,
                self.script(
                    "return [...document.querySelectorAll('button, a[href], input[type=submit], summary')].filter(shown).map(e => norm(e.textContent)).join(' / ');",
                    vec![]
                )
                .await,
                self.main_text().await
            ),
            n => panic!(
                "{n} buttons or links read 「{text}」 on {}: scope the click",
                self.path().await
            ),
        }
    }

    /// Whether a button or link reading `text` is on the page.
    pub async fn has_button(&self, text: &str) -> bool {
        !self.clickables(text, "").await.is_empty()
    }

    /// Opens the first case of the inbox (the newest activity) by its 到達番号 link.
    pub async fn open_first_case(&self) {
        let link = self
            .client
            .find(Locator::Css("main table a[href^='/cases/']"))
            .await
            .unwrap_or_else(|e| panic!("no case in the inbox: {e}"));
        self.click_and_wait(link, "the first case").await;
    }

    /// Attaches a file for the document 「requirement」 on the filing form and waits for the
    /// page to come back.
    pub async fn upload(&self, requirement: &str, filename: &str, bytes: &[u8]) {
        self.upload_in("", requirement, filename, bytes).await;
    }

    /// Like [`Browser::upload`] for the document 「requirement」 inside the element matching
    /// the CSS `scope` (one draft of a batch's review page, where every draft lists its own).
    pub async fn upload_in(&self, scope: &str, requirement: &str, filename: &str, bytes: &[u8]) {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-uploads");
        std::fs::create_dir_all(&dir).expect("upload directory");
        let path = dir.join(filename);
        std::fs::write(&path, bytes).expect("write upload");
        let found = self
            .script(
                r#"
                const [text, scope] = arguments;
                const root = scope ? document.querySelector(scope) : document;
                if (!root) return [];
                const req = [...root.querySelectorAll('.requirement')]
                  .find(r => norm(r.querySelector('h3, h4, h5')?.textContent) === text);
                return req ? [req.querySelector('input[type=file]'), req.querySelector('button[type=submit]')] : [];
                "#,
                vec![json!(requirement), json!(scope)],
            )
            .await;
        let mut parts = self.elements(&found);
        assert_eq!(
            parts.len(),
            2,
            "no document 「{requirement}」 to attach{} on {}",
            if scope.is_empty() {
                String::new()
            } else {
                format!(" in {scope}")
            },
            self.path().await
        );
        let button = parts.pop().expect("button");
        let input = parts.pop().expect("file input");
        input
            .send_keys(&path.display().to_string())
            .await
            .expect("choose file");
        self.click_and_wait(button, &format!("attach 「{requirement}」"))
            .await;
    }

    /// The text of the element matching the CSS `selector`, as shown.
    pub async fn text_of(&self, selector: &str) -> String {
        self.script(
            "const [sel] = arguments; const el = document.querySelector(sel); return el ? norm(el.innerText) : '';",
            vec![json!(selector)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The documents still marked 未添付 (required, nothing attached) inside the element
    /// matching the CSS `scope` (the whole page when empty), by their titles.
    pub async fn missing_documents(&self, scope: &str) -> Vec<String> {
        let v = self
            .script(
                r#"
                const [scope] = arguments;
                const root = scope ? document.querySelector(scope) : document;
                if (!root) return [];
                return [...root.querySelectorAll('.requirement')]
                  .filter(r => r.querySelector('.tag--missing'))
                  .map(r => norm(r.querySelector('h3, h4, h5')?.textContent));
                "#,
                vec![json!(scope)],
            )
            .await;
        serde_json::from_value(v).expect("titles")
    }

    /// Downloads `path` with the browser's session (a same-origin `fetch` in the page), e.g. an
    /// .xlsx; panics on an HTTP error.
    pub async fn fetch_bytes(&self, path: &str) -> Vec<u8> {
        let v = self
            .client
            .execute_async(
                r#"
                const [url, done] = arguments;
                fetch(url, { credentials: 'same-origin' })
                  .then(r => r.ok ? r.arrayBuffer() : Promise.reject('HTTP ' + r.status))
                  .then(buf => {
                    const bytes = new Uint8Array(buf);
                    let s = '';
                    for (let i = 0; i < bytes.length; i += 0x8000) {
                      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
                    }
                    done(btoa(s));
                  })
                  .catch(e => done({ error: String(e) }));
                "#,
                vec![json!(path)],
            )
            .await
            .expect("fetch");
        let data = v.as_str().unwrap_or_else(|| panic!("download {path}: {v}"));
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, data).expect("base64")
    }

    /// The flash message of the page (「完了しました…」), if any.
    pub async fn flash(&self) -> Option<String> {
        let v = self
            .script(
                "const f = document.querySelector('.flash'); return f ? norm(f.textContent) : null;",
                vec![],
            )
            .await;
        v.as_str().map(str::to_string)
    }

    /// The text of `<main>` (or the whole page without one) as a person reads it.
    pub async fn main_text(&self) -> String {
        let v = self
            .client
            .execute(
                "return (document.querySelector('main') || document.body)?.innerText ?? '';",
                vec![],
            )
            .await
            .unwrap_or_default();
        v.as_str().unwrap_or_default().to_string()
    }

    /// The page's `<h1>`.
    pub async fn heading(&self) -> String {
        match self.client.find(Locator::Css("h1")).await {
            Ok(h) => h.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The page's HTML as the browser has it.
    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    /// Screenshots at 1280 and 390 px, the narrow-screen check and the accessibility check of
    /// the current page (see `shots` and `axe`; axe-core runs in the JavaScript session only).
    /// Call it on every page a flow visits; it panics with what it found.
    pub async fn shoot(&self, name: &str) {
        let problems = self.inspect(name).await;
        assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    }

    /// Like [`Browser::shoot`], returning the problems instead of panicking (to report every
    /// page's problems at once).
    pub async fn inspect(&self, name: &str) -> Vec<String> {
        if !self.checks {
            return Vec::new();
        }
        let mut problems = Vec::new();
        problems.extend(shots::shoot(&self.client, name).await);
        // axe-core needs scripts to run (its checks are asynchronous); the pages are the same
        // with or without JavaScript, and the JavaScript session checks them.
        if self.javascript {
            problems.extend(axe::check(&self.client, name).await);
        }
        problems
    }

    /// Signs a provider in through the development GビズID: 「GビズIDでログイン（デモ）」 on the
    /// sign-in page, then the account on the provider's page. Starts from no session.
    pub async fn sign_in_provider(&self, account: &str) {
        self.clear_cookies().await;
        self.goto("/login").await;
        self.click("GビズIDでログイン（デモ）").await;
        self.wait_path("/dev-idp/authorize").await;
        let css = format!("button[name='account'][value='{account}']");
        let button = self
            .client
            .find(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("no account {account} on the GビズID page: {e}"));
        self.click_and_wait(button, "the GビズID account").await;
        self.wait_path("/filings").await;
    }

    /// Signs authority staff in with the demo one-click list on the sign-in page.
    pub async fn sign_in_staff(&self, login: &str) {
        self.clear_cookies().await;
        self.goto("/login").await;
        let xpath = format!(
            "//form[@action='/login/demo'][input[@name='login'][@value='{login}']]//button"
        );
        let button = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no demo account {login} on the sign-in page: {e}"));
        self.click_and_wait(button, "the demo account").await;
        let p = self.path().await;
        assert!(!p.starts_with("/login"), "sign-in as {login} failed: {p}");
    }

    /// Signs out with the header's 「ログアウト」 button.
    pub async fn sign_out(&self) {
        self.click("ログアウト").await;
        self.wait_path("/").await;
    }
}
