//! The actix-web HTTP adapter: routes, extractors, DTOs and the API error table.
