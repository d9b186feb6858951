//! The e-mails Madoguchi sends, composed at the moment of the state change from what the
//! recipient may see. Provider mails are built only from provider-visible facts (status,
//! reference, the return message) — never from internal notes.

use crate::mail::OutgoingMail;

/// Facts common to every notice about one case.
pub struct CaseNotice<'a> {
    pub reference: &'a str,
    pub procedure_title: &'a str,
    pub corporation_name: &'a str,
    pub authority_name: &'a str,
    pub case_url: &'a str,
}

/// To the authority's staff: a filing arrived (or was resubmitted).
pub fn submitted_to_authority(
    to: Vec<String>,
    n: &CaseNotice<'_>,
    resubmitted: bool,
) -> OutgoingMail {
    let what = if resubmitted { "再提出" } else { "提出" };
    OutgoingMail {
        to,
        subject: format!(
            "【窓口】{}が{}されました（到達番号 {}）",
            n.procedure_title, what, n.reference
        ),
        body_text: format!(
            "{authority} ご担当者様\n\n{corp} から「{title}」が{what}されました。\n\n到達番号: {reference}\n\n内容の確認と審査をお願いいたします。\n{url}\n\n-- \n窓口（福祉・介護・保健医療の申請・届出窓口）\n",
            authority = n.authority_name,
            corp = n.corporation_name,
            title = n.procedure_title,
            reference = n.reference,
            url = n.case_url
        ),
    }
}

/// To the authority's staff: the provider withdrew a case.
pub fn withdrawn_to_authority(to: Vec<String>, n: &CaseNotice<'_>, reason: &str) -> OutgoingMail {
    OutgoingMail {
        to,
        subject: format!(
            "【窓口】{}が取り下げられました（到達番号 {}）",
            n.procedure_title, n.reference
        ),
        body_text: format!(
            "{authority} ご担当者様\n\n{corp} から提出されていた「{title}」（到達番号 {reference}）が取り下げられました。\n\n取下げの理由:\n{reason}\n\n{url}\n\n-- \n窓口（福祉・介護・保健医療の申請・届出窓口）\n",
            authority = n.authority_name,
            corp = n.corporation_name,
            title = n.procedure_title,
            reference = n.reference,
            url = n.case_url
        ),
    }
}

/// To the provider: the authority returned the case for correction.
pub fn returned_to_provider(
    to: Vec<String>,
    n: &CaseNotice<'_>,
    message: &str,
    field_labels: &[String],
) -> OutgoingMail {
    let fields = if field_labels.is_empty() {
        String::new()
    } else {
        format!("\n修正をお願いする項目:\n・{}\n", field_labels.join("\n・"))
    };
    OutgoingMail {
        to,
        subject: format!(
            "【窓口】{}が差し戻されました（到達番号 {}）",
            n.procedure_title, n.reference
        ),
        body_text: format!(
            "{corp} ご担当者様\n\n{authority} に提出された「{title}」（到達番号 {reference}）について、修正のお願いがあります。\n\n{authority} からのメッセージ:\n{message}\n{fields}\n内容を修正のうえ、再提出をお願いいたします。\n{url}\n\n-- \n窓口（福祉・介護・保健医療の申請・届出窓口）\n",
            corp = n.corporation_name,
            authority = n.authority_name,
            title = n.procedure_title,
            reference = n.reference,
            url = n.case_url
        ),
    }
}

/// To the provider: the authority accepted the case.
pub fn accepted_to_provider(to: Vec<String>, n: &CaseNotice<'_>) -> OutgoingMail {
    OutgoingMail {
        to,
        subject: format!(
            "【窓口】{}が受け付けられました（到達番号 {}）",
            n.procedure_title, n.reference
        ),
        body_text: format!(
            "{corp} ご担当者様\n\n{authority} に提出された「{title}」（到達番号 {reference}）の受付が完了しました。\n登録情報に内容が反映されています。\n{url}\n\n-- \n窓口（福祉・介護・保健医療の申請・届出窓口）\n",
            corp = n.corporation_name,
            authority = n.authority_name,
            title = n.procedure_title,
            reference = n.reference,
            url = n.case_url
        ),
    }
}

// ---- Notifications (provider portal, part B) ----------------------------------------------

/// To a provider user who wants e-mail at once: one notification (a reminder of a deadline or
/// of a designation's end). Composed from the notification's own provider-visible text.
pub fn notification_mail(
    to: Vec<String>,
    n: &crate::notifications::Notice,
    base_url: &str,
) -> OutgoingMail {
    OutgoingMail {
        to,
        subject: format!("【窓口】{}", n.title),
        body_text: format!(
            "ご担当者様\n\n{body}\n\n詳しくは窓口でご確認ください。\n{base_url}{href}\n\nメールでのお知らせの受け取り方は、次のページで変更できます。\n{base_url}/settings/notifications\n\n-- \n窓口（福祉・介護・保健医療の申請・届出窓口）\n",
            body = n.body,
            href = n.href,
        ),
    }
}

/// To a provider user who chose the daily digest: the notifications not yet mailed, in one
/// message.
pub fn digest_mail(
    to: Vec<String>,
    display_name: &str,
    date: chrono::NaiveDate,
    items: &[madoguchi_db::notifications::NotificationRow],
    base_url: &str,
) -> OutgoingMail {
    let mut list = String::new();
    for (i, n) in items.iter().enumerate() {
        list.push_str(&format!(
            "{no}. {title}\n{body}\n{base_url}{href}\n\n",
            no = i + 1,
            title = n.title,
            body = n.body,
            href = n.href,
        ));
    }
    OutgoingMail {
        to,
        subject: format!(
            "【窓口】お知らせのまとめ（{}件・{}）",
            items.len(),
            madoguchi_domain::wareki::format_date_ja(date)
        ),
        body_text: format!(
            "{display_name} 様\n\n窓口からのお知らせが{count}件あります。\n\n{list}お知らせの一覧: {base_url}/notifications\nメールでのお知らせの受け取り方は、次のページで変更できます。\n{base_url}/settings/notifications\n\n-- \n窓口（福祉・介護・保健医療の申請・届出窓口）\n",
            count = items.len(),
        ),
    }
}
