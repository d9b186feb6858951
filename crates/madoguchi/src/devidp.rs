//! The development OpenID provider (`madoguchi-devidp`) as the binary uses it: mounted under
//! `/dev-idp` by `serve --demo`, or served alone by `madoguchi dev-idp`. The product's relying
//! party talks to it over HTTP like to any provider; nothing in the product knows it.

use madoguchi_core::config::Secret;
use madoguchi_devidp::{DevIdp, DevIdpConfig, RegisteredClient};

use crate::config::Config;

/// Where `serve --demo` mounts the provider.
pub const MOUNT: &str = "/dev-idp";
/// The client id the demo registers for itself.
pub const DEMO_CLIENT_ID: &str = "madoguchi-demo";

/// The callback of this server, as registered at the provider.
pub fn callback_url(config: &Config) -> String {
    format!("{}/login/oidc/callback", config.base_url())
}

/// A random client secret (the demo's, generated at each start).
fn random_secret() -> anyhow::Result<String> {
    Ok(madoguchi_core::auth::random_secret()?)
}

/// Demo mode: creates the development provider for this server and, unless an issuer is
/// configured explicitly, points the relying party at it (issuer `<base_url>/dev-idp`, a
/// client registered with a fresh secret). Returns the provider (tests tune it) and the
/// router to mount beside the application.
pub fn mount_for_demo(config: &mut Config) -> anyhow::Result<(DevIdp, axum::Router)> {
    let issuer = format!("{}{MOUNT}", config.base_url());
    let client = if config.oidc.enabled() {
        tracing::warn!(
            issuer = %config.oidc.issuer,
            "demo mode with an explicitly configured OpenID provider: the development provider is mounted at {MOUNT} but not used"
        );
        RegisteredClient {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: random_secret()?,
            redirect_uris: vec![callback_url(config)],
        }
    } else {
        let secret = random_secret()?;
        config.oidc.issuer = issuer.clone();
        config.oidc.client_id = DEMO_CLIENT_ID.into();
        config.oidc.client_secret = Secret::new(secret.clone());
        config.oidc.redirect_uri = callback_url(config);
        RegisteredClient {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: secret,
            redirect_uris: vec![config.oidc.redirect_uri.clone()],
        }
    };
    let idp = DevIdp::new(DevIdpConfig {
        issuer,
        clients: vec![client],
    });
    let router = axum::Router::new().nest(MOUNT, idp.router());
    Ok((idp, router))
}

/// `madoguchi dev-idp`: the provider alone on `addr`, registering the client of `[oidc]`
/// (client id, secret and redirect URI; missing ones are made up and printed).
pub async fn serve_alone(
    config: &Config,
    addr: &str,
    issuer: Option<String>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let issuer = issuer.unwrap_or_else(|| format!("http://{local}"));
    let client_id = match config.oidc.client_id.trim() {
        "" => "madoguchi-dev".to_string(),
        id => id.to_string(),
    };
    let (secret, generated) = if config.oidc.client_secret.is_empty() {
        (random_secret()?, true)
    } else {
        (config.oidc.client_secret.expose().to_string(), false)
    };
    let redirect = match config.oidc.redirect_uri.trim() {
        "" => callback_url(config),
        r => r.to_string(),
    };
    let idp = DevIdp::new(DevIdpConfig {
        issuer: issuer.clone(),
        clients: vec![RegisteredClient {
            client_id: client_id.clone(),
            client_secret: secret.clone(),
            redirect_uris: vec![redirect.clone()],
        }],
    });
    println!("開発用 OpenID プロバイダー（本番では使えません）: {issuer}");
    println!("窓口の設定（[oidc]）:");
    println!("  issuer = \"{issuer}\"");
    println!("  client_id = \"{client_id}\"");
    if generated {
        println!("  client_secret = \"{secret}\"   # 起動ごとに生成");
    } else {
        println!("  client_secret = （設定ファイルのもの）");
    }
    println!("  redirect_uri = \"{redirect}\"");
    madoguchi_devidp::serve(idp, listener, crate::server::shutdown_signal()).await?;
    Ok(())
}
