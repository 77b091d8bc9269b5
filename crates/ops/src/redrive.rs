//! Redrive: re-apply stream batches that Lambda gave up on.
//!
//! The event source mapping's `OnFailure` destination (an SQS queue) receives only batch
//! metadata: stream ARN, shard id and the sequence range, no item data. Within the stream's
//! 24-hour retention the records themselves can be read back from the shard; they are then
//! applied (by the CLI) through the same stream handler as the function's (per-key order,
//! sequence-guarded writes), so a redrive after newer records is stale-proof.

use dynamo_shadow_core::item::item_to_json;
use dynamo_shadow_store::{Op, Seq, SeqError, StoreError, StreamReader, StreamRecord};
use serde_json::{json, Value};

/// One failed batch, from an `OnFailure` message's `DDBStreamBatchInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    pub stream_arn: String,
    pub shard_id: String,
    pub start_sequence: String,
    pub end_sequence: String,
    pub batch_size: Option<u64>,
}

/// Why a redrive could not read a batch back. Codes and names only, never record content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedriveError {
    #[error("message {index}: {problem}")]
    Message { index: usize, problem: MessageProblem },
    #[error(
        "shard {shard}: the records are no longer in the stream (older than its 24-hour retention): run `dynamo-shadow verify --fix` instead"
    )]
    Trimmed { shard: String },
    #[error("shard {shard}: {error}")]
    Service { shard: String, error: StoreError },
}

/// What is wrong with one DLQ message (messages hold batch metadata, never item data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageProblem {
    #[error("line {line} is not JSON ({what})")]
    NotJson { line: usize, what: &'static str },
    #[error("no DDBStreamBatchInfo: not a DynamoDB stream OnFailure message")]
    NoBatchInfo,
    #[error("DDBStreamBatchInfo.{0} is missing")]
    Missing(&'static str),
    #[error(transparent)]
    Sequence(#[from] SeqError),
}

/// Reads the batches from DLQ input: one `OnFailure` message, an `aws sqs receive-message`
/// output (`{"Messages": [{"Body": "..."}]}`), or JSON Lines of either.
pub fn parse_messages(text: &str) -> Result<Vec<BatchInfo>, RedriveError> {
    let mut values: Vec<Value> = Vec::new();
    match serde_json::from_str::<Value>(text) {
        Ok(v) => values.push(v),
        Err(_) => {
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let v = serde_json::from_str(line).map_err(|e| RedriveError::Message {
                    index: i,
                    problem: MessageProblem::NotJson { line: i + 1, what: e.classify_name() },
                })?;
                values.push(v);
            }
        }
    }
    let mut bodies = Vec::new();
    for v in values {
        match v.get("Messages").and_then(Value::as_array) {
            Some(msgs) => {
                for m in msgs {
                    let body = m.get("Body").and_then(Value::as_str).unwrap_or("");
                    bodies.push(serde_json::from_str(body).unwrap_or(Value::Null));
                }
            }
            None => bodies.push(v),
        }
    }
    bodies.iter().enumerate().map(|(index, b)| batch_info(index, b)).collect()
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}

fn batch_info(index: usize, body: &Value) -> Result<BatchInfo, RedriveError> {
    let info =
        body.get("DDBStreamBatchInfo").ok_or(RedriveError::Message { index, problem: MessageProblem::NoBatchInfo })?;
    let field = |name: &'static str| -> Result<String, RedriveError> {
        info.get(name)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or(RedriveError::Message { index, problem: MessageProblem::Missing(name) })
    };
    let b = BatchInfo {
        stream_arn: field("streamArn")?,
        shard_id: field("shardId")?,
        start_sequence: field("startSequenceNumber")?,
        end_sequence: field("endSequenceNumber")?,
        batch_size: info.get("batchSize").and_then(Value::as_u64),
    };
    for s in [&b.start_sequence, &b.end_sequence] {
        Seq::parse(s).map_err(|e| RedriveError::Message { index, problem: e.into() })?;
    }
    Ok(b)
}

