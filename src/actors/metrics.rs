//! The engine's Prometheus metrics (rendered by `GET /metrics`).

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
};

/// Latency buckets from 1 ms to 60 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

#[derive(Clone)]
pub struct EngineMetrics {
    pub registry: Registry,
    /// Time to accept a publish (validate + write), seconds.
    pub accept_latency: Histogram,
    /// From a task's creation to its success, seconds.
    pub publish_latency: Histogram,
    /// Platform calls by platform and outcome, seconds.
    pub platform_calls: HistogramVec,
    pub retries: IntCounter,
    /// Task transitions this process wrote, by the status reached. Counted as
    /// they happen, so a scrape never counts the tasks table.
    pub task_transitions: IntCounterVec,
    /// Token refreshes by result (`ok`, `revoked`, `failed`).
    pub refreshes: IntCounterVec,
    /// SQS messages by what happened to them (`sent`, `received`, `deleted`,
    /// `returned`, `malformed`).
    pub sqs_messages: IntCounterVec,
}

fn histogram(name: &str, help: &str) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(BUCKETS.to_vec()))
        .unwrap_or_else(|_| unreachable_metric())
}

/// Metric options above are constants; construction cannot fail at run time.
fn unreachable_metric<T>() -> T {
    panic!("invalid metric definition")
}

impl Default for EngineMetrics {
    fn default() -> Self {
        let registry = Registry::new();
        let metrics = Self {
            accept_latency: histogram(
                "prasaran_accept_latency_seconds",
                "Time to validate and durably accept a publish",
            ),
            publish_latency: histogram(
                "prasaran_publish_latency_seconds",
                "Time from a task's creation to its success on the platform",
            ),
            platform_calls: HistogramVec::new(
                HistogramOpts::new(
                    "prasaran_platform_call_seconds",
                    "Platform API calls by outcome",
                )
                .buckets(BUCKETS.to_vec()),
                &["platform", "outcome"],
            )
            .unwrap_or_else(|_| unreachable_metric()),
            retries: IntCounter::new(
                "prasaran_retries_total",
                "Task attempts scheduled for retry",
            )
            .unwrap_or_else(|_| unreachable_metric()),
            task_transitions: IntCounterVec::new(
                Opts::new(
                    "prasaran_task_transitions_total",
                    "Task state transitions written by this process, by the status reached",
                ),
                &["to"],
            )
            .unwrap_or_else(|_| unreachable_metric()),
            refreshes: IntCounterVec::new(
                Opts::new(
                    "prasaran_token_refreshes_total",
                    "Access token refreshes by result",
                ),
                &["result"],
            )
            .unwrap_or_else(|_| unreachable_metric()),
            sqs_messages: IntCounterVec::new(
                Opts::new(
                    "prasaran_sqs_messages_total",
                    "Task queue messages by what happened to them",
                ),
                &["event"],
            )
            .unwrap_or_else(|_| unreachable_metric()),
            registry,
        };
        for collector in [
            Box::new(metrics.accept_latency.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.publish_latency.clone()),
            Box::new(metrics.platform_calls.clone()),
            Box::new(metrics.retries.clone()),
            Box::new(metrics.task_transitions.clone()),
            Box::new(metrics.refreshes.clone()),
            Box::new(metrics.sqs_messages.clone()),
        ] {
            let _ = metrics.registry.register(collector);
        }
        metrics
    }
}

impl EngineMetrics {
    /// `n` tasks reached `to`.
    pub fn transitioned(&self, to: &str, n: u64) {
        if n > 0 {
            self.task_transitions.with_label_values(&[to]).inc_by(n);
        }
    }
}
