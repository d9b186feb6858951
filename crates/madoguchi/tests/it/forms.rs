//! The form pages for the newer field kinds, driven as a browser without JavaScript would:
//! the form on the page is read control by control (text boxes, check boxes, radio buttons,
//! selects, hidden inputs), changed like a user would, and posted with the button pressed.
//! A provider fills a 指定申請 for 訪問介護 — 営業日 (曜日), 営業時間 (時間帯), 床面積
//! (小数), staff rows (a repeating group) added and removed with their buttons — and sees the
//! computed 常勤換算, item-level errors beside their inputs, and the items on review; the
//! authority sees them in the case view.

use std::sync::Arc;

use madoguchi_testing::{TestServer, backends};
use reqwest::Client;
use reqwest::cookie::Jar;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::common::{attach, establishment_id};

/// A browser tab: one cookie jar, redirects of form posts followed by hand so the
/// `Location` (with its `#fragment`) can be checked.
struct Tab {
    follow: Client,
    manual: Client,
    base: String,
}

impl Tab {
    fn new(base: &str) -> Tab {
        let jar = Arc::new(Jar::default());
        let client = |policy| {
            Client::builder()
                .cookie_provider(jar.clone())
                .redirect(policy)
                .build()
                .unwrap()
        };
        Tab {
            follow: client(Policy::default()),
            manual: client(Policy::none()),
            base: base.into(),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .follow
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts the pairs; returns the status, the `Location` if redirected, and the page
    /// finally shown (the redirect followed, or the response itself).
    async fn post(&self, path: &str, pairs: &[(String, String)]) -> (u16, Option<String>, String) {
        let r = self
            .manual
            .post(format!("{}{path}", self.base))
            .form(pairs)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        let page = match &location {
            Some(to) => self.get(to.split('#').next().unwrap()).await.1,
            None => r.text().await.unwrap(),
        };
        (status, location, page)
    }

    /// Signs in through the development OpenID provider as `account`.
    async fn login_oidc(&self, account: &str) {
        let r = self
            .follow
            .get(format!("{}/login/oidc", self.base))
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
        let r = self.follow.post(action).form(&form).send().await.unwrap();
        assert_eq!(r.url().path(), "/filings", "signed in as {account}");
    }

    /// Signs staff in with the demo sign-in.
    async fn login(&self, login: &str) {
        let r = self
            .follow
            .post(format!("{}/login/demo", self.base))
            .form(&[("login", login)])
            .send()
            .await
            .unwrap();
        assert_ne!(r.url().path(), "/login", "demo sign-in for {login}");
    }
}

/// One control of a form, as the page has it.
#[derive(Clone, Debug)]
enum Control {
    /// Text, hidden, date, email inputs and text areas.
    Text { name: String, value: String },
    /// A check box or radio button.
    Check {
        name: String,
        value: String,
        checked: bool,
        radio: bool,
    },
    Select {
        name: String,
        options: Vec<String>,
        selected: Option<String>,
    },
    /// A submit button: posted only when it is the one pressed.
    Button { name: String, value: String },
}

/// The controls of the form with this id, read from the page.
struct Form {
    controls: Vec<Control>,
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `(tag name, attributes, index after the tag)` of the tag starting at `html[at] == '<'`.
fn tag_at(html: &str, at: usize) -> (String, Vec<(String, Option<String>)>, usize) {
    let bytes = html.as_bytes();
    let mut i = at + 1;
    let start = i;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
        i += 1;
    }
    let name = html[start..i].trim_end_matches('/').to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return (name, attrs, i + 1);
        }
        let s = i;
        while i < bytes.len() && !b" \t\r\n=>".contains(&bytes[i]) {
            i += 1;
        }
        let attr = html[s..i].to_ascii_lowercase();
        if bytes[i] == b'=' {
            let quote = bytes[i + 1];
            assert_eq!(quote, b'"', "attribute {attr} is quoted");
            let vs = i + 2;
            let ve = vs + html[vs..].find('"').unwrap();
            attrs.push((attr, Some(unescape(&html[vs..ve]))));
            i = ve + 1;
        } else {
            attrs.push((attr, None));
        }
    }
}

fn attr<'a>(attrs: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_deref().unwrap_or(""))
}

