//! Prometheus metrics of the server.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The server's metrics and the registry that exposes them.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Requests by route, method and status.
    pub http_requests: IntCounterVec,
    /// Request latency by route and method, in seconds.
    pub http_duration: HistogramVec,
    /// Evaluations by reason.
    pub evaluations: IntCounterVec,
    /// Environments loaded in the evaluation cache.
    pub cache_environments: IntGauge,
    /// Seconds from another node announcing a configuration change to this node having applied it
    /// (loaded, or found already current).
    pub propagation: Histogram,
    /// Background job runs by job and outcome (`ok`, `failed`, `skipped` when another node holds the lease).
    pub job_runs: IntCounterVec,
    /// Background job run time by job, in seconds.
    pub job_duration: HistogramVec,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("flagent".to_owned()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                ],
            ),
            &["route", "method"],
        )?;
        let evaluations = IntCounterVec::new(
            Opts::new("evaluations_total", "Flag evaluations by reason"),
            &["reason"],
        )?;
        let cache_environments = IntGauge::new(
            "eval_cache_environments",
            "Environments loaded in the evaluation cache",
        )?;
        let propagation = Histogram::with_opts(
            HistogramOpts::new(
                "cluster_propagation_seconds",
                "From another node announcing a configuration change to this node having applied it",
            )
            .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0]),
        )?;
        let job_runs = IntCounterVec::new(
            Opts::new("job_runs_total", "Background job runs by job and outcome"),
            &["job", "outcome"],
        )?;
        let job_duration = HistogramVec::new(
            HistogramOpts::new("job_duration_seconds", "Background job run time")
                .buckets(vec![0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10.0, 60.0]),
            &["job"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(evaluations.clone()))?;
        registry.register(Box::new(cache_environments.clone()))?;
        registry.register(Box::new(propagation.clone()))?;
        registry.register(Box::new(job_runs.clone()))?;
        registry.register(Box::new(job_duration.clone()))?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            evaluations,
            cache_environments,
            propagation,
            job_runs,
            job_duration,
        })
    }

    /// Records how long an announced change took to reach this node, in seconds.
    pub fn observe_propagation(&self, seconds: f64) {
        self.propagation.observe(seconds);
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}
