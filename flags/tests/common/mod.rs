//! What the flags crate's service-boundary tests share.

use flagent_flags::NewFlag;
use flagent_types::FlagKey;

/// A flag with the `boolean` template (`on` and `off`), keyed `key`.
pub(crate) fn new_flag(key: &str) -> NewFlag {
    NewFlag {
        key: Some(FlagKey::parse(key).expect("a valid flag key")),
        description: format!("{key} flag"),
        template: Some("boolean".to_owned()),
        bucketing: None,
        salt: None,
    }
}
