//! The property that justifies the sequential test, checked by a deterministic simulation: in A/A
//! experiments looked at many times, the always-valid p-value drops below alpha in at most about
//! an alpha share of them, while the naive fixed-horizon test repeated at every look does so far
//! more often.
//!
//! The random numbers come from a small SplitMix64 generator with a fixed seed (here, in the test
//! only; the crate itself never draws random numbers), turned into normal draws by Box–Muller.

use flagent_stats::{Estimate, Moments, mixing_variance, msprt, sequential_over, z_test};

const EXPERIMENTS: usize = 2_000;
const LOOKS: usize = 30;
/// New entities per variant between looks, so the last look sees 600 per variant.
const PER_LOOK: usize = 20;
const ALPHA: f64 = 0.05;

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny generator that is ample for a simulation.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw strictly inside (0, 1), from the top 53 bits.
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Two independent standard normal draws by the Box–Muller transform.
    fn normal_pair(&mut self) -> (f64, f64) {
        let radius = (-2.0 * self.uniform().ln()).sqrt();
        let angle = std::f64::consts::TAU * self.uniform();
        (radius * angle.cos(), radius * angle.sin())
    }
}

/// One A/A experiment: whether the sequential and the naive test ever rejected.
fn experiment(rng: &mut SplitMix64, tau_sq: f64) -> (bool, bool) {
    let (mut control, mut treatment) = (Moments::default(), Moments::default());
    let mut looks = Vec::with_capacity(LOOKS);
    let (mut sequential, mut naive) = (false, false);
    for _ in 0..LOOKS {
        for _ in 0..PER_LOOK {
            let (a, b) = rng.normal_pair();
            control.add(a);
            treatment.add(b);
        }
        let c = Estimate::mean_of(&control).expect("control estimate");
        let t = Estimate::mean_of(&treatment).expect("treatment estimate");
        let (diff, variance) = (t.mean - c.mean, c.variance + t.variance);
        looks.push((diff, variance));
        sequential |= msprt(diff, variance, tau_sq, ALPHA).expect("msprt").p_value < ALPHA;
        naive |= z_test(&c, &t, ALPHA).expect("z test").p_value < ALPHA;
    }
    // The running answer agrees with the looks one by one: an empty intersection can only
    // happen after some look excluded the true difference of 0, that is after a rejection.
    match sequential_over(&looks, tau_sq, ALPHA) {
        Some(running) => assert_eq!(running.p_value < ALPHA, sequential),
        None => assert!(sequential, "empty intersection without a rejection"),
    }
    (sequential, naive)
}

#[test]
fn always_valid_p_values_control_the_error_under_continuous_monitoring() {
    let horizon = (LOOKS * PER_LOOK) as f64;
    let tau_sq = mixing_variance(1.0, horizon, ALPHA).expect("mixing variance");
    let mut rng = SplitMix64(0x0123_4567_89AB_CDEF);
    let (mut sequential, mut naive) = (0usize, 0usize);
    for _ in 0..EXPERIMENTS {
        let (s, n) = experiment(&mut rng, tau_sq);
        sequential += usize::from(s);
        naive += usize::from(n);
    }
    let sequential_rate = sequential as f64 / EXPERIMENTS as f64;
    let naive_rate = naive as f64 / EXPERIMENTS as f64;
    println!("false positives: msprt {sequential_rate}, repeated z test {naive_rate}");
    assert!(
        sequential_rate <= 0.06,
        "msprt rejected {sequential_rate} of A/A experiments"
    );
    assert!(
        naive_rate > 0.10,
        "the repeated z test rejected only {naive_rate}, so the simulation is not peeking enough"
    );
}
