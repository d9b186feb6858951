//! Screenshots and the narrow-screen check. Every page a test visits is shot full-page at
//! 1280 px and 390 px wide into `target/screenshots/<name>-<width>.png` (not committed); at
//! 390 px the page must not scroll sideways (`document.documentElement.scrollWidth <=
//! window.innerWidth`), and a failure names the elements that stick out.
//!
//! Widths are set with Chrome's device-metrics emulation through ChromeDriver's CDP bridge
//! (`goog/cdp/execute`), and the full page is taken with `Page.captureScreenshot` beyond the
//! viewport, so no window resizing is involved.

use std::path::PathBuf;

use base64::Engine as _;
use fantoccini::Client;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

/// The widths every page is looked at: a desktop and a phone (iPhone 12–15).
pub const WIDTHS: [u32; 2] = [1280, 390];
/// The width tests interact at.
pub const DESKTOP: u32 = 1280;
const HEIGHT: u32 = 900;

/// A Chrome DevTools Protocol command sent through ChromeDriver.
#[derive(Debug)]
pub struct Cdp {
    pub cmd: &'static str,
    pub params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()),
        )
    }
}

/// Runs a CDP command and returns its result.
pub async fn cdp(client: &Client, cmd: &'static str, params: Value) -> Value {
    client
        .issue_cmd(Cdp { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
}

/// Lays the page out at `width` CSS pixels. Not as a "mobile" device: a phone browser zooms
/// out to fit a page that is too wide, so `window.innerWidth` would grow with the page and the
/// narrow-screen check could never fail; a 390 px window keeps the layout width at 390 px (the
/// pages' viewport is `width=device-width`, so the layout is the same).
pub async fn set_width(client: &Client, width: u32) {
    cdp(
        client,
        "Emulation.setDeviceMetricsOverride",
        json!({
            "width": width,
            "height": HEIGHT,
            "deviceScaleFactor": 1,
            "mobile": false,
        }),
    )
    .await;
}

/// Where screenshots go: `target/screenshots`.
pub fn dir() -> PathBuf {
    super::driver::target_dir().join("screenshots")
}

/// A file-name-safe version of a page name.
pub fn file_stem(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The full page as PNG at the current width.
async fn capture(client: &Client) -> Vec<u8> {
    let metrics = cdp(client, "Page.getLayoutMetrics", json!({})).await;
    let size = &metrics["cssContentSize"];
    let width = size["width"].as_f64().unwrap_or(1280.0);
    let height = size["height"].as_f64().unwrap_or(900.0).min(16_000.0);
    let shot = cdp(
        client,
        "Page.captureScreenshot",
        json!({
            "format": "png",
            "optimizeForSpeed": true,
            "captureBeyondViewport": true,
            "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
        }),
    )
    .await;
    base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .expect("screenshot base64")
}

/// What sticks out of the viewport at the current width (empty when nothing does).
pub async fn overflow(client: &Client) -> Option<String> {
    let v = client
        .execute(
            r#"
            const doc = document.documentElement;
            if (doc.scrollWidth <= window.innerWidth) return null;
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
              const r = el.getBoundingClientRect();
              if (r.width > 0 && r.right > window.innerWidth + 1) {
                // Report the outermost offenders only.
                if (!out.some(o => o.el.contains(el))) {
                  out.push({ el, right: Math.round(r.right) });
                }
              }
              if (out.length >= 8) break;
            }
            const describe = el => el.tagName.toLowerCase()
              + (el.id ? '#' + el.id : '')
              + (el.className && typeof el.className === 'string'
                  ? '.' + el.className.trim().split(/\s+/).join('.') : '');
            return `scrollWidth ${doc.scrollWidth} > innerWidth ${window.innerWidth}: `
              + out.map(o => `${describe(o.el)} (right edge ${o.right}px: "${
                  (o.el.textContent || '').trim().slice(0, 40)}")`).join('; ');
            "#,
            vec![],
        )
        .await
        .expect("overflow check");
    v.as_str().map(str::to_string)
}

/// Text squeezed into a column one or two characters wide at the current width (a table
/// caption left as `table-caption` inside a stacked table, say): elements whose own text has
/// at least four characters but whose box is narrower than two characters and taller than
/// three lines. `None` when there is none.
pub async fn squeezed(client: &Client) -> Option<String> {
    let v = client
        .execute(
            r#"
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
              const own = [...el.childNodes]
                .filter(n => n.nodeType === Node.TEXT_NODE)
                .map(n => n.textContent).join('').replace(/\s+/g, '');
              if ([...own].length < 4) continue;
              const st = getComputedStyle(el);
              if (st.display === 'none' || st.visibility === 'hidden') continue;
              const r = el.getBoundingClientRect();
              const em = parseFloat(st.fontSize) || 16;
              const line = parseFloat(st.lineHeight) || em * 1.5;
              // The width text can use: the box less its padding and borders.
              const inner = r.width
                - ['paddingLeft', 'paddingRight', 'borderLeftWidth', 'borderRightWidth']
                    .reduce((sum, k) => sum + (parseFloat(st[k]) || 0), 0);
              if (r.width > 0 && inner < 2 * em && r.height > 3 * line) {
                out.push(`${el.tagName.toLowerCase()} ${Math.round(inner)}px wide inside, ${
                  Math.round(r.height)}px tall: "${own.slice(0, 20)}"`);
              }
              if (out.length >= 8) break;
            }
            return out.length ? out.join('; ') : null;
            "#,
            vec![],
        )
        .await
        .expect("squeezed text check");
    v.as_str().map(str::to_string)
}

/// Shoots the page at both widths and returns to the desktop width; returns what sticks out
/// at 390 px, or what is squeezed into a one-character column there, if anything.
pub async fn shoot(client: &Client, name: &str) -> Option<String> {
    let dir = dir();
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    let stem = file_stem(name);
    let mut problem = None;
    for width in WIDTHS {
        set_width(client, width).await;
        if width < 600 {
            let shot = dir.join(format!("{stem}-{width}.png"));
            problem = match (overflow(client).await, squeezed(client).await) {
                (Some(p), _) => Some(format!(
                    "page {name} is wider than a 390 px screen ({}): {p}",
                    shot.display()
                )),
                (None, Some(p)) => Some(format!(
                    "page {name} squeezes text into a one-character column at 390 px ({}): {p}",
                    shot.display()
                )),
                (None, None) => None,
            };
        }
        let png = capture(client).await;
        let path = dir.join(format!("{stem}-{width}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
    set_width(client, DESKTOP).await;
    problem
}
