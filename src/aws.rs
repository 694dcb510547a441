//! The AWS SDK configuration the SQS queue and the KMS key provider share:
//! region and optional endpoint (a local stand-in such as moto_server) from our
//! settings, credentials from the standard AWS environment variables and profiles.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;

/// Loads the SDK configuration. `operation_timeout` bounds a whole call,
/// retries included (long polls need more than their wait time).
pub async fn sdk_config(
    region: &str,
    endpoint: Option<&url::Url>,
    operation_timeout: Duration,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_timeout(operation_timeout)
                .build(),
        );
    if let Some(endpoint) = endpoint {
        // Url adds a trailing slash to a bare origin; the SDK joins paths itself.
        loader = loader.endpoint_url(endpoint.as_str().trim_end_matches('/'));
    }
    loader.load().await
}

/// An SDK error with its whole chain of causes, on one line.
pub fn describe<E: std::error::Error>(error: &E) -> String {
    aws_sdk_sqs::error::DisplayErrorContext(error).to_string()
}
