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
        super::filings::submit_filing, super::filings::withdraw_filing, super::filings::link_attachment,
        super::filings::upload_attachment, super::filings::download_attachment,
        super::cases::list_cases, super::cases::get_case, super::cases::accept_case, super::cases::return_case, super::cases::comment_case,
    ),
    modifiers(&BearerAuth),
    tags((name = "filings", description = "届出・申請（事業者）"), (name = "cases", description = "案件（自治体）"))
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

/// `GET /api/v1/openapi.json` (public).
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
