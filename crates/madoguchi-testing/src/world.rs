//! A larger, random but reproducible world for authorization tests: on top of the demo data
//! (6 authorities, 2 corporations) it adds corporations with valid 法人番号, establishments
//! with valid 介護保険事業所番号 whose designations are routed by the shipped designation
//! rules, provider staff for each corporation, and a few hundred filings driven through the
//! real use cases (create, answer, upload and link files, submit; then some returned,
//! resubmitted, accepted, withdrawn, commented). The same seed gives the same structure (which
//! corporation files what, which cases end how); ids are fresh UUIDs each run.
//!
//! [`World`] is also the test's model of who owns what. It only grows (links and cases are
//! never removed), and [`World::refresh_filing`] reloads one filing's cases and files after a
//! test changed it over HTTP.

use std::collections::{BTreeMap, BTreeSet};

use madoguchi_core::filings::{self, NewFiling};
use madoguchi_core::{Actor, App, cases};
use madoguchi_db::registry::{self, CorporationRow, DesignationRow, EstablishmentRow};
use madoguchi_db::users::{self, MembershipRow, UserRow};
use madoguchi_db::{attachments, new_id};
use madoguchi_domain::authority::{AuthorityKind, MunicipalityFacts};
use madoguchi_domain::ids::{CorporateNumber, OfficeNumber, find_service_type};
use madoguchi_domain::procedure::FilingData;
use serde_json::{Value, json};

/// A small, fast, seedable random number generator (SplitMix64): reproducible everywhere,
/// no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u32) -> bool {
        (self.next_u64() % 100) < u64::from(percent)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A derived generator (for an independent stream).
    pub fn fork(&mut self) -> Rng {
        Rng(self.next_u64())
    }
}

/// How big a world to build.
#[derive(Clone, Debug)]
pub struct WorldSpec {
    pub seed: u64,
    /// Corporations added to the demo's two.
    pub extra_corporations: usize,
    /// Filings created in all (over every corporation).
    pub filings: usize,
}

impl Default for WorldSpec {
    fn default() -> Self {
        WorldSpec {
            seed: 0x6d61_646f_6775_6368,
            extra_corporations: 5,
            filings: 220,
        }
    }
}

/// An authority and its staff sign-ins.
#[derive(Clone, Debug)]
pub struct AuthorityInfo {
    pub code: String,
    pub name: String,
    pub reviewer_login: String,
    pub admin_login: String,
}

