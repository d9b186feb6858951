//! Every route of the application, in one table, each with its authorization policy
//! ([`Access`]). The router is built from this table only, so a route cannot exist without a
//! policy; `enforce` applies it before the handler runs (401 / sign-in redirect for no actor,
//! 403 for the wrong role) and checks the CSRF token of every state-changing page form.
//! Object-level rules (whose filing, whose case) are applied by the use cases through
//! `madoguchi_core::policy`.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use madoguchi_core::policy::Access;

use crate::error::AppError;
use crate::state::AppState;
use crate::{api, pages};

/// Which face of the application a route belongs to (decides how refusals look).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// JSON API: bearer token; refusals are JSON problems.
    Api,
    /// HTML pages: session cookie; refusals are pages or a sign-in redirect.
    Page,
}

/// One route: method, path (axum syntax), policy, surface, and its handler.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    pub surface: Surface,
    /// Body limit in bytes beyond the default (uploads).
    pub large_body: bool,
    make: fn() -> MethodRouter<AppState>,
}

const fn spec(
    method: Method,
    path: &'static str,
    access: Access,
    surface: Surface,
    make: fn() -> MethodRouter<AppState>,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        surface,
        large_body: false,
        make,
    }
}

/// The table.
pub fn table() -> Vec<RouteSpec> {
    use Access::*;
    use Surface::*;
    let mut t = vec![
        // Public.
        spec(Method::GET, "/healthz", Public, Api, || get(crate::healthz)),
        spec(Method::GET, "/api/v1/openapi.json", Public, Api, || {
            get(api::openapi::openapi_json)
        }),
        spec(Method::GET, "/", Public, Page, || get(pages::home::home)),
        spec(Method::GET, "/login", Public, Page, || {
            get(pages::home::login_page)
        }),
        spec(Method::POST, "/login/demo", Public, Page, || {
            post(pages::home::demo_login)
        }),
        // Provider sign-in by OpenID Connect (pages::oidc; checks in madoguchi_core::auth::oidc).
        spec(Method::GET, "/login/oidc", Public, Page, || {
            get(pages::oidc::start)
        }),
        spec(Method::GET, "/login/oidc/callback", Public, Page, || {
            get(pages::oidc::callback)
        }),
        // Staff sign-in: password, then TOTP or a recovery code (pages::staff_login).
        spec(Method::GET, "/login/password", Public, Page, || {
            get(pages::staff_login::password_page)
        }),
        spec(Method::POST, "/login/password", Public, Page, || {
            post(pages::staff_login::password_submit)
        }),
        spec(Method::GET, "/login/totp", Public, Page, || {
            get(pages::staff_login::totp_page)
        }),
        spec(Method::POST, "/login/totp", Public, Page, || {
            post(pages::staff_login::totp_submit)
        }),
        spec(Method::GET, "/about", Public, Page, || {
            get(pages::home::about)
        }),
        spec(Method::GET, "/accessibility", Public, Page, || {
            get(pages::home::accessibility)
        }),
        // API v1.
        spec(Method::GET, "/api/v1/me", SignedIn, Api, || {
            get(api::me::get_me)
        }),
        spec(Method::GET, "/api/v1/procedures", SignedIn, Api, || {
            get(api::procedures::list_procedures)
        }),
        spec(
            Method::GET,
            "/api/v1/procedures/{id}",
            SignedIn,
            Api,
            || get(api::procedures::get_procedure),
        ),
        spec(Method::GET, "/api/v1/corporation", Provider, Api, || {
            get(api::establishments::get_corporation)
        }),
        spec(
            Method::GET,
            "/api/v1/establishments",
            CaseParty,
            Api,
            || get(api::establishments::list_establishments),
        ),
        spec(
            Method::GET,
            "/api/v1/establishments/{id}",
            CaseParty,
            Api,
            || get(api::establishments::get_establishment),
        ),
        spec(Method::GET, "/api/v1/filings", Provider, Api, || {
            get(api::filings::list_filings)
        }),
        spec(Method::POST, "/api/v1/filings", Provider, Api, || {
            post(api::filings::create_filing)
        }),
        spec(Method::GET, "/api/v1/filings/{id}", Provider, Api, || {
            get(api::filings::get_filing)
        }),
        spec(Method::PUT, "/api/v1/filings/{id}", Provider, Api, || {
            put(api::filings::update_filing)
        }),
        spec(
            Method::POST,
            "/api/v1/filings/{id}/submit",
            Provider,
            Api,
            || post(api::filings::submit_filing),
        ),
        spec(
            Method::POST,
            "/api/v1/filings/{id}/migrate",
            Provider,
            Api,
            || post(api::filings::migrate_filing),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/local-rules",
            Public,
            Api,
            || get(api::local_rules::list_local_rules),
        ),
        spec(Method::GET, "/local-rules", Public, Page, || {
            get(pages::local_rules::index)
        }),
        spec(
            Method::GET,
            "/authorities/{code}/local-rules",
            Public,
            Page,
            || get(pages::local_rules::authority),
        ),
        spec(
            Method::POST,
            "/api/v1/filings/{id}/withdraw",
            Provider,
            Api,
            || post(api::filings::withdraw_filing),
        ),
        spec(
            Method::POST,
            "/api/v1/filings/{id}/attachments",
            Provider,
            Api,
            || post(api::filings::link_attachment),
        ),
        RouteSpec {
            large_body: true,
            ..spec(Method::POST, "/api/v1/attachments", CaseParty, Api, || {
                post(api::filings::upload_attachment)
            })
        },
        RouteSpec {
            large_body: true,
            ..spec(Method::POST, "/api/v1/submissions", Provider, Api, || {
                post(api::submissions::create_submission)
            })
        },
        spec(
            Method::GET,
            "/api/v1/attachments/{id}",
            CaseParty,
            Api,
            || get(api::filings::download_attachment),
        ),
        spec(Method::GET, "/api/v1/cases", AuthorityStaff, Api, || {
            get(api::inbox::list_cases)
        }),
        spec(
            Method::GET,
            "/api/v1/cases/{id}",
            AuthorityStaff,
            Api,
            || get(api::cases::get_case),
        ),
        spec(
            Method::POST,
            "/api/v1/cases/{id}/accept",
            AuthorityStaff,
            Api,
            || post(api::cases::accept_case),
        ),
        spec(
            Method::POST,
            "/api/v1/cases/{id}/return",
            AuthorityStaff,
            Api,
            || post(api::cases::return_case),
        ),
        spec(
            Method::POST,
            "/api/v1/cases/{id}/comments",
            CaseParty,
            Api,
            || post(api::cases::comment_case),
        ),
        // Authority workspace API (api::inbox, api::cases).
        spec(
            Method::GET,
            "/api/v1/cases/{id}/diff",
            AuthorityStaff,
            Api,
            || get(api::cases::diff_case),
        ),
        spec(
            Method::POST,
            "/api/v1/cases/{id}/assign",
            AuthorityStaff,
            Api,
            || post(api::cases::assign_case),
        ),
        spec(
            Method::POST,
            "/api/v1/cases/bulk-accept",
            AuthorityStaff,
            Api,
            || post(api::inbox::bulk_accept),
        ),
        spec(
            Method::GET,
            "/api/v1/colleagues",
            AuthorityStaff,
            Api,
            || get(api::inbox::list_colleagues),
        ),
        spec(
            Method::GET,
            "/api/v1/saved-filters",
            AuthorityStaff,
            Api,
            || get(api::inbox::list_saved_filters),
        ),
        spec(
            Method::POST,
            "/api/v1/saved-filters",
            AuthorityStaff,
            Api,
            || post(api::inbox::create_saved_filter),
        ),
        spec(
            Method::DELETE,
            "/api/v1/saved-filters/{id}",
            AuthorityStaff,
            Api,
            || delete(api::inbox::delete_saved_filter),
        ),
        // Ledger linkage (api::ledger): feed and exports for staff, webhooks and import for admins.
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/changes",
            AuthorityStaff,
            Api,
            || get(api::ledger::list_changes),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/exports/establishments",
            AuthorityStaff,
            Api,
            || get(api::ledger::export_establishments),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/exports/cases",
            AuthorityStaff,
            Api,
            || get(api::ledger::export_cases),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/webhooks",
            AuthorityAdmin,
            Api,
            || get(api::ledger::list_webhooks),
        ),
        spec(
            Method::POST,
            "/api/v1/authorities/{code}/webhooks",
            AuthorityAdmin,
            Api,
            || post(api::ledger::create_webhook),
        ),
        spec(
            Method::PUT,
            "/api/v1/authorities/{code}/webhooks/{id}",
            AuthorityAdmin,
            Api,
            || put(api::ledger::update_webhook),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/webhooks/{id}/deliveries",
            AuthorityAdmin,
            Api,
            || get(api::ledger::list_deliveries),
        ),
        spec(
            Method::POST,
            "/api/v1/authorities/{code}/webhook-deliveries/{id}/redeliver",
            AuthorityAdmin,
            Api,
            || post(api::ledger::redeliver),
        ),
        RouteSpec {
            large_body: true,
            ..spec(
                Method::POST,
                "/api/v1/authorities/{code}/imports/establishments",
                AuthorityAdmin,
                Api,
                || post(api::ledger::import_establishments),
            )
        },
        spec(Method::GET, "/ledger", AuthorityStaff, Page, || {
            get(pages::ledger::show)
        }),
        spec(
            Method::GET,
            "/ledger/exports/establishments",
            AuthorityStaff,
            Page,
            || get(pages::ledger::export_establishments),
        ),
        spec(
            Method::GET,
            "/ledger/exports/cases",
            AuthorityStaff,
            Page,
            || get(pages::ledger::export_cases),
        ),
        spec(
            Method::POST,
            "/ledger/webhooks",
            AuthorityAdmin,
            Page,
            || post(pages::ledger::create_webhook),
        ),
        spec(
            Method::POST,
            "/ledger/webhooks/{id}/active",
            AuthorityAdmin,
            Page,
            || post(pages::ledger::set_webhook_active),
        ),
        spec(
            Method::POST,
            "/ledger/deliveries/{id}/redeliver",
            AuthorityAdmin,
            Page,
            || post(pages::ledger::redeliver),
        ),
        RouteSpec {
            large_body: true,
            ..spec(Method::POST, "/ledger/import", AuthorityAdmin, Page, || {
                post(pages::ledger::import_ledger)
            })
        },
        // Pages.
        spec(Method::POST, "/logout", SignedIn, Page, || {
            post(pages::home::logout)
        }),
        spec(Method::GET, "/filings", Provider, Page, || {
            get(pages::tracking::list)
        }),
        spec(Method::POST, "/filings", Provider, Page, || {
            post(pages::filings::create)
        }),
        spec(Method::GET, "/filings/new", Provider, Page, || {
            get(pages::filings::new_form)
        }),
        spec(Method::GET, "/filings/{id}", Provider, Page, || {
            get(pages::filing_detail::detail)
        }),
        spec(Method::POST, "/filings/{id}", Provider, Page, || {
            post(pages::filings::save)
        }),
        spec(Method::GET, "/filings/{id}/edit", Provider, Page, || {
            get(pages::filings::edit)
        }),
        spec(Method::POST, "/filings/{id}/submit", Provider, Page, || {
            post(pages::filings::submit)
        }),
        spec(
            Method::POST,
            "/filings/{id}/migrate",
            Provider,
            Page,
            || post(pages::filings::migrate),
        ),
        spec(
            Method::POST,
            "/filings/{id}/withdraw",
            Provider,
            Page,
            || post(pages::withdraw::submit),
        ),
        RouteSpec {
            large_body: true,
            ..spec(
                Method::POST,
                "/filings/{id}/attachments",
                Provider,
                Page,
                || post(pages::filings::upload),
            )
        },
        spec(Method::GET, "/attachments/{id}", CaseParty, Page, || {
            get(pages::filings::download)
        }),
        // Provider portal part A (pages::{my, batches, bulk, drafts}, api::batches): マイページ,
        // change once file everywhere, 一括申請, batches of drafts, autosave, copying a 付表.
        spec(Method::GET, "/api/v1/organisation", Provider, Api, || {
            get(api::batches::get_organisation)
        }),
        spec(Method::POST, "/api/v1/changes", Provider, Api, || {
            post(api::batches::create_change)
        }),
        spec(Method::POST, "/api/v1/bulk-filings", Provider, Api, || {
            post(api::batches::create_bulk)
        }),
        spec(Method::GET, "/api/v1/batches/{id}", Provider, Api, || {
            get(api::batches::get_batch)
        }),
        spec(
            Method::POST,
            "/api/v1/batches/{id}/submit",
            Provider,
            Api,
            || post(api::batches::submit_batch),
        ),
        spec(
            Method::GET,
            "/api/v1/filings/{id}/annex-sources",
            Provider,
            Api,
            || get(api::batches::list_annex_sources),
        ),
        spec(
            Method::POST,
            "/api/v1/filings/{id}/copy-annex",
            Provider,
            Api,
            || post(api::batches::copy_annex),
        ),
        spec(Method::GET, "/my", Provider, Page, || get(pages::my::show)),
        spec(Method::GET, "/my/changes/new", Provider, Page, || {
            get(pages::my::change_form)
        }),
        spec(Method::POST, "/my/changes", Provider, Page, || {
            post(pages::my::prepare_change)
        }),
        spec(Method::GET, "/batches/{id}", Provider, Page, || {
            get(pages::batches::show)
        }),
        spec(Method::POST, "/batches/{id}/submit", Provider, Page, || {
            post(pages::batches::submit_all)
        }),
        RouteSpec {
            large_body: true,
            ..spec(
                Method::POST,
                "/batches/{id}/attachments",
                Provider,
                Page,
                || post(pages::batches::upload),
            )
        },
        spec(Method::GET, "/batches/{id}/answers", Provider, Page, || {
            get(pages::bulk::answers)
        }),
        spec(
            Method::POST,
            "/batches/{id}/answers",
            Provider,
            Page,
            || post(pages::bulk::save_answers),
        ),
        spec(Method::GET, "/bulk/new", Provider, Page, || {
            get(pages::bulk::new_form)
        }),
        spec(Method::POST, "/bulk", Provider, Page, || {
            post(pages::bulk::start)
        }),
        spec(
            Method::POST,
            "/filings/{id}/autosave",
            Provider,
            Page,
            || post(pages::drafts::autosave),
        ),
        spec(
            Method::GET,
            "/filings/{id}/copy-annex",
            Provider,
            Page,
            || get(pages::drafts::copy_annex_form),
        ),
        spec(
            Method::POST,
            "/filings/{id}/copy-annex",
            Provider,
            Page,
            || post(pages::drafts::copy_annex),
        ),
        spec(
            Method::POST,
            "/filings/{id}/attachments/remove",
            Provider,
            Page,
            || post(pages::drafts::remove_file),
        ),
        // End of provider portal part A.
        // Authority workspace: inbox, case view, decisions (pages::inbox, case_view, decisions).
        spec(Method::GET, "/inbox", AuthorityStaff, Page, || {
            get(pages::inbox::inbox)
        }),
        spec(Method::POST, "/inbox/filters", AuthorityStaff, Page, || {
            post(pages::inbox::save_filter)
        }),
        spec(
            Method::POST,
            "/inbox/filters/{id}/delete",
            AuthorityStaff,
            Page,
            || post(pages::inbox::delete_filter),
        ),
        spec(
            Method::POST,
            "/inbox/bulk-accept",
            AuthorityStaff,
            Page,
            || post(pages::decisions::bulk_accept),
        ),
        spec(Method::GET, "/cases/{id}", AuthorityStaff, Page, || {
            get(pages::case_view::detail)
        }),
        spec(
            Method::GET,
            "/cases/{id}/diff",
            AuthorityStaff,
            Page,
            || get(pages::case_view::diff),
        ),
        spec(
            Method::GET,
            "/attachments/{id}/preview",
            CaseParty,
            Page,
            || get(pages::case_view::preview),
        ),
        spec(
            Method::POST,
            "/cases/{id}/accept",
            AuthorityStaff,
            Page,
            || post(pages::decisions::accept),
        ),
        spec(
            Method::POST,
            "/cases/{id}/return",
            AuthorityStaff,
            Page,
            || post(pages::decisions::return_case),
        ),
        spec(
            Method::POST,
            "/cases/{id}/assign",
            AuthorityStaff,
            Page,
            || post(pages::decisions::assign),
        ),
        spec(
            Method::POST,
            "/cases/{id}/comments",
            AuthorityStaff,
            Page,
            || post(pages::decisions::comment),
        ),
        // Provider portal, part B (issue #4): receipt and satisfaction, withdrawal with a
        // confirmation step, notifications and their e-mail settings; API alongside.
        spec(Method::GET, "/filings/{id}/receipt", Provider, Page, || {
            get(pages::receipt::show)
        }),
        spec(
            Method::POST,
            "/filings/{id}/satisfaction",
            Provider,
            Page,
            || post(pages::receipt::rate),
        ),
        spec(
            Method::GET,
            "/filings/{id}/withdraw",
            Provider,
            Page,
            || get(pages::withdraw::form),
        ),
        spec(Method::GET, "/notifications", Provider, Page, || {
            get(pages::notifications::list)
        }),
        spec(Method::POST, "/notifications/open", Provider, Page, || {
            post(pages::notifications::open)
        }),
        spec(Method::POST, "/notifications/read", Provider, Page, || {
            post(pages::notifications::mark_read)
        }),
        spec(
            Method::GET,
            "/settings/notifications",
            Provider,
            Page,
            || get(pages::notifications::settings),
        ),
        spec(
            Method::POST,
            "/settings/notifications",
            Provider,
            Page,
            || post(pages::notifications::save_settings),
        ),
        spec(
            Method::GET,
            "/api/v1/filings/{id}/receipt",
            Provider,
            Api,
            || get(api::followup::get_receipt),
        ),
        spec(
            Method::GET,
            "/api/v1/filings/{id}/return-replies",
            Provider,
            Api,
            || get(api::followup::get_return_replies),
        ),
        spec(
            Method::PUT,
            "/api/v1/filings/{id}/return-replies",
            Provider,
            Api,
            || put(api::followup::put_return_replies),
        ),
        spec(
            Method::POST,
            "/api/v1/filings/{id}/satisfaction",
            Provider,
            Api,
            || post(api::followup::rate_filing),
        ),
        spec(Method::GET, "/api/v1/notifications", Provider, Api, || {
            get(api::followup::list_notifications)
        }),
        // The form set of a case (pages::form_set): print view and .xlsx, for both parties;
        // madoguchi_core::cases::form_set applies the object rule.
        spec(Method::GET, "/cases/{id}/form", CaseParty, Page, || {
            get(pages::form_set::show)
        }),
        spec(
            Method::GET,
            "/cases/{id}/form.xlsx",
            CaseParty,
            Page,
            || get(pages::form_set::xlsx),
        ),
    ];
    t.extend(authority_admin_routes());
    t.sort_by_key(|s| (s.path, s.method.to_string()));
    t
}

