//! Flag management routes (`/api/v1/flags…`, `/api/v1/tags`), wire-compatible with Flagr.

mod environments;
mod flag;
mod parts;
mod requests;

use actix_web::web::{self, ServiceConfig, delete, get, post, put};
pub(crate) use environments::*;
pub(crate) use flag::*;
pub(crate) use parts::*;

/// Registers the flag management routes under the `/api/v1` scope.
pub(crate) fn configure_flags(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/flags")
            .route(get().to(find_flags))
            .route(post().to(create_flag)),
    )
    .service(web::resource("/flags/entity_types").route(get().to(get_entity_types)))
    .service(
        web::resource("/flags/{flagID}")
            .route(get().to(get_flag))
            .route(put().to(put_flag))
            .route(delete().to(delete_flag)),
    )
    .service(web::resource("/flags/{flagID}/enabled").route(put().to(set_flag_enabled)))
    .service(web::resource("/flags/{flagID}/restore").route(put().to(restore_flag)))
    .service(web::resource("/flags/{flagID}/duplicate").route(post().to(duplicate_flag)))
    .service(web::resource("/flags/{flagID}/copy").route(post().to(copy_flag_between_environments)))
    .service(web::resource("/flags/{flagID}/compare").route(get().to(compare_flag_environments)))
    .service(web::resource("/flags/{flagID}/snapshots").route(get().to(get_flag_snapshots)))
    .service(
        web::resource("/flags/{flagID}/snapshots/{snapshotID}/restore")
            .route(post().to(restore_flag_snapshot)),
    )
    .service(
        web::resource("/flags/{flagID}/tags")
            .route(get().to(find_flag_tags))
            .route(post().to(create_flag_tag)),
    )
    .service(web::resource("/flags/{flagID}/tags/{tagID}").route(delete().to(delete_flag_tag)))
    .service(web::resource("/tags").route(get().to(find_all_tags)))
    .service(
        web::resource("/flags/{flagID}/variants")
            .route(get().to(find_variants))
            .route(post().to(create_variant)),
    )
    .service(
        web::resource("/flags/{flagID}/variants/{variantID}")
            .route(put().to(put_variant))
            .route(delete().to(delete_variant)),
    )
    .service(
        web::resource("/flags/{flagID}/segments")
            .route(get().to(find_segments))
            .route(post().to(create_segment)),
    )
    .service(web::resource("/flags/{flagID}/segments/reorder").route(put().to(reorder_segments)))
    .service(
        web::resource("/flags/{flagID}/segments/{segmentID}")
            .route(put().to(put_segment))
            .route(delete().to(delete_segment)),
    )
    .service(
        web::resource("/flags/{flagID}/segments/{segmentID}/constraints")
            .route(get().to(find_constraints))
            .route(post().to(create_constraint)),
    )
    .service(
        web::resource("/flags/{flagID}/segments/{segmentID}/constraints/{constraintID}")
            .route(put().to(put_constraint))
            .route(delete().to(delete_constraint)),
    )
    .service(
        web::resource("/flags/{flagID}/segments/{segmentID}/distributions")
            .route(get().to(find_distributions))
            .route(put().to(put_distributions)),
    );
}
