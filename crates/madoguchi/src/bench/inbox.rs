//! The authority inbox at scale: the application's inbox path (`cases::inbox::inbox`, what the
//! /inbox page and `GET /api/v1/cases` call: checks, the page query with its joins and read
//! markers, the mapping to items) against the raw indexed query (the same filter and order
//! over `cases` alone, hitting the same index, returning the same 50 rows), for a few
//! realistic filter and sort combinations, at 1 and 2 concurrent readers. Each round runs the
//! limit, then ours (alternating which goes first); before timing, both must return the same
//! ids.

use std::time::{Duration, Instant};

use madoguchi_core::cases::inbox::{InboxQuery, inbox};
use madoguchi_core::{Actor, App, Role};
use madoguchi_db::{Backend, Db};

use super::datagen::{self, Generated, Sizes};
use super::{Backends, backend_name, median_f, ms, per_second, quantile, ratio, thousands};

/// One combination measured: the inbox query, and the same filter as raw SQL conditions.
#[derive(Clone, Debug)]
pub struct Combination {
    pub name: &'static str,
    pub query: InboxQuery,
    /// Extra `AND …` conditions of the raw query (values inlined: generated, not input).
    pub raw_where: String,
    /// `ORDER BY` of the raw query.
    pub raw_order: &'static str,
}

/// The term of the free-text combination: two Japanese characters, one of the generated name
/// prefixes (about one establishment in twenty).
pub const TEXT_TERM: &str = "若葉";
/// Pages walked before the "later page" combination.
const LATER_PAGE: usize = 20;

/// The combinations, for a database generated today.
pub async fn combinations(app: &App, viewer: &Actor) -> anyhow::Result<Vec<Combination>> {
    let today = madoguchi_core::clock::today_jst(app.clock.as_ref());
    let soon = today + chrono::Days::new(madoguchi_core::cases::view::DUE_SOON_DAYS);
    let by_updated = "c.updated_at DESC, c.id DESC";
    let mut out = vec![
        Combination {
            name: "default view (newest activity)",
            query: InboxQuery::default(),
            raw_where: String::new(),
            raw_order: by_updated,
        },
        Combination {
            name: "status=submitted",
            query: InboxQuery {
                status: Some("submitted".into()),
                ..Default::default()
            },
            raw_where: "AND c.status = 'submitted'".into(),
            raw_order: by_updated,
        },
        Combination {
            name: "due=due_soon, sort=due",
            query: InboxQuery {
                due: Some("due_soon".into()),
                sort: Some("due".into()),
                ..Default::default()
            },
            raw_where: format!(
                "AND c.status IN ('submitted', 'returned') AND COALESCE(c.due_on, '9999-12-31') >= '{0}' \
                 AND COALESCE(c.due_on, '9999-12-31') <= '{1}' AND c.due_on >= '{0}' AND c.due_on <= '{1}'",
                today.format("%Y-%m-%d"),
                soon.format("%Y-%m-%d")
            ),
            raw_order: "COALESCE(c.due_on, '9999-12-31') ASC, c.id ASC",
        },
        Combination {
            name: "q=若葉 (2 characters)",
            query: InboxQuery {
                q: Some(TEXT_TERM.into()),
                ..Default::default()
            },
            raw_where: format!("AND c.search_text LIKE '%{TEXT_TERM}%'"),
            raw_order: by_updated,
        },
    ];
    // A later page of the default view: walk the `next` links.
    let mut q = InboxQuery::default();
    for _ in 0..LATER_PAGE {
        let page = inbox(app, viewer, &q).await?;
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    if let Some(after) = q.after.clone() {
        let (t, id) = after.split_once('.').unwrap_or_default();
        out.push(Combination {
            name: "default view, page 21 (keyset)",
            query: q,
            raw_where: format!("AND c.updated_at <= {t} AND (c.updated_at < {t} OR c.id < '{id}')"),
            raw_order: by_updated,
        });
    }
    Ok(out)
}

/// The raw query's ids (and the case columns a page shows), on the application's pool.
async fn raw_page(db: &Db, authority: &str, c: &Combination) -> anyhow::Result<Vec<String>> {
    let sql = format!(
        "SELECT c.id, c.reference, c.status, c.procedure_id, c.submitted_at, c.updated_at, c.due_on,
                c.assignee_id, c.service_codes
         FROM cases c WHERE c.authority_code = $1 {} ORDER BY {} LIMIT 50",
        c.raw_where, c.raw_order
    );
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
        String,
    );
    let rows: Vec<Row> = match db {
        Db::Sqlite(p, _) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(authority)
                .fetch_all(p)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(authority)
                .fetch_all(p)
                .await?
        }
    };
    Ok(rows.into_iter().map(|r| r.0).collect())
}

