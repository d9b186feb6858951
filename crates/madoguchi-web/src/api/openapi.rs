//! The OpenAPI 3.1 document of API v1, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Madoguchi API", version = "1", description = "福祉・介護・保健医療の申請・届出窓口 API。認証は `Authorization: Bearer <token>`（`madoguchi token issue <login>` で発行）。"),
    paths(
        super::me::get_me,
        super::procedures::list_procedures, super::procedures::get_procedure,
        super::establishments::list_establishments, super::establishments::get_establishment, super::establishments::get_corporation,
        super::filings::list_filings, super::filings::create_filing, super::filings::get_filing, super::filings::update_filing,
        super::filings::submit_filing, super::filings::withdraw_filing, super::filings::migrate_filing, super::local_rules::list_local_rules, super::filings::link_attachment,
        super::filings::upload_attachment, super::filings::download_attachment, super::submissions::create_submission,
        super::inbox::list_cases, super::cases::get_case, super::cases::accept_case, super::cases::return_case, super::cases::comment_case,
        super::cases::diff_case, super::cases::assign_case, super::inbox::bulk_accept, super::inbox::list_colleagues,
        super::inbox::list_saved_filters, super::inbox::create_saved_filter, super::inbox::delete_saved_filter,
        super::ledger::list_changes, super::ledger::export_establishments, super::ledger::export_cases,
        super::ledger::list_webhooks, super::ledger::create_webhook, super::ledger::update_webhook,
        super::ledger::list_deliveries, super::ledger::redeliver, super::ledger::import_establishments,
        // Authority admin (issue #4, workspace part B).
        super::admin::get_statistics, super::admin::list_rules, super::admin::get_draft, super::admin::edit_draft,
        super::admin::discard_draft, super::admin::preview_draft, super::admin::publish_draft,
        super::admin::list_staff, super::admin::create_staff, super::admin::update_staff,
        super::admin::get_details, super::admin::update_details, super::admin::code_tables,
        super::followup::get_receipt, super::followup::get_return_replies, super::followup::put_return_replies,
        super::followup::rate_filing, super::followup::list_notifications,
        super::batches::get_organisation, super::batches::create_change, super::batches::create_bulk, super::batches::get_batch,
        super::batches::submit_batch, super::batches::list_annex_sources, super::batches::copy_annex,
    ),
    modifiers(&BearerAuth, &StandardErrors),
    tags((name = "filings", description = "届出・申請（事業者）"), (name = "cases", description = "案件（自治体）"), (name = "ledger", description = "台帳連携（自治体）: 変更の取得、書き出し、Webhook、取り込み"), (name = "admin", description = "管理（自治体の管理者）: 統計、独自ルール、職員、自治体の情報"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Documents the refusals every operation can answer with, derived from the route table and
/// the request's shape rather than written by hand on each handler (so they cannot drift):
/// 401 without a valid bearer token and 403 for the wrong role (from the route's `Access`),
/// 400 for malformed bodies or query strings, 413 for bodies over the limit, 404 for unknown
/// or other tenants' objects, 429 where a rate limit applies. All are `ErrorBody` problems.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let table = crate::routes::table();
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                (axum::http::Method::GET, &mut item.get),
                (axum::http::Method::PUT, &mut item.put),
                (axum::http::Method::POST, &mut item.post),
                (axum::http::Method::DELETE, &mut item.delete),
                (axum::http::Method::PATCH, &mut item.patch),
            ];
            for (method, op) in ops {
                let Some(op) = op.as_mut() else { continue };
                let access = table
                    .iter()
                    .find(|r| r.method == method && r.path == path)
                    .map(|r| r.access);
                let params = op.parameters.as_deref().unwrap_or_default();
                let has = |place: ParameterIn| {
                    params.iter().any(|p| match p {
                        RefOr::T(p) => p.parameter_in == place,
                        RefOr::Ref(_) => false,
                    })
                };
                let mut statuses: Vec<(&str, &str)> = Vec::new();
                if access.is_some_and(|a| a.needs_actor()) {
                    statuses.push(("401", "No valid bearer token."));
                }
                if access.is_some_and(|a| {
                    !matches!(
                        a,
                        madoguchi_core::policy::Access::Public
                            | madoguchi_core::policy::Access::SignedIn
                    )
                }) {
                    statuses.push(("403", "The caller's role may not use this operation."));
                }
                if op.request_body.is_some() {
                    statuses.push((
                        "400",
                        "The body could not be read (malformed, wrong content type, NUL characters).",
                    ));
                    statuses.push(("413", "The body is too large."));
                }
                if has(ParameterIn::Query) || has(ParameterIn::Header) {
                    statuses.push(("400", "A query or header parameter is malformed."));
                }
                if has(ParameterIn::Path) {
                    statuses.push(("404", "No such object, or one the caller may not see."));
                }
                if crate::ratelimit::Class::of(&method, path).is_some() {
                    statuses.push(("429", "Rate limited; retry after `Retry-After` seconds."));
                }
                for (status, description) in statuses {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(description)
                                    .content(
                                        "application/json",
                                        ContentBuilder::new()
                                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                                            .build(),
                                    )
                                    .build(),
                            )
                        });
                }
            }
        }
    }
}

/// `GET /api/v1/openapi.json` (public).
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
