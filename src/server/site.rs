//! HTTP: server-rendered pages through leptos_axum, and the compiled site (JS, WASM, CSS,
//! favicon) with compression and cache headers. Socket.IO is layered in front by the caller.

use axum::Router;
use axum::http::{HeaderValue, header};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::ui::{App, shell};

use super::headers::{IMMUTABLE, REVALIDATE};
pub fn router(options: &LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let root = options.site_root.to_string();
    let pkg = options.site_pkg_dir.to_string();
    let pkg_cache = if options.hash_files {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let pkg_files = Router::new()
        .fallback_service(
            ServeDir::new(format!("{root}/{pkg}"))
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(pkg_cache),
        ));
    let other_files = ServeDir::new(&root)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(leptos_axum::ErrorHandler::new(shell, options.clone()));

    Router::new()
        .leptos_routes(options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .nest_service(&format!("/{pkg}"), pkg_files)
        .fallback_service(other_files)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static(REVALIDATE),
        ))
        // Compresses what has no precompressed twin (pages, and everything in dev builds).
        .layer(CompressionLayer::new())
        .with_state(options.clone())
}