async fn app_page(app: &App, viewer: &Actor, c: &Combination) -> anyhow::Result<Vec<String>> {
    let page = inbox(app, viewer, &c.query).await?;
    Ok(page.items.into_iter().map(|i| i.id).collect())
}

/// The viewer the inbox is measured for.
pub fn viewer(g: &Generated) -> Actor {
    Actor {
        user_id: g.viewer_id.clone(),
        login: "bench-reviewer0".into(),
        display_name: "ベンチ審査担当".into(),
        email: "bench@example.jp".into(),
        role: Role::Reviewer {
            authority_code: g.prefecture.clone(),
        },
        can_submit: true,
    }
}

/// Checks that the application and the raw query return the same ids for every combination;
/// returns how many rows the first page of each has.
pub async fn check_same(
    app: &App,
    viewer: &Actor,
    combos: &[Combination],
) -> anyhow::Result<Vec<usize>> {
    let mut out = Vec::new();
    for c in combos {
        let ours = app_page(app, viewer, c).await?;
        let raw = raw_page(&app.db, &g_authority(viewer), c).await?;
        anyhow::ensure!(
            ours == raw,
            "inbox «{}»: the application and the raw query disagree ({} vs {} rows; first {:?} vs {:?})",
            c.name,
            ours.len(),
            raw.len(),
            ours.first(),
            raw.first()
        );
        out.push(ours.len());
    }
    Ok(out)
}

fn g_authority(viewer: &Actor) -> String {
    viewer.authority_code().unwrap_or_default().to_string()
}