/// Authority admin (issue #4, workspace part B): the 「管理」 pages (`pages::admin`) and their
/// API (`api::admin`). The use cases check that the admin belongs to the authority.
fn authority_admin_routes() -> Vec<RouteSpec> {
    use Access::*;
    use Surface::*;
    vec![
        spec(Method::GET, "/admin", AuthorityAdmin, Page, || {
            get(pages::admin::index)
        }),
        spec(Method::GET, "/admin/staff", AuthorityAdmin, Page, || {
            get(pages::admin::staff::list)
        }),
        spec(Method::POST, "/admin/staff", AuthorityAdmin, Page, || {
            post(pages::admin::staff::create)
        }),
        spec(
            Method::GET,
            "/admin/staff/{id}",
            AuthorityAdmin,
            Page,
            || get(pages::admin::staff::member),
        ),
        spec(
            Method::POST,
            "/admin/staff/{id}/role",
            AuthorityAdmin,
            Page,
            || post(pages::admin::staff::set_role),
        ),
        spec(
            Method::POST,
            "/admin/staff/{id}/disabled",
            AuthorityAdmin,
            Page,
            || post(pages::admin::staff::set_disabled),
        ),
        spec(
            Method::POST,
            "/admin/staff/{id}/second-factor",
            AuthorityAdmin,
            Page,
            || post(pages::admin::staff::reset_second_factor),
        ),
        spec(
            Method::POST,
            "/admin/staff/{id}/password",
            AuthorityAdmin,
            Page,
            || post(pages::admin::staff::set_password),
        ),
        spec(
            Method::GET,
            "/admin/local-rules",
            AuthorityAdmin,
            Page,
            || get(pages::admin::local_rules::overview),
        ),
        spec(
            Method::GET,
            "/admin/local-rules/{procedure}",
            AuthorityAdmin,
            Page,
            || get(pages::admin::local_rules::editor),
        ),
        spec(
            Method::POST,
            "/admin/local-rules/{procedure}/edit",
            AuthorityAdmin,
            Page,
            || post(pages::admin::local_rules::edit),
        ),
        spec(
            Method::POST,
            "/admin/local-rules/{procedure}/publish",
            AuthorityAdmin,
            Page,
            || post(pages::admin::local_rules::publish),
        ),
        spec(
            Method::POST,
            "/admin/local-rules/{procedure}/discard",
            AuthorityAdmin,
            Page,
            || post(pages::admin::local_rules::discard),
        ),
        spec(
            Method::GET,
            "/admin/local-rules/{procedure}/preview",
            AuthorityAdmin,
            Page,
            || get(pages::admin::preview::show),
        ),
        spec(
            Method::POST,
            "/admin/local-rules/{procedure}/preview",
            AuthorityAdmin,
            Page,
            || post(pages::admin::preview::check),
        ),
        spec(Method::GET, "/admin/master", AuthorityAdmin, Page, || {
            get(pages::admin::master::show)
        }),
        spec(
            Method::POST,
            "/admin/master/authority",
            AuthorityAdmin,
            Page,
            || post(pages::admin::master::save),
        ),
        spec(
            Method::GET,
            "/admin/statistics",
            AuthorityAdmin,
            Page,
            || get(pages::admin::statistics::show),
        ),
        spec(
            Method::GET,
            "/admin/statistics/download",
            AuthorityAdmin,
            Page,
            || get(pages::admin::statistics::download),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/statistics",
            AuthorityAdmin,
            Api,
            || get(api::admin::get_statistics),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/admin/local-rules",
            AuthorityAdmin,
            Api,
            || get(api::admin::list_rules),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/local-rules/{procedure}/draft",
            AuthorityAdmin,
            Api,
            || get(api::admin::get_draft),
        ),
        spec(
            Method::POST,
            "/api/v1/authorities/{code}/local-rules/{procedure}/draft",
            AuthorityAdmin,
            Api,
            || post(api::admin::edit_draft),
        ),
        spec(
            Method::DELETE,
            "/api/v1/authorities/{code}/local-rules/{procedure}/draft",
            AuthorityAdmin,
            Api,
            || delete(api::admin::discard_draft),
        ),
        spec(
            Method::POST,
            "/api/v1/authorities/{code}/local-rules/{procedure}/preview",
            AuthorityAdmin,
            Api,
            || post(api::admin::preview_draft),
        ),
        spec(
            Method::POST,
            "/api/v1/authorities/{code}/local-rules/{procedure}/publish",
            AuthorityAdmin,
            Api,
            || post(api::admin::publish_draft),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/staff",
            AuthorityAdmin,
            Api,
            || get(api::admin::list_staff),
        ),
        spec(
            Method::POST,
            "/api/v1/authorities/{code}/staff",
            AuthorityAdmin,
            Api,
            || post(api::admin::create_staff),
        ),
        spec(
            Method::PUT,
            "/api/v1/authorities/{code}/staff/{id}",
            AuthorityAdmin,
            Api,
            || put(api::admin::update_staff),
        ),
        spec(
            Method::GET,
            "/api/v1/authorities/{code}/details",
            AuthorityAdmin,
            Api,
            || get(api::admin::get_details),
        ),
        spec(
            Method::PUT,
            "/api/v1/authorities/{code}/details",
            AuthorityAdmin,
            Api,
            || put(api::admin::update_details),
        ),
        spec(Method::GET, "/api/v1/code-tables", SignedIn, Api, || {
            get(api::admin::code_tables)
        }),
    ]
}

