//! Accessibility check with axe-core, run inside the page. axe-core comes from the npm
//! registry (`scripts/test.sh` runs `npm install --prefix target/axe axe-core@4`); the test
//! reads `target/axe/node_modules/axe-core/axe.min.js`, or the file named by
//! `MADOGUCHI_AXE_JS`. Any violation of impact `serious` or `critical` fails the page, with
//! the rule, the elements and the rule's help. Without axe-core the check is skipped with a
//! loud note, unless the browser tests are required (CI, `MADOGUCHI_BROWSER_TESTS=1`).

use std::path::PathBuf;
use std::sync::OnceLock;

use fantoccini::Client;
use serde_json::Value;

fn axe_path() -> PathBuf {
    std::env::var_os("MADOGUCHI_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::driver::target_dir().join("axe/node_modules/axe-core/axe.min.js"))
}

/// axe-core's source, read once (`None`: not installed and not required).
fn source() -> Option<&'static str> {
    static SRC: OnceLock<Option<String>> = OnceLock::new();
    SRC.get_or_init(|| {
        let path = axe_path();
        match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) if super::driver::required() => panic!(
                "axe-core not found at {} ({e}); run `npm install --prefix target/axe axe-core@4` (scripts/test.sh does) or set MADOGUCHI_AXE_JS",
                path.display()
            ),
            Err(e) => {
                eprintln!(
                    "\n*** ACCESSIBILITY CHECK SKIPPED *** axe-core not found at {} ({e}); run `npm install --prefix target/axe axe-core@4`\n",
                    path.display()
                );
                None
            }
        }
    })
    .as_deref()
}

const RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] })
  .then(r => done(r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      url: v.helpUrl,
      nodes: v.nodes.slice(0, 6).map(n => ({
        target: n.target.join(' '),
        html: n.html.slice(0, 160),
        summary: n.failureSummary,
      })),
    }))))
  .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), url: '', nodes: [] }]));
"#;

/// The serious and critical violations on the current page, one description each.
pub async fn violations(client: &Client) -> Vec<String> {
    let Some(src) = source() else {
        return Vec::new();
    };
    let loaded = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .expect("probe axe");
    if loaded != Value::Bool(true) {
        client
            .execute(&format!("{src}\nreturn true;"), vec![])
            .await
            .expect("inject axe-core");
    }
    let found = client.execute_async(RUN, vec![]).await.expect("run axe");
    found
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            let nodes: Vec<String> = v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| {
                    format!(
                        "      {} — {}\n        {}",
                        n["target"].as_str().unwrap_or_default(),
                        n["html"].as_str().unwrap_or_default(),
                        n["summary"]
                            .as_str()
                            .unwrap_or_default()
                            .replace('\n', "\n        ")
                    )
                })
                .collect();
            format!(
                "  [{}] {}: {} ({})\n{}",
                v["impact"].as_str().unwrap_or_default(),
                v["id"].as_str().unwrap_or_default(),
                v["help"].as_str().unwrap_or_default(),
                v["url"].as_str().unwrap_or_default(),
                nodes.join("\n")
            )
        })
        .collect()
}

/// Every serious or critical violation on the current page as one report, if any.
pub async fn check(client: &Client, name: &str) -> Option<String> {
    let found = violations(client).await;
    (!found.is_empty()).then(|| {
        format!(
            "accessibility (axe-core) on page {name}: {} serious or critical violation(s)\n{}",
            found.len(),
            found.join("\n")
        )
    })
}