/// Runs `iterations` requests split over `readers` tasks; (wall time, every latency).
async fn run_load(
    app: &App,
    viewer: &Actor,
    c: &Combination,
    raw: bool,
    readers: usize,
    iterations: usize,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..readers {
        let (app, viewer, c) = (app.clone(), viewer.clone(), c.clone());
        let n = iterations / readers;
        tasks.push(tokio::spawn(async move {
            let authority = g_authority(&viewer);
            let mut lat = Vec::with_capacity(n);
            for _ in 0..n {
                let t = Instant::now();
                let rows = if raw {
                    raw_page(&app.db, &authority, &c).await?
                } else {
                    app_page(&app, &viewer, &c).await?
                };
                std::hint::black_box(rows);
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Vec::with_capacity(iterations);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((start.elapsed(), all))
}

/// Options of `madoguchi bench inbox`.
#[derive(Clone, Debug)]
pub struct Options {
    pub cases: u64,
    /// Establishments of the registry the cases are spread over.
    pub establishments: u64,
    pub rounds: usize,
    /// Requests per combination, reader count and round (each side).
    pub iterations: usize,
}

/// Measures one instance; rows of the table.
pub async fn measure(
    app: &App,
    g: &Generated,
    backend: Backend,
    o: &Options,
) -> anyhow::Result<Vec<Vec<String>>> {
    let viewer = viewer(g);
    let combos = combinations(app, &viewer).await?;
    let counts = check_same(app, &viewer, &combos).await?;
    let mut rows = Vec::new();
    for (c, count) in combos.iter().zip(counts) {
        // Warm the cache and the statement caches.
        run_load(app, &viewer, c, true, 1, 20).await?;
        run_load(app, &viewer, c, false, 1, 20).await?;
        for readers in [1usize, 2] {
            let (mut ours_tp, mut raw_tp, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            let mut lat = Vec::new();
            for round in 0..o.rounds.max(1) {
                let one = |raw: bool| run_load(app, &viewer, c, raw, readers, o.iterations);
                let (ours, raw) = if round % 2 == 0 {
                    let r = one(true).await?;
                    (one(false).await?, r)
                } else {
                    let ours = one(false).await?;
                    (ours, one(true).await?)
                };
                let t_ours = ours.1.len() as f64 / ours.0.as_secs_f64();
                let t_raw = raw.1.len() as f64 / raw.0.as_secs_f64();
                ours_tp.push(t_ours);
                raw_tp.push(t_raw);
                ratios.push(t_ours / t_raw);
                lat.extend(ours.1);
            }
            lat.sort();
            let p99 = quantile(&lat, 0.99);
            let med_ratio = median_f(&ratios);
            let pass = med_ratio >= 0.5 && p99 < Duration::from_millis(20);
            rows.push(vec![
                format!("inbox: {} ({count} rows), {readers} reader(s)", c.name),
                backend_name(backend).into(),
                format!("{} cases", thousands(g.sizes.cases)),
                per_second(median_f(&ours_tp)),
                per_second(median_f(&raw_tp)),
                ratios
                    .iter()
                    .map(|r| format!("{r:.2}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                ratio(med_ratio, 1.0),
                format!(
                    "{} / {} / {}",
                    ms(quantile(&lat, 0.5)),
                    ms(quantile(&lat, 0.95)),
                    ms(p99)
                ),
                "≥ 0.50, p99 < 20 ms".into(),
                if pass { "PASS" } else { "MISS" }.into(),
            ]);
        }
    }
    Ok(rows)
}

/// `madoguchi bench inbox`.
pub async fn run(backends: &Backends, o: &Options) -> anyhow::Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for backend in backends.list() {
        let cases = match (backend, o.cases) {
            // The sizes: 1,000,000 on SQLite, 10,000,000 on PostgreSQL.
            (Backend::Sqlite, 0) => 1_000_000,
            (Backend::Postgres, 0) => 10_000_000,
            (_, n) => n,
        };
        let inst = backends.create(backend, "inbox").await?;
        let app = inst.open().await?;
        let g = datagen::generate(
            &app,
            Sizes {
                cases,
                establishments: o.establishments,
            },
        )
        .await?;
        println!(
            "inbox/{}: generated {} cases over {} establishments in {:.1} s",
            backend_name(backend),
            thousands(cases),
            thousands(o.establishments),
            g.took.as_secs_f64()
        );
        for plan in explain(&app, &g).await? {
            println!("  {plan}");
        }
        rows.extend(measure(&app, &g, backend, o).await?);
        app.db.close().await;
        inst.destroy().await?;
    }
    Ok(rows)
}

/// The plans of the application's page queries (for BENCHMARKS.md and for spotting a sort
/// step or a full scan).
pub async fn explain(app: &App, g: &Generated) -> anyhow::Result<Vec<String>> {
    use madoguchi_db::inbox::{InboxFilter, SortKey};
    let mut out = Vec::new();
    let base = InboxFilter {
        authority_code: g.prefecture.clone(),
        viewer_id: g.viewer_id.clone(),
        status: None,
        procedure_id: None,
        service_code: None,
        assignee: None,
        due_from: None,
        due_to: None,
        unread_only: false,
        text_patterns: Vec::new(),
        sort: SortKey::Updated,
        descending: true,
        cursor: None,
        backwards: false,
        limit: 51,
    };
    let today = madoguchi_core::clock::today_jst(app.clock.as_ref());
    let soon = today + chrono::Days::new(madoguchi_core::cases::view::DUE_SOON_DAYS);
    let filters = [
        ("default", base.clone()),
        (
            "status",
            InboxFilter {
                status: Some("submitted".into()),
                ..base.clone()
            },
        ),
        (
            "due_soon",
            InboxFilter {
                due_from: Some(today.format("%Y-%m-%d").to_string()),
                due_to: Some(soon.format("%Y-%m-%d").to_string()),
                sort: SortKey::Due,
                descending: false,
                ..base.clone()
            },
        ),
    ];
    for (name, f) in filters {
        let mut tx = app.db.begin_read().await?;
        let plan = madoguchi_db::inbox::explain(&mut tx, &f, false).await?;
        tx.rollback().await?;
        let top: Vec<String> = plan.into_iter().take(4).collect();
        out.push(format!("plan {name}: {}", top.join(" | ")));
    }
    Ok(out)
}