/// Builds the router from the table, each route wrapped in its policy.
pub fn build(state: &AppState) -> Router<AppState> {
    let upload_limit = state.app.config.max_upload_bytes as usize + 64 * 1024;
    let mut router = Router::new();
    for s in table() {
        let limit = if s.large_body {
            upload_limit
        } else {
            state.web.max_json_bytes
        };
        let route = (s.make)()
            .layer(DefaultBodyLimit::max(limit))
            .route_layer(from_fn_with_state(
                Guard {
                    state: state.clone(),
                    access: s.access,
                    surface: s.surface,
                },
                enforce,
            ));
        router = router.route(s.path, route);
    }
    router
}

#[derive(Clone)]
struct Guard {
    state: AppState,
    access: Access,
    surface: Surface,
}

/// Applies a route's policy: resolves the actor once (handlers reuse it), refuses missing or
/// wrong-role actors, and checks the CSRF token of urlencoded page forms.
async fn enforce(State(g): State<Guard>, req: Request, next: Next) -> Response {
    if !g.access.needs_actor() {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let refused = |e: AppError| match g.surface {
        Surface::Api => e.into_response(),
        Surface::Page => pages::error_page(e),
    };
    match g.surface {
        Surface::Api => {
            let actor = match <crate::auth::ApiActor as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &g.state).await {
                Ok(a) => a.0,
                Err(e) => return e.into_response(),
            };
            if !g.access.permits(&actor) {
                return refused(AppError::Forbidden(
                    "この操作を行う権限がありません。".into(),
                ));
            }
            parts.extensions.insert(actor);
            next.run(Request::from_parts(parts, body)).await
        }
        Surface::Page => {
            let session = match <crate::auth::SignedIn as axum::extract::FromRequestParts<
                AppState,
            >>::from_request_parts(&mut parts, &g.state)
            .await
            {
                Ok(s) => s.0,
                Err(_) => {
                    // A refusal like any other (logged), answered with the way to sign in.
                    AppError::Unauthorized.log();
                    return Redirect::to("/login").into_response();
                }
            };
            if !g.access.permits(&session.actor) {
                return refused(AppError::Forbidden(
                    "このページを利用する権限がありません。".into(),
                ));
            }
            let is_form = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            let body = if parts.method != Method::GET
                && parts.method != Method::HEAD
                && !is_multipart(&parts)
            {
                // Every state-changing form must carry the session's CSRF token.
                let bytes = match axum::body::to_bytes(body, g.state.web.max_json_bytes).await {
                    Ok(b) => b,
                    Err(_) => return refused(AppError::PayloadTooLarge),
                };
                let token = if is_form { form_token(&bytes) } else { None };
                if let Err(e) = pages::check_csrf(&session, token.as_deref().unwrap_or("")) {
                    tracing::warn!(path = %parts.uri.path(), "CSRF token missing or wrong");
                    return refused(e);
                }
                Body::from(bytes)
            } else {
                body
            };
            parts.extensions.insert(session);
            next.run(Request::from_parts(parts, body)).await
        }
    }
}

/// Multipart forms (uploads) carry their CSRF token as a part; the upload handler checks it.
fn is_multipart(parts: &axum::http::request::Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

fn form_token(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_html_form::from_bytes(body).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_declared_once() {
        let t = table();
        let mut seen = std::collections::BTreeSet::new();
        for s in &t {
            assert!(
                seen.insert((s.method.to_string(), s.path)),
                "{} {} declared twice",
                s.method,
                s.path
            );
            assert!(s.path.starts_with('/'));
            if s.surface == Surface::Api && s.path != "/healthz" {
                assert!(
                    s.path.starts_with("/api/v1/"),
                    "{} is on the API surface",
                    s.path
                );
            }
        }
    }
}