#[derive(Clone, Debug)]
pub struct CorporationInfo {
    pub id: String,
    pub name: String,
    /// Provider staff sign-ins.
    pub logins: Vec<String>,
    pub establishments: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct EstablishmentInfo {
    pub id: String,
    pub corporation_id: String,
    pub office_number: String,
    /// Authorities designating one of its services.
    pub designated_by: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub struct FilingInfo {
    pub id: String,
    pub corporation_id: String,
    pub procedure_id: String,
    pub establishments: Vec<String>,
    /// Files linked to the filing (any requirement, any version).
    pub attachments: BTreeSet<String>,
    /// Its cases (one per authority concerned, after the first submission).
    pub cases: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub struct CaseInfo {
    pub id: String,
    pub filing_id: String,
    pub corporation_id: String,
    pub authority_code: String,
}

#[derive(Clone, Debug)]
pub struct AttachmentInfo {
    pub id: String,
    /// The uploading corporation (provider uploads).
    pub corporation_id: Option<String>,
    /// The uploading authority (staff uploads).
    pub authority_code: Option<String>,
    /// Filings it is linked to.
    pub filings: BTreeSet<String>,
}

/// Who may be signed in: every user of the world with their role.
#[derive(Clone, Debug)]
pub struct UserInfo {
    pub login: String,
    pub user_id: String,
    pub actor: Actor,
}

/// The world, as built and as later refreshed.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub seed: u64,
    pub authorities: Vec<AuthorityInfo>,
    pub corporations: Vec<CorporationInfo>,
    pub establishments: BTreeMap<String, EstablishmentInfo>,
    pub filings: BTreeMap<String, FilingInfo>,
    pub cases: BTreeMap<String, CaseInfo>,
    pub attachments: BTreeMap<String, AttachmentInfo>,
    pub users: Vec<UserInfo>,
}

/// Municipalities of the demo data and their 郡市区 code digits for new office numbers.
const SERVICES: [&str; 4] = ["11", "15", "43", "78"];
const FAMILY: [(&str, &str); 8] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("渡辺", "ワタナベ"),
    ("伊藤", "イトウ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
];
const GIVEN: [(&str, &str); 6] = [
    ("一郎", "イチロウ"),
    ("花子", "ハナコ"),
    ("健", "ケン"),
    ("美咲", "ミサキ"),
    ("誠", "マコト"),
    ("優子", "ユウコ"),
];
const CORP_NAMES: [(&str, &str, &str); 6] = [
    (
        "社会福祉法人　あおば会",
        "シャカイフクシホウジン　アオバカイ",
        "社会福祉法人",
    ),
    (
        "株式会社みどりケア",
        "カブシキガイシャミドリケア",
        "営利法人",
    ),
    (
        "医療法人社団　かえで会",
        "イリョウホウジンシャダン　カエデカイ",
        "医療法人",
    ),
    (
        "特定非営利活動法人　ひだまり",
        "トクテイヒエイリカツドウホウジン　ヒダマリ",
        "特定非営利活動法人",
    ),
    ("合同会社つばき", "ゴウドウガイシャツバキ", "営利法人"),
    (
        "社会福祉法人　もみじ福祉会",
        "シャカイフクシホウジン　モミジフクシカイ",
        "社会福祉法人",
    ),
];

fn person(rng: &mut Rng) -> (String, String) {
    let (f, fk) = rng.pick(&FAMILY);
    let (g, gk) = rng.pick(&GIVEN);
    (format!("{f}　{g}"), format!("{fk}　{gk}"))
}

fn internal<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// A PDF-looking file (the upload checks look at the magic bytes).
pub fn pdf_bytes(label: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {label}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").into_bytes()
}

impl World {
    /// Builds the world on an app whose database already holds the demo data.
    pub async fn build(app: &App, spec: &WorldSpec) -> anyhow::Result<World> {
        let mut rng = Rng::new(spec.seed);
        let mut world = World {
            seed: spec.seed,
            ..World::default()
        };
        world.load_registry(app).await?;
        world
            .add_corporations(app, &mut rng, spec.extra_corporations)
            .await?;
        world.load_users(app).await?;
        world.add_filings(app, &mut rng, spec.filings).await?;
        Ok(world)
    }

    /// Authorities, corporations and establishments already in the database (the demo).
    async fn load_registry(&mut self, app: &App) -> anyhow::Result<()> {
        let mut tx = app.db.begin_read().await?;
        for a in registry::list_authorities(&mut tx).await? {
            self.authorities.push(AuthorityInfo {
                reviewer_login: format!("reviewer-{}", a.code),
                admin_login: format!("admin-{}", a.code),
                code: a.code,
                name: a.name,
            });
        }
        for c in registry::list_corporations(&mut tx).await? {
            let mut ests = Vec::new();
            for e in registry::list_establishments_of(&mut tx, &c.id).await? {
                let designated_by = registry::designations_of_establishment(&mut tx, &e.id)
                    .await?
                    .into_iter()
                    .map(|d| d.authority_code)
                    .collect();
                ests.push(e.id.clone());
                self.establishments.insert(
                    e.id.clone(),
                    EstablishmentInfo {
                        id: e.id,
                        corporation_id: c.id.clone(),
                        office_number: e.office_number,
                        designated_by,
                    },
                );
            }
            self.corporations.push(CorporationInfo {
                id: c.id,
                name: c.name,
                logins: Vec::new(),
                establishments: ests,
            });
        }
        tx.commit().await?;
        Ok(())
    }

    async fn add_corporations(&mut self, app: &App, rng: &mut Rng, n: usize) -> anyhow::Result<()> {
        let now = app.now_ms();
        let mut tx = app.db.begin().await?;
        let authorities = registry::list_authorities(&mut tx).await?;
        let municipalities: Vec<_> = authorities
            .iter()
            .filter(|a| a.kind != "prefecture")
            .cloned()
            .collect();
        let mut serial = 6000;
        for i in 0..n {
            let (name, kana, kind) = CORP_NAMES[i % CORP_NAMES.len()];
            let name = if i >= CORP_NAMES.len() {
                format!("{name}{}", i / CORP_NAMES.len() + 1)
            } else {
                name.to_string()
            };
            // 法人番号: a random 12-digit base and its leading check digit.
            let base = format!("{:012}", 100_000_000_000 + rng.next_u64() % 800_000_000_000);
            let number = format!("{}{base}", CorporateNumber::check_digit(&base));
            let number = CorporateNumber::parse(&number).map_err(internal)?;
            let (rep, rep_kana) = person(rng);
            let home = rng.pick(&municipalities).clone();
            let id = new_id();
            let profile = json!({
                "name": name,
                "name_kana": kana,
                "corp_kind": kind,
                "postal_code": "160-0023",
                "address": format!("{}一丁目{}番{}号", home.name, i + 1, rng.below(20) + 1),
                "phone": format!("03-{:04}-{:04}", 1000 + i, rng.below(9000) + 1000),
                "email": format!("office{i}@world-{}.example.jp", i + 3),
                "representative_title": "代表者",
                "representative_name": rep,
                "representative_kana": rep_kana,
                "representative_birth_date": format!("19{}-0{}-1{}", 50 + rng.below(40), rng.below(9) + 1, rng.below(9)),
                "representative_address": "東京都新宿区西新宿二丁目8番1号",
                "corporate_number": number.as_str(),
            });
            registry::insert_corporation(
                &mut tx,
                &CorporationRow {
                    id: id.clone(),
                    corporate_number: Some(number.as_str().into()),
                    name: name.clone(),
                    profile: profile.to_string(),
                    created_at: now,
                    updated_at: now,
                },
            )
            .await?;
            let mut ests = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let muni = rng.pick(&municipalities).clone();
                serial += 1 + rng.below(7);
                let base9 = format!("{}7{}{serial:04}", &muni.code[..2], &muni.code[2..4]);
                let office = format!("{base9}{}", OfficeNumber::check_digit(&base9));
                let office = OfficeNumber::parse(&office).map_err(internal)?.number;
                let est_id = new_id();
                let (manager, manager_kana) = person(rng);
                let est_name = format!(
                    "{}事業所{}",
                    name.rsplit('　').next().unwrap_or(&name),
                    serial
                );
                let profile = json!({
                    "name": est_name,
                    "name_kana": "ジギョウショ",
                    "postal_code": "160-0022",
                    "address": format!("{}二丁目{}番1号", muni.name, serial % 40 + 1),
                    "phone": format!("03-5555-{serial:04}"),
                    "manager_name": manager,
                    "manager_kana": manager_kana,
                    "manager_birth_date": "1980-01-01",
                    "manager_address": "東京都中野区中野四丁目1番1号",
                    "capacity": 10 + rng.below(30),
                    "business_days": "月曜日から金曜日",
                    "business_hours": "9時から18時",
                    "office_number": office.as_str(),
                });
                registry::insert_establishment(
                    &mut tx,
                    &EstablishmentRow {
                        id: est_id.clone(),
                        corporation_id: id.clone(),
                        office_number: office.as_str().into(),
                        municipality_code: muni.code.clone(),
                        name: est_name,
                        profile: profile.to_string(),
                        created_at: now,
                        updated_at: now,
                    },
                )
                .await?;
                let mut designated_by = BTreeSet::new();
                let mut services: Vec<&str> = SERVICES.to_vec();
                for _ in 0..1 + rng.below(2) {
                    let s = services.remove(rng.below(services.len()));
                    let st = find_service_type(s).ok_or_else(|| internal(s))?;
                    let facts = MunicipalityFacts {
                        code: &muni.code,
                        kind: AuthorityKind::parse(&muni.kind)
                            .unwrap_or(AuthorityKind::Municipality),
                        prefecture_code: &muni.prefecture_code,
                        delegate_code: muni.delegate_code.as_deref(),
                    };
                    let authority_code = app
                        .rules
                        .designating_authority(st.category, &facts)
                        .map_err(internal)?;
                    designated_by.insert(authority_code.clone());
                    registry::insert_designation(
                        &mut tx,
                        &DesignationRow {
                            id: new_id(),
                            establishment_id: est_id.clone(),
                            service_code: st.code.into(),
                            authority_code,
                            valid_from: "2024-04-01".into(),
                            valid_until: "2030-03-31".into(),
                        },
                    )
                    .await?;
                }
                ests.push(est_id.clone());
                self.establishments.insert(
                    est_id.clone(),
                    EstablishmentInfo {
                        id: est_id,
                        corporation_id: id.clone(),
                        office_number: office.as_str().into(),
                        designated_by,
                    },
                );
            }
            // Provider staff: one or two per corporation.
            for j in 0..1 + rng.below(2) {
                let user_id = new_id();
                let login = format!("world-c{i}-s{j}");
                let (display, _) = person(rng);
                users::insert_user(
                    &mut tx,
                    &UserRow {
                        id: user_id.clone(),
                        login: login.clone(),
                        display_name: display,
                        email: format!("{login}@world-{}.example.jp", i + 3),
                        created_at: now,
                        disabled_at: None,
                    },
                )
                .await?;
                users::insert_membership(
                    &mut tx,
                    &MembershipRow {
                        id: new_id(),
                        user_id,
                        role: "provider".into(),
                        corporation_id: Some(id.clone()),
                        authority_code: None,
                        created_at: now,
                    },
                )
                .await?;
            }
            self.corporations.push(CorporationInfo {
                id,
                name,
                logins: Vec::new(),
                establishments: ests,
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every user with their actor (role and organisation).
    async fn load_users(&mut self, app: &App) -> anyhow::Result<()> {
        let mut tx = app.db.begin_read().await?;
        let all = users::list_users(&mut tx).await?;
        for u in all {
            let actor = madoguchi_core::actor::load_actor(&mut tx, &u.id)
                .await
                .map_err(internal)?;
            if let Some(c) = actor.corporation_id()
                && let Some(corp) = self.corporations.iter_mut().find(|x| x.id == c)
            {
                corp.logins.push(u.login.clone());
            }
            self.users.push(UserInfo {
                login: u.login,
                user_id: u.id,
                actor,
            });
        }
        tx.commit().await?;
        self.users.sort_by(|a, b| a.login.cmp(&b.login));
        for c in &mut self.corporations {
            c.logins.sort();
        }
        Ok(())
    }

    /// The user signed in as `login`.
    pub fn user(&self, login: &str) -> &UserInfo {
        self.users
            .iter()
            .find(|u| u.login == login)
            .unwrap_or_else(|| panic!("no user {login}"))
    }

    fn actor_of(&self, login: &str) -> Actor {
        self.user(login).actor.clone()
    }

    async fn add_filings(&mut self, app: &App, rng: &mut Rng, n: usize) -> anyhow::Result<()> {
        let corps: Vec<CorporationInfo> = self
            .corporations
            .iter()
            .filter(|c| !c.logins.is_empty() && !c.establishments.is_empty())
            .cloned()
            .collect();
        anyhow::ensure!(!corps.is_empty(), "no corporation can file");
        for i in 0..n {
            // Every corporation files; the demo's two a little more often.
            let corp = corps[if i < corps.len() {
                i
            } else {
                rng.below(corps.len() + 2) % corps.len()
            }]
            .clone();
            let login = rng.pick(&corp.logins).clone();
            let actor = self.actor_of(&login);
            self.one_filing(app, rng, &corp, &actor, i).await?;
        }
        Ok(())
    }

    async fn one_filing(
        &mut self,
        app: &App,
        rng: &mut Rng,
        corp: &CorporationInfo,
        actor: &Actor,
        i: usize,
    ) -> anyhow::Result<()> {
        let change = rng.percent(30);
        let mut ests = vec![rng.pick(&corp.establishments).clone()];
        if !change && corp.establishments.len() > 1 && rng.percent(30) {
            let other = rng.pick(&corp.establishments).clone();
            if !ests.contains(&other) {
                ests.push(other);
            }
        }
        let procedure_id = if change {
            "change-notification"
        } else {
            "suspension-abolition"
        };
        let id = filings::create(
            app,
            actor,
            NewFiling {
                procedure_id: procedure_id.into(),
                establishment_ids: ests.clone(),
                ..NewFiling::default()
            },
        )
        .await
        .map_err(internal)?;
        self.filings.insert(
            id.clone(),
            FilingInfo {
                id: id.clone(),
                corporation_id: corp.id.clone(),
                procedure_id: procedure_id.into(),
                establishments: ests,
                attachments: BTreeSet::new(),
                cases: BTreeSet::new(),
            },
        );
        let complete = rng.percent(90);
        let data = answers(app, actor, &id, change, complete, rng, i).await?;
        filings::update(app, actor, &id, data, None)
            .await
            .map_err(internal)?;
        // Files: new uploads, sometimes one the corporation uploaded before.
        let requirements: &[&str] = if change {
            &["registry_certificate", "pledge"]
        } else {
            &["user_measures_list"]
        };
        for req in requirements {
            let earlier: Vec<String> = self
                .attachments
                .values()
                .filter(|a| a.corporation_id.as_deref() == Some(corp.id.as_str()))
                .map(|a| a.id.clone())
                .collect();
            let att = if !earlier.is_empty() && rng.percent(20) {
                rng.pick(&earlier).clone()
            } else {
                let att = filings::upload(
                    app,
                    actor,
                    &format!("{req}-{i}.pdf"),
                    "application/pdf",
                    pdf_bytes(&format!("{req} {i}")),
                )
                .await
                .map_err(internal)?;
                self.attachments.insert(
                    att.clone(),
                    AttachmentInfo {
                        id: att.clone(),
                        corporation_id: Some(corp.id.clone()),
                        authority_code: None,
                        filings: BTreeSet::new(),
                    },
                );
                att
            };
            filings::link_attachment(app, actor, &id, &att, req)
                .await
                .map_err(internal)?;
        }
        // Fate: most are submitted; some stay drafts; a few drafts are withdrawn.
        let fate = rng.below(100);
        if !complete || fate < 12 {
            self.refresh_filing(app, &id).await?;
            return Ok(());
        }
        if fate < 16 {
            filings::withdraw(app, actor, &id, "作成をやめました。")
                .await
                .map_err(internal)?;
            self.refresh_filing(app, &id).await?;
            return Ok(());
        }
        filings::submit(app, actor, &id, None)
            .await
            .map_err(internal)?;
        self.refresh_filing(app, &id).await?;
        let case_ids: Vec<String> = self.filings[&id].cases.iter().cloned().collect();
        let mut returned = Vec::new();
        let mut accepted = 0;
        for case_id in &case_ids {
            let authority = self.cases[case_id].authority_code.clone();
            let staff = if rng.percent(70) {
                format!("reviewer-{authority}")
            } else {
                format!("admin-{authority}")
            };
            let staff = self.actor_of(&staff);
            if rng.percent(25) {
                cases::comment(app, &staff, case_id, "確認しています。", rng.percent(50))
                    .await
                    .map_err(internal)?;
            }
            if rng.percent(15) {
                cases::comment(app, actor, case_id, "よろしくお願いします。", false)
                    .await
                    .map_err(internal)?;
            }
            match rng.below(100) {
                0..35 => {
                    cases::accept(app, &staff, case_id)
                        .await
                        .map_err(internal)?;
                    accepted += 1;
                }
                35..60 => {
                    cases::return_case(
                        app,
                        &staff,
                        case_id,
                        cases::ReturnRequest {
                            message: "記載内容をご確認ください。".into(),
                            fields: Vec::new(),
                            attachment_ids: Vec::new(),
                        },
                    )
                    .await
                    .map_err(internal)?;
                    returned.push(case_id.clone());
                }
                _ => {}
            }
        }
        if !returned.is_empty() && rng.percent(50) {
            // Corrected and resubmitted to the authorities that returned it.
            let data = answers(app, actor, &id, change, true, rng, i + 1000).await?;
            filings::update(app, actor, &id, data, None)
                .await
                .map_err(internal)?;
            filings::submit(app, actor, &id, None)
                .await
                .map_err(internal)?;
        } else if accepted < case_ids.len() && rng.percent(12) {
            filings::withdraw(app, actor, &id, "事業計画を見直すため取り下げます。")
                .await
                .map_err(internal)?;
        }
        Ok(())
    }

    /// Reloads a filing's cases and linked files from the database (after a change made
    /// over HTTP); new cases and files join the model.
    pub async fn refresh_filing(&mut self, app: &App, filing_id: &str) -> anyhow::Result<()> {
        let mut tx = app.db.begin_read().await?;
        let cases = madoguchi_db::cases::cases_of_filing(&mut tx, filing_id).await?;
        let links = attachments::of_filing(&mut tx, filing_id).await?;
        let mut uploads = Vec::new();
        for l in &links {
            if !self.attachments.contains_key(&l.attachment_id) {
                uploads.push(attachments::get_attachment(&mut tx, &l.attachment_id).await?);
            }
        }
        tx.commit().await?;
        for a in uploads {
            self.attachments.insert(
                a.id.clone(),
                AttachmentInfo {
                    id: a.id,
                    corporation_id: a.corporation_id,
                    authority_code: a.authority_code,
                    filings: BTreeSet::new(),
                },
            );
        }
        let Some(f) = self.filings.get_mut(filing_id) else {
            return Ok(());
        };
        for c in cases {
            f.cases.insert(c.id.clone());
            self.cases.insert(
                c.id.clone(),
                CaseInfo {
                    id: c.id,
                    filing_id: c.filing_id,
                    corporation_id: c.corporation_id,
                    authority_code: c.authority_code,
                },
            );
        }
        for l in links {
            f.attachments.insert(l.attachment_id.clone());
            if let Some(a) = self.attachments.get_mut(&l.attachment_id) {
                a.filings.insert(filing_id.to_string());
            }
        }
        Ok(())
    }

    /// Adds a filing created over HTTP (its establishments are read from the database).
    pub async fn add_filing(&mut self, app: &App, filing_id: &str) -> anyhow::Result<()> {
        let mut tx = app.db.begin_read().await?;
        let f = madoguchi_db::filings::get_filing(&mut tx, filing_id).await?;
        let ests = madoguchi_db::filings::filing_establishments(&mut tx, filing_id).await?;
        tx.commit().await?;
        self.filings.insert(
            f.id.clone(),
            FilingInfo {
                id: f.id,
                corporation_id: f.corporation_id,
                procedure_id: f.procedure_id,
                establishments: ests,
                attachments: BTreeSet::new(),
                cases: BTreeSet::new(),
            },
        );
        self.refresh_filing(app, filing_id).await
    }

    /// Adds a file uploaded over HTTP.
    pub async fn add_attachment(&mut self, app: &App, attachment_id: &str) -> anyhow::Result<()> {
        let mut tx = app.db.begin_read().await?;
        let a = attachments::get_attachment(&mut tx, attachment_id).await?;
        tx.commit().await?;
        self.attachments
            .entry(a.id.clone())
            .or_insert(AttachmentInfo {
                id: a.id,
                corporation_id: a.corporation_id,
                authority_code: a.authority_code,
                filings: BTreeSet::new(),
            });
        Ok(())
    }

    /// Numbers for a report line.
    pub fn summary(&self) -> String {
        format!(
            "{} authorities, {} corporations, {} establishments, {} users, {} filings, {} cases, {} files",
            self.authorities.len(),
            self.corporations.len(),
            self.establishments.len(),
            self.users.len(),
            self.filings.len(),
            self.cases.len(),
            self.attachments.len()
        )
    }
}

/// Answers for a filing: complete (submittable) or with a required answer missing.
async fn answers(
    app: &App,
    actor: &Actor,
    filing_id: &str,
    change: bool,
    complete: bool,
    rng: &mut Rng,
    i: usize,
) -> anyhow::Result<FilingData> {
    let current = filings::view::get(app, actor, filing_id)
        .await
        .map_err(internal)?;
    let mut data: Value = current.data;
    let fields = &mut data["fields"];
    if change {
        let (name, kana) = person(rng);
        fields["change_items"] = json!(["representative"]);
        fields["change_date"] = json!("2026-12-01");
        fields["representative_name"] = json!(name);
        fields["representative_kana"] = json!(kana);
        if !complete {
            fields["representative_name"] = json!("");
        }
    } else {
        let suspension = rng.percent(40);
        fields["kind"] = json!(if suspension {
            "suspension"
        } else {
            "abolition"
        });
        fields["effective_date"] = json!("2026-12-01");
        if suspension {
            fields["suspension_until"] = json!("2027-03-31");
        }
        fields["reason"] = json!(format!("人員の確保が難しいため（{i}）。"));
        fields["user_measures"] = json!(if complete {
            "利用者ごとに近隣の事業所へ引き継ぎます。"
        } else {
            ""
        });
    }
    Ok(serde_json::from_value(data)?)
}
