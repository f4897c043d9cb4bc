//! The hosted admin UI: what each page shows (view models filled in by `flagent-web`'s page
//! handlers), the askama templates that render them, and the static assets the pages load.
//!
//! Invariants: templates escape every value (askama's HTML escaping; nothing is marked safe), pages
//! carry no inline script and no style attributes, so the Content-Security-Policy allows scripts and
//! styles from the server only (and the one `<style>` element per page that carries the response's
//! nonce, for environment colours). Every control that changes data is rendered only for viewers whose
//! role allows the change, and submits to the JSON API, which checks the role again.

mod assets;
mod constraints;
mod crashes;
mod experiment;
mod funnel;
mod history;
mod metrics;
mod results;
mod roles;
mod settings;
mod sso;
#[cfg(test)]
mod testing;
mod time;
mod usage;
mod views;

pub use assets::{Asset, asset, asset_version};
pub use constraints::*;
pub use crashes::*;
pub use experiment::*;
pub use funnel::*;
pub use history::*;
pub use metrics::*;
pub use results::*;
pub use roles::*;
pub use settings::*;
pub use sso::*;
pub use time::{Moment, grouped, relative};
pub use usage::*;
pub use views::*;
