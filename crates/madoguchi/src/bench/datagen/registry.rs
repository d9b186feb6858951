//! The registry side of the benchmark data: the authorities of one prefecture, corporations
//! and establishments with Japanese names, readings and addresses, and valid 事業所番号 and
//! 法人番号 check digits from the domain's own code. Built in Rust, deterministic.

use super::*;

pub(super) const WARDS: &[&str] = &[
    "千代田区",
    "中央区",
    "港区",
    "新宿区",
    "文京区",
    "台東区",
    "墨田区",
    "江東区",
    "品川区",
    "目黒区",
    "大田区",
    "世田谷区",
    "渋谷区",
    "中野区",
    "杉並区",
    "豊島区",
    "北区",
    "荒川区",
    "板橋区",
    "練馬区",
    "足立区",
    "葛飾区",
    "江戸川区",
];
pub(super) const CITIES: &[&str] = &[
    "八王子市",
    "立川市",
    "武蔵野市",
    "三鷹市",
    "青梅市",
    "府中市",
    "昭島市",
    "調布市",
    "町田市",
    "小金井市",
];
/// Name parts: (written, reading).
pub(super) const PREFIXES: &[(&str, &str)] = &[
    ("さくら", "サクラ"),
    ("若葉", "ワカバ"),
    ("ひまわり", "ヒマワリ"),
    ("あおぞら", "アオゾラ"),
    ("みどり", "ミドリ"),
    ("けやき", "ケヤキ"),
    ("つばさ", "ツバサ"),
    ("ほほえみ", "ホホエミ"),
    ("なごみ", "ナゴミ"),
    ("すずらん", "スズラン"),
    ("陽だまり", "ヒダマリ"),
    ("やすらぎ", "ヤスラギ"),
    ("朝日", "アサヒ"),
    ("富士見", "フジミ"),
    ("松風", "マツカゼ"),
    ("白樺", "シラカバ"),
    ("こもれび", "コモレビ"),
    ("なでしこ", "ナデシコ"),
    ("ゆうあい", "ユウアイ"),
    ("きずな", "キズナ"),
];
pub(super) const KINDS: &[(&str, &str)] = &[
    ("ケアセンター", "ケアセンター"),
    ("訪問介護ステーション", "ホウモンカイゴステーション"),
    ("デイサービス", "デイサービス"),
    ("介護サービス", "カイゴサービス"),
    ("ヘルパーステーション", "ヘルパーステーション"),
    ("福祉センター", "フクシセンター"),
    ("リハビリセンター", "リハビリセンター"),
    ("在宅ケア", "ザイタクケア"),
];
pub(super) const TOWNS: &[&str] = &[
    "本町", "栄町", "緑町", "旭町", "東町", "西町", "南町", "北町", "中町", "幸町",
];
pub(super) const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
];
pub(super) const GIVEN: &[(&str, &str)] = &[
    ("花子", "ハナコ"),
    ("太郎", "タロウ"),
    ("美咲", "ミサキ"),
    ("健一", "ケンイチ"),
    ("陽子", "ヨウコ"),
    ("誠", "マコト"),
    ("恵子", "ケイコ"),
    ("大輔", "ダイスケ"),
];
pub(super) const CORP_KINDS: &[(&str, &str)] = &[
    ("社会福祉法人", "シャカイフクシホウジン"),
    ("株式会社", "カブシキガイシャ"),
    ("医療法人社団", "イリョウホウジンシャダン"),
    ("特定非営利活動法人", "トクテイヒエイリカツドウホウジン"),
];

/// A 全国地方公共団体コード from its 5-digit base, with the domain's check digit.
pub(super) fn gov_code(base5: &str) -> String {
    format!("{base5}{}", LocalGovCode::check_digit(base5))
}

/// The authorities: the prefecture (東京都), its 23 wards and ten cities. (code, name, kind).
pub fn authorities() -> Vec<(String, String, &'static str)> {
    let mut out = vec![(gov_code("13000"), "東京都".to_string(), "prefecture")];
    for (i, w) in WARDS.iter().enumerate() {
        out.push((
            gov_code(&format!("13{:03}", 101 + i)),
            w.to_string(),
            "special_ward",
        ));
    }
    for (i, c) in CITIES.iter().enumerate() {
        out.push((
            gov_code(&format!("13{:03}", 201 + i)),
            c.to_string(),
            "municipality",
        ));
    }
    out
}