impl Form {
    fn read(html: &str, id: &str) -> Form {
        let open = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("form #{id} on the page"));
        let start = html[..open].rfind("<form").unwrap();
        let end = start + html[start..].find("</form>").unwrap();
        let html = &html[..end];
        let mut controls = Vec::new();
        let mut at = start + 1;
        while let Some(i) = html[at..].find('<') {
            let i = at + i;
            let (tag, attrs, next) = tag_at(html, i);
            at = next;
            let name = attr(&attrs, "name").map(str::to_owned);
            match (tag.as_str(), name) {
                ("input", Some(name)) => {
                    let value = attr(&attrs, "value").unwrap_or("").to_owned();
                    match attr(&attrs, "type").unwrap_or("text") {
                        t @ ("checkbox" | "radio") => controls.push(Control::Check {
                            name,
                            value: if attr(&attrs, "value").is_some() {
                                value
                            } else {
                                "on".into()
                            },
                            checked: attr(&attrs, "checked").is_some(),
                            radio: t == "radio",
                        }),
                        "submit" => controls.push(Control::Button { name, value }),
                        "file" => {}
                        _ => controls.push(Control::Text { name, value }),
                    }
                }
                ("textarea", Some(name)) => {
                    let close = at + html[at..].find("</textarea>").unwrap();
                    controls.push(Control::Text {
                        name,
                        value: unescape(&html[at..close]),
                    });
                    at = close;
                }
                ("select", Some(name)) => {
                    let close = at + html[at..].find("</select>").unwrap();
                    let mut options = Vec::new();
                    let mut selected = None;
                    let mut o = at;
                    while let Some(j) = html[o..close].find("<option") {
                        let (_, oattrs, onext) = tag_at(html, o + j);
                        let value = attr(&oattrs, "value").unwrap_or("").to_owned();
                        if attr(&oattrs, "selected").is_some() {
                            selected = Some(value.clone());
                        }
                        options.push(value);
                        o = onext;
                    }
                    controls.push(Control::Select {
                        name,
                        options,
                        selected,
                    });
                    at = close;
                }
                ("button", Some(name)) if attr(&attrs, "type").is_none_or(|t| t == "submit") => {
                    let value = attr(&attrs, "value").unwrap_or("").to_owned();
                    controls.push(Control::Button { name, value });
                }
                _ => {}
            }
        }
        Form { controls }
    }

    fn has(&self, wanted: &str) -> bool {
        self.controls.iter().any(|c| match c {
            Control::Text { name, .. }
            | Control::Check { name, .. }
            | Control::Select { name, .. } => name == wanted,
            Control::Button { .. } => false,
        })
    }

    /// Types into a text box or chooses an option of a select.
    fn set(&mut self, wanted: &str, to: &str) -> &mut Self {
        let mut found = false;
        for c in &mut self.controls {
            match c {
                Control::Text { name, value } if name == wanted => {
                    *value = to.into();
                    found = true;
                }
                Control::Select {
                    name,
                    options,
                    selected,
                } if name == wanted => {
                    assert!(options.iter().any(|o| o == to), "{wanted}: no option {to}");
                    *selected = Some(to.into());
                    found = true;
                }
                _ => {}
            }
        }
        assert!(found, "no text box or select named {wanted}");
        self
    }

    /// Checks exactly these boxes of a check box group, or the radio button with the value.
    fn check(&mut self, wanted: &str, values: &[&str]) -> &mut Self {
        let mut seen = Vec::new();
        for c in &mut self.controls {
            if let Control::Check {
                name,
                value,
                checked,
                ..
            } = c
                && name == wanted
            {
                *checked = values.contains(&value.as_str());
                seen.push(value.clone());
            }
        }
        for v in values {
            assert!(
                seen.iter().any(|s| s == v),
                "{wanted}: no box {v} in {seen:?}"
            );
        }
        self
    }

    fn button(&self, wanted: &str, wanted_value: &str) -> Option<(String, String)> {
        self.controls.iter().find_map(|c| match c {
            Control::Button { name, value } if name == wanted && value == wanted_value => {
                Some((name.clone(), value.clone()))
            }
            _ => None,
        })
    }

    /// What the browser posts when `pressed` (a button of the form) is pressed.
    fn submit(&self, pressed: Option<(String, String)>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for c in &self.controls {
            match c {
                Control::Text { name, value } => out.push((name.clone(), value.clone())),
                Control::Check {
                    name,
                    value,
                    checked: true,
                    ..
                } => out.push((name.clone(), value.clone())),
                Control::Select {
                    name,
                    options,
                    selected,
                } => out.push((
                    name.clone(),
                    selected
                        .clone()
                        .or_else(|| options.first().cloned())
                        .unwrap_or_default(),
                )),
                _ => {}
            }
        }
        out.extend(pressed);
        out
    }

    fn radio_groups_are_single(&self) {
        let mut names: Vec<&str> = self
            .controls
            .iter()
            .filter_map(|c| match c {
                Control::Check {
                    name,
                    radio: true,
                    checked: true,
                    ..
                } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "one checked radio button per group");
    }
}

fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf_token\" value=\"")
        .expect("csrf token")
        + "name=\"csrf_token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

fn as_f64(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeating_groups_weekdays_and_computed_fields_through_the_pages() {
    for backend in backends() {
        let srv = TestServer::start(backend).await;
        let api = srv.api("provider1").await;
        let provider = Tab::new(&srv.base_url);
        provider.login_oidc("provider1").await;

        // A 指定申請 for the 八王子 訪問介護 establishment, started from the page.
        let est = establishment_id(&api, "1372010031").await;
        let (_, page) = provider.get("/filings/new").await;
        let token = csrf(&page);
        let (status, location, page) = provider
            .post(
                "/filings",
                &[
                    ("csrf_token".into(), token.clone()),
                    ("procedure_id".into(), "designation-application".into()),
                    ("establishment_ids".into(), est.clone()),
                ],
            )
            .await;
        assert_eq!(status, 303, "[{backend}] {page}");
        let location = location.unwrap();
        assert!(location.ends_with("/edit?done=created"), "{location}");
        let fid = location.split('/').nth(2).unwrap().to_string();
        let edit = format!("/filings/{fid}/edit");
        let save = format!("/filings/{fid}");

        // Choose 訪問介護 and save: its 付表 appears.
        let mut form = Form::read(&page, "filing-form");
        assert!(!form.has(&format!("establishments.{est}.hk_staff.0.hk_job")));
        form.check("fields.service_types", &["11"])
            .set("fields.start_date", "2026-07-01")
            .set("fields.corp_kind", "social_welfare");
        let (_, location, page) = provider.post(&save, &form.submit(None)).await;
        assert!(location.unwrap().ends_with("/edit?done=saved"));
        assert!(page.contains("訪問介護：従業者の職種・員数（さくら訪問介護ステーション八王子）"));

        // The first button of the form is a plain save, so Enter in a text box never presses
        // an add or remove button further down.
        let form_html = &page[page.find("id=\"filing-form\"").unwrap()..];
        let first_button = &form_html[form_html.find("<button").unwrap()..];
        let first_button = &first_button[..first_button.find('>').unwrap()];
        assert!(!first_button.contains("name="), "{first_button}");

        // Weekdays are check boxes with their own labels; the time range has its example;
        // the computed 常勤換算 is text, not an input, and is not posted.
        let e = |id: &str| format!("establishments.{est}.{id}");
        let staff = |i: usize, id: &str| format!("establishments.{est}.hk_staff.{i}.{id}");
        assert!(page.contains("<span>祝日</span>") && page.contains("<span>月</span>"));
        assert!(page.contains("例: 09:00-18:00"));
        assert!(page.contains("inputmode=\"decimal\""));
        assert!(page.contains("<legend class=\"repeat-item__title\">職種・勤務形態 1</legend>"));
        assert!(!page.contains("職種・勤務形態 2"), "one item to start with");
        let mut form = Form::read(&page, "filing-form");
        assert!(!form.has(&e("hk_fte")), "no input for a computed field");
        assert!(page.contains(&format!("id=\"f-establishments-{est}-hk_fte\"")));
        assert!(page.contains("自動計算"));

        form.check(
            &e("hk_business_days"),
            &["mon", "tue", "wed", "thu", "fri", "holiday"],
        )
        .set(&e("hk_business_hours"), "9:00〜18:00")
        .set(&e("hk_service_area"), "八王子市、日野市")
        .set(&e("hk_office_area"), "25.5")
        .set(&e("hk_standard_hours"), "40")
        .set(&e("hk_projected_users"), "60")
        .check(&e("manager_concurrent"), &["false"])
        .set(&staff(0, "hk_job"), "sp")
        .set(&staff(0, "hk_employment"), "full_time")
        .set(&staff(0, "hk_dedication"), "dedicated")
        .set(&staff(0, "hk_headcount"), "2")
        .set(&staff(0, "hk_weekly_hours"), "80");
        form.radio_groups_are_single();

        // 「職種・勤務形態を追加」 saves what was typed and adds a row, back at the new row.
        let add = form
            .button("_repeat_add", &e("hk_staff"))
            .expect("an add button for the staff rows");
        let (status, location, page) = provider.post(&save, &form.submit(Some(add))).await;
        assert_eq!(status, 303, "{page}");
        let location = location.unwrap();
        assert!(
            location.ends_with(&format!(
                "/edit?done=item_added#f-establishments-{est}-hk_staff-1"
            )),
            "{location}"
        );
        assert!(page.contains("入力欄を追加しました"));
        assert!(page.contains(&format!("id=\"f-establishments-{est}-hk_staff-1\"")));
        assert!(page.contains("この職種・勤務形態を削除"));
        let mut form = Form::read(&page, "filing-form");
        assert!(form.has(&staff(1, "hk_job")));
        form.set(&staff(1, "hk_job"), "helper")
            .set(&staff(1, "hk_employment"), "part_time")
            .set(&staff(1, "hk_dedication"), "concurrent")
            .set(&staff(1, "hk_headcount"), "4")
            .set(&staff(1, "hk_weekly_hours"), "62.5");
        let (_, location, page) = provider.post(&save, &form.submit(None)).await;
        assert!(location.unwrap().ends_with("/edit?done=saved"));

        // Stored as the API describes it: an array of items, the 常勤換算 computed
        // ((80 + 62.5) ÷ 40 = 3.5625, cut to 3.56), days and hours as values.
        let r = api.get(&format!("/api/v1/filings/{fid}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let answers = &r.body["data"]["establishments"][&est];
        let rows = answers["hk_staff"]
            .as_array()
            .expect("staff rows as an array");
        assert_eq!(rows.len(), 2, "{answers:#}");
        assert_eq!(rows[0]["hk_job"], "sp");
        assert_eq!(rows[0]["hk_headcount"], 2);
        assert_eq!(as_f64(&rows[0]["hk_weekly_hours"]), 80.0);
        assert_eq!(rows[1]["hk_employment"], "part_time");
        assert_eq!(as_f64(&rows[1]["hk_weekly_hours"]), 62.5);
        assert_eq!(as_f64(&answers["hk_fte"]), 3.56);
        assert_eq!(
            answers["hk_business_days"],
            json!(["mon", "tue", "wed", "thu", "fri", "holiday"])
        );
        assert_eq!(answers["hk_business_hours"], "09:00-18:00", "normalised");
        assert_eq!(as_f64(&answers["hk_office_area"]), 25.5);
        assert!(page.contains("3.56人"), "the computed value on the page");
        let form = Form::read(&page, "filing-form");
        assert!(
            form.controls.iter().any(|c| matches!(c,
                Control::Check { name, value, checked: true, .. }
                    if *name == e("hk_business_days") && value == "holiday")),
            "the chosen days stay checked"
        );

        // 「この職種・勤務形態を削除」 on row 2: saved, removed, back at the group; the
        // 常勤換算 is computed again (80 ÷ 40).
        let remove = form
            .button("_repeat_remove", &format!("{}.1", e("hk_staff")))
            .expect("a remove button for row 2");
        let (_, location, page) = provider.post(&save, &form.submit(Some(remove))).await;
        let location = location.unwrap();
        assert!(
            location.ends_with(&format!(
                "/edit?done=item_removed#f-establishments-{est}-hk_staff"
            )),
            "{location}"
        );
        assert!(!page.contains("職種・勤務形態 2"));
        assert!(
            !page.contains("name=\"_repeat_remove\""),
            "the last row cannot go (at least one is required)"
        );
        let r = api.get(&format!("/api/v1/filings/{fid}")).await;
        let answers = &r.body["data"]["establishments"][&est];
        assert_eq!(answers["hk_staff"].as_array().unwrap().len(), 1);
        assert_eq!(answers["hk_staff"][0]["hk_job"], "sp");
        assert_eq!(as_f64(&answers["hk_fte"]), 2.0);

        // A wrong value in a row: the draft saves, submission shows the message beside the
        // row's input and in the summary, linked to it; the rule on the computed 常勤換算
        // is shown at the computed value.
        let mut form = Form::read(&page, "filing-form");
        form.set(&staff(0, "hk_headcount"), "0");
        let (_, location, _) = provider.post(&save, &form.submit(None)).await;
        assert!(location.unwrap().ends_with("/edit?done=saved"));
        let (status, _, page) = provider
            .post(
                &format!("/filings/{fid}/submit"),
                &[("csrf_token".into(), token.clone())],
            )
            .await;
        assert_eq!(status, 422);
        let input_id = format!("f-establishments-{est}-hk_staff-0-hk_headcount");
        let message = "人数は1人以上で入力してください。";
        assert!(
            page.contains(&format!(
                "<a href=\"#{input_id}\">職種・勤務形態 1：{message}</a>"
            )),
            "summary links to the row's input: {}",
            &page[page.find("error-summary").unwrap()..][..1500]
        );
        assert!(page.contains(&format!(
            "<p class=\"field__error\" id=\"{input_id}-error\"><span class=\"visually-hidden\">エラー：</span>{message}</p>"
        )));
        let input = &page[page.find(&format!("id=\"{input_id}\"")).unwrap()..];
        let input = &input[..input.find('>').unwrap()];
        assert!(
            input.contains("aria-invalid=\"true\"") && input.contains(&format!("{input_id}-error")),
            "{input}"
        );
        assert!(page.contains(&format!(
            "<a href=\"#f-establishments-{est}-hk_fte\">訪問介護員等の常勤換算後の人数は2.5人以上が必要です。"
        )));

        // Corrected, a second row added back, files attached: it submits, and the
        // authority sees the rows, the days and the computed value.
        let (_, page) = provider.get(&edit).await;
        let mut form = Form::read(&page, "filing-form");
        form.set(&staff(0, "hk_headcount"), "2");
        let add = form.button("_repeat_add", &e("hk_staff")).unwrap();
        let (_, _, page) = provider.post(&save, &form.submit(Some(add))).await;
        let mut form = Form::read(&page, "filing-form");
        form.set(&staff(1, "hk_job"), "helper")
            .set(&staff(1, "hk_employment"), "part_time")
            .set(&staff(1, "hk_dedication"), "concurrent")
            .set(&staff(1, "hk_headcount"), "4")
            .set(&staff(1, "hk_weekly_hours"), "62.5");
        provider.post(&save, &form.submit(None)).await;
        let r = api.get(&format!("/api/v1/filings/{fid}")).await;
        let problems = r.body["problems"].as_array().unwrap();
        let answers: Vec<&Value> = problems
            .iter()
            .filter(|p| !p["field"].as_str().unwrap().starts_with("attachments."))
            .collect();
        assert!(answers.is_empty(), "only files are missing: {answers:#?}");
        for p in problems {
            let req = p["field"]
                .as_str()
                .unwrap()
                .trim_start_matches("attachments.");
            attach(&api, &fid, req, req).await;
        }
        let (_, detail) = provider.get(&format!("/filings/{fid}")).await;
        assert!(
            detail.contains("<th scope=\"row\">職種・勤務形態 2</th>"),
            "items on review"
        );
        assert!(detail.contains("月・火・水・木・金・祝日"));
        assert!(detail.contains("09:00〜18:00"));
        assert!(detail.contains("25.5㎡"));
        assert!(detail.contains("3.56人"));
        assert!(detail.contains("data-label=\"1週間の勤務時間の合計\">62.5時間</td>"));
        let lock = detail
            .split("name=\"lock_version\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let (_, location, page) = provider
            .post(
                &format!("/filings/{fid}/submit"),
                &[
                    ("csrf_token".into(), token.clone()),
                    ("lock_version".into(), lock),
                ],
            )
            .await;
        assert!(
            location
                .as_deref()
                .is_some_and(|l| l.ends_with("?done=submitted")),
            "{location:?} {page}"
        );
        let r = api.get(&format!("/api/v1/filings/{fid}")).await;
        let authority = r.body["addressees"][0]["authority_code"]
            .as_str()
            .unwrap()
            .to_string();
        let reviewer = Tab::new(&srv.base_url);
        reviewer.login(&format!("reviewer-{authority}")).await;
        let staff_api = srv.api(&format!("reviewer-{authority}")).await;
        let cases = staff_api.get("/api/v1/cases").await;
        let case_id = cases.body[0]["id"].as_str().unwrap().to_string();
        let (status, case_page) = reviewer.get(&format!("/cases/{case_id}")).await;
        assert_eq!(status, 200);
        assert!(case_page.contains("<th scope=\"row\">職種・勤務形態 1</th>"));
        assert!(case_page.contains("<th scope=\"col\">常勤・非常勤の別</th>"));
        assert!(case_page.contains("サービス提供責任者"));
        assert!(case_page.contains("月・火・水・木・金・祝日"));
        assert!(case_page.contains("3.56人"));
        assert!(
            !case_page.contains(&format!("value=\"{}.0.", e("hk_staff"))),
            "row cells are not offered as fields to pin when returning"
        );
        srv.stop().await;
    }
}
