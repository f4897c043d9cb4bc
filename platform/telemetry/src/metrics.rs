//! Prometheus metrics of the server.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
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
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(evaluations.clone()))?;
        registry.register(Box::new(cache_environments.clone()))?;
        Ok(Metrics {
            registry,
            http_requests,
            http_duration,
            evaluations,
            cache_environments,
        })
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8(buffer).unwrap_or_default()
    }
}
