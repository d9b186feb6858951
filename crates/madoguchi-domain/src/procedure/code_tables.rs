//! Built-in code tables a select field can take its options from
//! (`code_table = "service_types"`), so that a definition never copies a
//! national code list.

use super::model::Choice;
use crate::ids::service_types;

/// The 47 都道府県, in 都道府県コード order (01 北海道 … 47 沖縄県).
pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// 法人等の種類 as the standard application forms list them.
const CORPORATION_TYPES: &[(&str, &str)] = &[
    ("social_welfare", "社会福祉法人"),
    ("medical", "医療法人"),
    ("company", "営利法人"),
    ("npo", "特定非営利活動法人"),
    ("general_incorporated", "一般社団法人・一般財団法人"),
    ("cooperative", "協同組合"),
    ("local_government", "地方公共団体"),
    ("individual", "個人"),
    ("other", "その他"),
];

/// Days a weekday set can hold, in display order.
pub const WEEKDAYS: &[(&str, &str)] = &[
    ("mon", "月"),
    ("tue", "火"),
    ("wed", "水"),
    ("thu", "木"),
    ("fri", "金"),
    ("sat", "土"),
    ("sun", "日"),
    ("holiday", "祝日"),
];

/// Names of the tables, for load errors.
pub const TABLES: &[&str] = &["service_types", "prefectures", "corporation_types"];

/// The options of a named table; `None` for an unknown name.
pub fn options(table: &str) -> Option<Vec<Choice>> {
    let choice = |value: &str, label: &str| Choice {
        value: value.to_owned(),
        label: label.to_owned(),
    };
    Some(match table {
        "service_types" => service_types()
            .iter()
            .map(|t| choice(t.code, &format!("{} {}", t.code, t.name)))
            .collect(),
        "prefectures" => PREFECTURES
            .iter()
            .enumerate()
            .map(|(i, name)| choice(&format!("{:02}", i + 1), name))
            .collect(),
        "corporation_types" => CORPORATION_TYPES
            .iter()
            .map(|(v, l)| choice(v, l))
            .collect(),
        _ => return None,
    })
}

/// Whether an address starts with a 都道府県 name.
pub fn starts_with_prefecture(address: &str) -> bool {
    PREFECTURES.iter().any(|p| address.starts_with(p))
}
