//! Logging setup, the request root span and the Prometheus registry.