/// A Streams API record in the shape of a Lambda event record. An image with a type this
/// build does not know becomes an empty object, which the handler reports as failed.
pub fn event_record(r: &StreamRecord, stream_arn: &str) -> Value {
    let img = |m: &Option<Result<dynamo_shadow_core::Item, dynamo_shadow_store::UnknownType>>| match m {
        None => Value::Null,
        Some(Ok(i)) => item_to_json(i),
        Some(Err(_)) => json!({}),
    };
    let mut ddb = json!({
        "Keys": img(&r.keys),
        "SequenceNumber": r.sequence_number,
        "SizeBytes": r.size_bytes,
        "StreamViewType": r.stream_view_type,
        "ApproximateCreationDateTime": r.approximate_creation,
    });
    if r.new_image.is_some() {
        ddb["NewImage"] = img(&r.new_image);
    }
    if r.old_image.is_some() {
        ddb["OldImage"] = img(&r.old_image);
    }
    json!({
        "eventID": r.event_id,
        "eventName": r.event_name,
        "eventVersion": r.event_version,
        "eventSource": "aws:dynamodb",
        "awsRegion": r.aws_region,
        "eventSourceARN": stream_arn,
        "dynamodb": ddb,
    })
}

/// Reads one failed batch back from its shard: the records from `start` to `end` inclusive,
/// in stream order, as Lambda event records.
pub async fn read_batch<S: StreamReader>(store: &S, b: &BatchInfo) -> Result<Vec<Value>, RedriveError> {
    let service = |error: StoreError| {
        if error.code() == Some("TrimmedDataAccessException") {
            RedriveError::Trimmed { shard: b.shard_id.clone() }
        } else {
            RedriveError::Service { shard: b.shard_id.clone(), error }
        }
    };
    let end = Seq::parse(&b.end_sequence).expect("checked when parsed");
    let mut it = store.shard_iterator(&b.stream_arn, &b.shard_id, &b.start_sequence).await.map_err(service)?;
    let mut out = Vec::new();
    let mut empty_polls = 0;
    while let Some(iter) = it.take() {
        let page = store.records(&iter, 1000).await.map_err(service)?;
        for r in &page.records {
            match Seq::parse(r.sequence_number.as_deref().unwrap_or("")) {
                Ok(p) if p <= end => out.push(event_record(r, &b.stream_arn)),
                _ => return Ok(out),
            }
        }
        if b.batch_size.is_some_and(|n| out.len() as u64 >= n) {
            return Ok(out);
        }
        // An open shard returns empty pages at its tip: the range is complete.
        empty_polls = if page.records.is_empty() { empty_polls + 1 } else { 0 };
        if empty_polls >= 3 {
            return Ok(out);
        }
        it = page.next_iterator;
    }
    Ok(out)
}

/// The operation a redrive read failed in (for messages).
pub fn failed_op(e: &RedriveError) -> Option<Op> {
    match e {
        RedriveError::Service { error, .. } => Some(error.op),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = r#"{"requestContext":{"requestId":"r","functionArn":"arn:aws:lambda:us-east-1:1:function:f","condition":"RetryAttemptsExhausted","approximateInvokeCount":11},"version":"1.0","timestamp":"2026-11-25T00:00:00.000Z","DDBStreamBatchInfo":{"shardId":"shardId-1","startSequenceNumber":"100000000000000000001","endSequenceNumber":"100000000000000000009","approximateArrivalOfFirstRecord":"2026-11-25T00:00:00Z","approximateArrivalOfLastRecord":"2026-11-25T00:00:01Z","batchSize":3,"streamArn":"arn:aws:dynamodb:us-east-1:1:table/app/stream/2026"}}"#;

    #[test]
    fn parses_messages_in_every_accepted_shape() {
        let one = parse_messages(MSG).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].shard_id, "shardId-1");
        assert_eq!(one[0].batch_size, Some(3));
        let sqs = json!({"Messages": [{"Body": MSG}, {"Body": MSG}]}).to_string();
        assert_eq!(parse_messages(&sqs).unwrap().len(), 2);
        let lines = format!("{MSG}\n\n{MSG}\n");
        assert_eq!(parse_messages(&lines).unwrap().len(), 2);
    }

    #[test]
    fn bad_messages_say_what_is_wrong() {
        let e = parse_messages(r#"{"hello": 1}"#).unwrap_err().to_string();
        assert!(e.contains("DDBStreamBatchInfo"), "{e}");
        let e = parse_messages(&MSG.replace("100000000000000000009", "12x")).unwrap_err().to_string();
        assert!(e.contains("SequenceNumber"), "{e}");
        let e = parse_messages("{not json\n").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("syntax"), "{e}");
    }
}
