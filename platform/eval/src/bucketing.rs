//! Bucketing: entity id → bucket in `0..1000`, and a segment's distributions → variant windows.
//!
//! Invariants: windows are precomputed once per segment, in ascending variant id order, each owning
//! `[lo, hi)` with `hi` the running sum of `percent * 10`; the entity's window is the first with
//! `hi >= bucket + 1`, so zero-percent variants own nothing.
//! Rollout keeps an entity iff `100 * (bucket - lo) <= max(0, hi - lo - 1) * rollout` (100 always passes,
//! 0 never), so raising the rollout only adds entities.
//! Corrupt data never panics: percents and rollouts are clamped to `0..=100`, a bucket past the last window
//! gets no variant, and a window naming a variant the flag lacks is reported as dangling.

use crate::model::{Bucketing, SegmentConfig, VariantConfig};
use std::io::Read;

/// The bucket of an entity, in `0..1000`.
///
/// `murmur3`: `murmur3_x86_32(salt ++ ":" ++ entity_id, seed 0) % 1000`.
/// `flagr_crc32`: `crc32_ieee(salt ++ entity_id) % 1000`, where a Flagr import's salt is the decimal flag id.
pub fn bucket(bucketing: Bucketing, salt: &str, entity_id: &str) -> u32 {
    let hash = match bucketing {
        Bucketing::Murmur3 => {
            let mut input = salt.as_bytes().chain(&b":"[..]).chain(entity_id.as_bytes());
            // Invariant: reading from byte slices cannot fail, so the fallback is never taken.
            murmur3::murmur3_32(&mut input, 0).unwrap_or(0)
        }
        Bucketing::FlagrCrc32 => {
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(salt.as_bytes());
            hasher.update(entity_id.as_bytes());
            hasher.finalize()
        }
    };
    hash % 1000
}

/// The buckets one variant owns in a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Window {
    /// The variant id the distribution names.
    pub(crate) variant_id: i64,
    /// Its index in the flag's variants; `None` when the flag has no such variant.
    pub(crate) variant: Option<usize>,
    /// First bucket owned.
    pub(crate) lo: u64,
    /// One past the last bucket owned.
    pub(crate) hi: u64,
}

impl Window {
    /// Whether this window covers every bucket (the segment gives 100% to one variant).
    pub(crate) fn is_whole(&self) -> bool {
        self.hi.saturating_sub(self.lo) >= 1000
    }
}

/// A segment's precomputed split of buckets across variants, with its rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    windows: Vec<Window>,
    /// Clamped to `0..=100`.
    rollout: u64,
}

/// Where a bucket falls in a [`Split`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick<'w> {
    /// The entity gets the window's variant (index into the flag's variants).
    Variant(&'w Window, usize),
    /// The bucket is in the window but the rollout excludes the entity.
    Excluded(&'w Window),
    /// The window names a variant the flag does not have.
    Dangling(&'w Window),
    /// No window owns the bucket (no distributions, or percents summing to less than 100).
    Unowned,
}

impl Split {
    /// Precomputes the windows of a segment against the flag's variants.
    pub(crate) fn compile(segment: &SegmentConfig, variants: &[VariantConfig]) -> Split {
        let mut shares: Vec<(i64, u64)> = segment
            .distributions
            .iter()
            .map(|d| (d.variant_id, clamp_percent(d.percent)))
            .collect();
        shares.sort_by_key(|&(variant_id, _)| variant_id);
        let mut lo: u64 = 0;
        let windows = shares
            .into_iter()
            .map(|(variant_id, percent)| {
                let hi = lo.saturating_add(percent * 10);
                let window = Window {
                    variant_id,
                    variant: variants.iter().position(|v| v.id == variant_id),
                    lo,
                    hi,
                };
                lo = hi;
                window
            })
            .collect();
        Split {
            windows,
            rollout: clamp_percent(segment.rollout_percent),
        }
    }

    /// The rollout percent, clamped.
    pub(crate) fn rollout(&self) -> u64 {
        self.rollout
    }

    /// One past the last bucket any window owns.
    pub(crate) fn covered(&self) -> u64 {
        self.windows.last().map_or(0, |w| w.hi)
    }

    /// Whether the segment has no distributions at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Where `bucket` falls.
    pub(crate) fn pick(&self, bucket: u32) -> Pick<'_> {
        let bucket = u64::from(bucket);
        let at = self.windows.partition_point(|w| w.hi < bucket + 1);
        let Some(window) = self.windows.get(at) else {
            return Pick::Unowned;
        };
        let Some(variant) = window.variant else {
            return Pick::Dangling(window);
        };
        if passes_rollout(bucket, window, self.rollout) {
            Pick::Variant(window, variant)
        } else {
            Pick::Excluded(window)
        }
    }
}

/// Clamps a stored percent to `0..=100`.
fn clamp_percent(percent: i64) -> u64 {
    u64::try_from(percent.clamp(0, 100)).unwrap_or(0)
}

/// The rollout rule of `evaluation.md`.
fn passes_rollout(bucket: u64, window: &Window, rollout: u64) -> bool {
    match rollout {
        100.. => true,
        0 => false,
        _ => {
            let offset = bucket.saturating_sub(window.lo);
            let width = window.hi.saturating_sub(window.lo).saturating_sub(1);
            offset.saturating_mul(100) <= width.saturating_mul(rollout)
        }
    }
}
