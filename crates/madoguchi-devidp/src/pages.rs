//! The provider's pages: choosing a demo account (Japanese, no JavaScript, no inline style so
//! the product's Content-Security-Policy allows it when mounted under `/dev-idp`).

use std::collections::HashMap;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::{ACCOUNTS, AuthorizeParams};

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn frame(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n\
         <title>{} | GビズID（開発用）</title>\n<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n\
         <header class=\"idp-header\"><p class=\"idp-brand\">GビズID <span class=\"idp-tag\">開発・デモ用の模擬サービス</span></p></header>\n\
         <main class=\"idp-main\">\n{body}\n</main>\n</body>\n</html>\n",
        esc(title)
    )
}

/// The authorization page: one button per demo account, and a cancel button. Every request
/// parameter travels back in hidden fields (escaped).
pub(crate) fn choose_account(p: &AuthorizeParams, overrides: &HashMap<String, String>) -> String {
    let hidden = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        )
    };
    let mut fields = String::new();
    for (k, v) in [
        ("response_type", p.response_type.as_str()),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("scope", &p.scope),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ] {
        fields.push_str(&hidden(k, v));
    }
    if let Some(s) = &p.state {
        fields.push_str(&hidden("state", s));
    }
    if let Some(n) = &p.nonce {
        fields.push_str(&hidden("nonce", n));
    }
    let mut items = String::new();
    for a in ACCOUNTS {
        let number = overrides
            .get(a.key)
            .map(String::as_str)
            .unwrap_or(a.corporate_number);
        let number = if number.is_empty() {
            "法人番号なし".to_string()
        } else {
            format!("法人番号 {number}")
        };
        items.push_str(&format!(
            "<li><button type=\"submit\" name=\"account\" value=\"{}\" class=\"idp-account\">\
             <span class=\"idp-account__name\">{}　{}</span>\
             <span class=\"idp-account__meta\">{}・{}</span>\
             <span class=\"idp-account__meta\">{}（{}）</span></button></li>",
            esc(a.key),
            esc(a.family_name),
            esc(a.given_name),
            esc(a.account_type_label()),
            esc(a.key),
            esc(a.corp_name),
            esc(&number),
        ));
    }
    let body = format!(
        "<h1>ログインするアカウントを選んでください</h1>\n\
         <p class=\"idp-lead\">これは開発・デモ用の模擬 GビズID です。本物の GビズID ではありません。パスワードは不要です。</p>\n\
         <p class=\"idp-lead\">選んだアカウントの情報（氏名、メールアドレス、アカウント種別、法人番号）が窓口サービスに渡されます。</p>\n\
         <form method=\"post\" action=\"authorize\">{fields}\n<ul class=\"idp-accounts\">{items}</ul>\n\
         <p><button type=\"submit\" name=\"cancel\" value=\"1\" class=\"idp-cancel\">ログインをやめる</button></p>\n</form>"
    );
    frame("アカウントの選択", &body)
}

/// A page for requests that cannot be answered by redirect (unknown client or redirect URI).
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>このリクエストには応答できません</h1>\n<p class=\"idp-lead\">{}</p>",
        esc(message)
    );
    (status, Html(frame("エラー", &body))).into_response()
}

const STYLE: &str = "\
body{margin:0;font-family:system-ui,-apple-system,'Hiragino Sans','Noto Sans JP',sans-serif;color:#1a1a1c;background:#f4f6f8;line-height:1.7}
.idp-header{background:#18365b;color:#fff;padding:.75rem 1.25rem}
.idp-brand{margin:0;font-weight:700}
.idp-tag{display:inline-block;margin-left:.5rem;padding:0 .5rem;border-radius:4px;background:#ffd43b;color:#1a1a1c;font-size:.8rem;font-weight:700}
.idp-main{max-width:44rem;margin:0 auto;padding:1.5rem 1.25rem}
h1{font-size:1.5rem;line-height:1.4}
.idp-lead{color:#3d4451}
.idp-accounts{list-style:none;padding:0;display:grid;gap:.75rem}
.idp-account{display:flex;flex-direction:column;align-items:flex-start;width:100%;padding:.75rem 1rem;border:1px solid #8a94a6;border-radius:8px;background:#fff;font:inherit;text-align:left;cursor:pointer}
.idp-account:hover,.idp-account:focus-visible{border-color:#18365b;outline:3px solid #ffd43b;outline-offset:1px}
.idp-account__name{font-weight:700;font-size:1.1rem}
.idp-account__meta{color:#3d4451;font-size:.9rem}
.idp-cancel{padding:.5rem 1rem;border:1px solid #8a94a6;border-radius:8px;background:#fff;font:inherit;cursor:pointer}
";

/// `GET /style.css`.
pub(crate) async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response()
}