/// The `i`-th 事業所番号: prefecture 13, category 7 (指定) — then 0, 8, 9 beyond a million —,
/// 郡市区 code and serial from `i`, and the domain's check digit.
pub fn office_number(i: u64) -> String {
    let category = ['7', '0', '8', '9'][((i / 1_000_000) % 4) as usize];
    let rest = i % 1_000_000;
    let base = format!("13{category}{:02}{:04}", rest / 10_000, rest % 10_000);
    format!("{base}{}", OfficeNumber::check_digit(&base))
}

/// The `c`-th 法人番号 (check digit first, from the domain's code).
pub(super) fn corporate_number(c: u64) -> String {
    let base = format!("{:012}", 100_000_000_000 + c);
    format!("{}{base}", CorporateNumber::check_digit(&base))
}

pub(super) fn pick<T: Copy>(list: &[T], n: u64) -> T {
    list[(n % list.len() as u64) as usize]
}

/// A multiplicative hash, so neighbouring numbers get unrelated parts.
pub(super) fn mix(n: u64, salt: u64) -> u64 {
    (n.wrapping_add(salt)).wrapping_mul(2_654_435_761) >> 7
}

pub(super) struct EstablishmentGen {
    pub(super) id: String,
    pub(super) corporation_id: String,
    pub(super) office_number: String,
    pub(super) municipality_code: String,
    pub(super) name: String,
    pub(super) profile: String,
    pub(super) designation_id: String,
    pub(super) service_code: &'static str,
}

pub(super) fn establishment(
    i: u64,
    municipalities: &[(String, String, &'static str)],
) -> EstablishmentGen {
    let (muni_code, muni_name, _) =
        &municipalities[(mix(i, 1) % municipalities.len() as u64) as usize];
    let (p, pk) = pick(PREFIXES, mix(i, 2));
    let (k, kk) = pick(KINDS, mix(i, 3));
    let town = pick(TOWNS, mix(i, 4));
    let name = format!("{p}{k}{}", muni_name.trim_end_matches(['区', '市']));
    let (s, sk) = pick(SURNAMES, mix(i, 5));
    let (g, gk) = pick(GIVEN, mix(i, 6));
    let mut profile = serde_json::json!({
        "name": name,
        "name_kana": format!("{pk}{kk}"),
        "postal_code": format!("1{:02}-{:04}", i % 100, mix(i, 7) % 10_000),
        "address": format!("東京都{muni_name}{town}{}丁目{}番{}号", 1 + i % 9, 1 + mix(i, 8) % 30, 1 + i % 20),
        "phone": format!("03-{:04}-{:04}", mix(i, 9) % 10_000, i % 10_000),
        "manager_name": format!("{s}　{g}"),
        "manager_kana": format!("{sk}　{gk}"),
        "capacity": 10 + (i % 40),
    });
    if i.is_multiple_of(3) {
        profile["fax"] = format!("03-{:04}-{:04}", mix(i, 10) % 10_000, i % 10_000).into();
    }
    if i.is_multiple_of(2) {
        profile["email"] = format!("office{i}@example.jp").into();
    }
    EstablishmentGen {
        id: id(EST, i),
        corporation_id: id(CORP, i / PER_CORPORATION as u64),
        office_number: office_number(i),
        municipality_code: muni_code.clone(),
        name,
        profile: profile.to_string(),
        designation_id: id(DESIG, i),
        service_code: pick(SERVICE_CODES, mix(i, 11)),
    }
}

pub(super) fn corporation(c: u64) -> (String, Option<String>, String, String) {
    let (kind, kind_kana) = pick(CORP_KINDS, c);
    let (p, pk) = pick(PREFIXES, mix(c, 12));
    let (s, _) = pick(SURNAMES, mix(c, 13));
    let (g, _) = pick(GIVEN, mix(c, 14));
    let name = format!("{kind}{p}会{}", c % 1000);
    let profile = serde_json::json!({
        "name": name,
        "name_kana": format!("{kind_kana}{pk}カイ"),
        "corp_kind": kind,
        "address": format!("東京都{}{}{}丁目{}番", pick(WARDS, c), pick(TOWNS, c / 7), 1 + c % 9, 1 + c % 20),
        "representative_title": "理事長",
        "representative_name": format!("{s}　{g}"),
    });
    // One in ten has no 法人番号 (sole proprietors).
    let number = (c % 10 != 9).then(|| corporate_number(c));
    (id(CORP, c), number, name, profile.to_string())
}
