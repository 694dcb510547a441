//! The SQS client of the task queue: batched sends, long-poll receives,
//! batched deletes and visibility changes.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};

use super::{QueueError, TaskMessage};
use crate::aws::{describe, sdk_config};
use crate::settings::SqsSettings;

/// SQS takes at most ten entries per batch call.
pub const BATCH: usize = 10;

/// A received message: its receipt (to delete or extend it) and its task, or
/// why its body is not one.
#[derive(Debug, Clone)]
pub struct Received {
    pub receipt: String,
    pub message: Result<TaskMessage, String>,
    pub receive_count: u32,
}

#[derive(Clone)]
pub struct TaskQueue {
    client: Client,
    url: String,
}

fn sqs_error<E: std::error::Error>(error: E) -> QueueError {
    QueueError::Sqs(describe(&error))
}

fn build_error(error: aws_sdk_sqs::error::BuildError) -> QueueError {
    QueueError::Sqs(error.to_string())
}

impl TaskQueue {
    /// A client for the configured queue (no call is made yet).
    pub async fn connect(settings: &SqsSettings) -> Result<Self, QueueError> {
        let url = settings
            .queue_url
            .as_ref()
            .ok_or_else(|| QueueError::Sqs("queue.sqs.queue_url is not set".into()))?;
        let timeout = Duration::from_secs(u64::from(settings.wait_time_secs) + 10);
        let config = sdk_config(&settings.region, settings.endpoint_url.as_ref(), timeout).await;
        Ok(Self {
            client: Client::new(&config),
            url: url.to_string(),
        })
    }

    /// Sends up to ten messages; returns the indexes SQS accepted.
    pub async fn send(&self, messages: &[TaskMessage]) -> Result<Vec<usize>, QueueError> {
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.encode())
                    .build()
                    .map_err(build_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent = self
            .client
            .send_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(sent
            .successful()
            .iter()
            .filter_map(|entry| entry.id().parse().ok())
            .collect())
    }

    /// Waits up to `wait` for at most `max` messages.
    pub async fn receive(&self, max: i32, wait: Duration) -> Result<Vec<Received>, QueueError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, BATCH as i32))
            .wait_time_seconds(i32::try_from(wait.as_secs()).unwrap_or(20).min(20))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(answer
            .messages()
            .iter()
            .filter_map(|m| {
                let receipt = m.receipt_handle()?.to_owned();
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                Some(Received {
                    receipt,
                    message: TaskMessage::decode(m.body().unwrap_or_default()),
                    receive_count,
                })
            })
            .collect())
    }

    /// Deletes up to ten messages by receipt.
    pub async fn delete(&self, receipts: &[String]) -> Result<(), QueueError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(r)
                    .build()
                    .map_err(build_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.client
            .delete_message_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }

    /// Sets up to ten messages' remaining invisibility (0 = visible again now).
    pub async fn set_visibility(
        &self,
        receipts: &[String],
        timeout: Duration,
    ) -> Result<(), QueueError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let secs = i32::try_from(timeout.as_secs())
            .unwrap_or(43_200)
            .min(43_200);
        let entries = receipts
            .iter()
            .enumerate()
            .map(|(i, r)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(r)
                    .visibility_timeout(secs)
                    .build()
                    .map_err(build_error)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.client
            .change_message_visibility_batch()
            .queue_url(&self.url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(())
    }

    /// Messages waiting in the queue (approximate); also proves it is reachable.
    pub async fn depth(&self) -> Result<i64, QueueError> {
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(sqs_error)?;
        Ok(answer
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }
}
