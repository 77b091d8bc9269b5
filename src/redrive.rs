//! Redrive: re-apply stream batches that Lambda gave up on.
//!
//! The event source mapping's `OnFailure` destination (an SQS queue) receives only batch
//! metadata: stream ARN, shard id and the sequence range, no item data. Within the stream's
//! 24-hour retention the records themselves can be read back from the shard; they are then
//! applied through the same [`StreamHandler`](crate::StreamHandler) as the function's (per-key
//! order, sequence-guarded writes), so a redrive after newer records is stale-proof.

use aws_sdk_dynamodbstreams::types::{AttributeValue as StreamValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use serde_json::{json, Value};

use crate::item::{item_to_json, AttributeValue, Item};
use crate::store::{error_code, pad_sequence};

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
    #[error("message {index}: {reason}")]
    Message { index: usize, reason: String },
    #[error(
        "shard {shard}: the records are no longer in the stream (older than its 24-hour retention): run `dynamo-shadow verify --fix` instead"
    )]
    Trimmed { shard: String },
    #[error("{op} on shard {shard} failed: {code}")]
    Service { op: &'static str, shard: String, code: String },
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
                    reason: format!("line {} is not JSON ({})", i + 1, e.classify_name()),
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
    let info = body.get("DDBStreamBatchInfo").ok_or_else(|| RedriveError::Message {
        index,
        reason: "no DDBStreamBatchInfo: not a DynamoDB stream OnFailure message".into(),
    })?;
    let field = |name: &str| -> Result<String, RedriveError> {
        info.get(name)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| RedriveError::Message { index, reason: format!("DDBStreamBatchInfo.{name} is missing") })
    };
    let b = BatchInfo {
        stream_arn: field("streamArn")?,
        shard_id: field("shardId")?,
        start_sequence: field("startSequenceNumber")?,
        end_sequence: field("endSequenceNumber")?,
        batch_size: info.get("batchSize").and_then(Value::as_u64),
    };
    for s in [&b.start_sequence, &b.end_sequence] {
        pad_sequence(s).map_err(|reason| RedriveError::Message { index, reason })?;
    }
    Ok(b)
}

fn value(v: &StreamValue) -> Option<AttributeValue> {
    Some(match v {
        StreamValue::S(s) => AttributeValue::S(s.clone()),
        StreamValue::N(n) => AttributeValue::N(n.clone()),
        StreamValue::B(b) => AttributeValue::B(b.as_ref().to_vec()),
        StreamValue::Bool(b) => AttributeValue::Bool(*b),
        StreamValue::Null(n) => AttributeValue::Null(*n),
        StreamValue::Ss(s) => AttributeValue::Ss(s.clone()),
        StreamValue::Ns(s) => AttributeValue::Ns(s.clone()),
        StreamValue::Bs(s) => AttributeValue::Bs(s.iter().map(|b| b.as_ref().to_vec()).collect()),
        StreamValue::M(m) => AttributeValue::M(image(m)?),
        StreamValue::L(l) => AttributeValue::L(l.iter().map(value).collect::<Option<_>>()?),
        _ => return None,
    })
}

fn image(m: &std::collections::HashMap<String, StreamValue>) -> Option<Item> {
    m.iter().map(|(k, v)| Some((k.clone(), value(v)?))).collect()
}

/// A Streams API record in the shape of a Lambda event record. An image with a type this
/// build does not know becomes an empty object, which the handler reports as failed.
pub fn event_record(r: &Record, stream_arn: &str) -> Value {
    let d = r.dynamodb();
    let img = |m: Option<&std::collections::HashMap<String, StreamValue>>| match m {
        None => Value::Null,
        Some(m) => image(m).map_or(json!({}), |i| item_to_json(&i)),
    };
    let mut ddb = json!({
        "Keys": img(d.and_then(|d| d.keys())),
        "SequenceNumber": d.and_then(|d| d.sequence_number()),
        "SizeBytes": d.and_then(|d| d.size_bytes()),
        "StreamViewType": d.and_then(|d| d.stream_view_type()).map(|v| v.as_str().to_string()),
        "ApproximateCreationDateTime": d.and_then(|d| d.approximate_creation_date_time()).map(|t| t.as_secs_f64()),
    });
    if let Some(n) = d.and_then(|d| d.new_image()) {
        ddb["NewImage"] = img(Some(n));
    }
    if let Some(o) = d.and_then(|d| d.old_image()) {
        ddb["OldImage"] = img(Some(o));
    }
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str().to_string()),
        "eventVersion": r.event_version(),
        "eventSource": r.event_source().unwrap_or("aws:dynamodb"),
        "awsRegion": r.aws_region(),
        "eventSourceARN": stream_arn,
        "dynamodb": ddb,
    })
}

/// Reads one failed batch back from its shard: the records from `start` to `end` inclusive,
/// in stream order, as Lambda event records.
pub async fn read_batch(client: &Client, b: &BatchInfo) -> Result<Vec<Value>, RedriveError> {
    let service = |op: &'static str, code: String| {
        if code == "TrimmedDataAccessException" {
            RedriveError::Trimmed { shard: b.shard_id.clone() }
        } else {
            RedriveError::Service { op, shard: b.shard_id.clone(), code }
        }
    };
    let end = pad_sequence(&b.end_sequence).expect("checked when parsed");
    let mut it = client
        .get_shard_iterator()
        .stream_arn(&b.stream_arn)
        .shard_id(&b.shard_id)
        .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
        .sequence_number(&b.start_sequence)
        .send()
        .await
        .map_err(|e| service("GetShardIterator", error_code(&e)))?
        .shard_iterator()
        .map(String::from);
    let mut out = Vec::new();
    let mut empty_polls = 0;
    while let Some(iter) = it.take() {
        let page = client
            .get_records()
            .shard_iterator(iter)
            .limit(1000)
            .send()
            .await
            .map_err(|e| service("GetRecords", error_code(&e)))?;
        let records = page.records();
        for r in records {
            let seq = r.dynamodb().and_then(|d| d.sequence_number()).unwrap_or("");
            match pad_sequence(seq) {
                Ok(p) if p <= end => out.push(event_record(r, &b.stream_arn)),
                _ => return Ok(out),
            }
        }
        if b.batch_size.is_some_and(|n| out.len() as u64 >= n) {
            return Ok(out);
        }
        // An open shard returns empty pages at its tip: the range is complete.
        empty_polls = if records.is_empty() { empty_polls + 1 } else { 0 };
        if empty_polls >= 3 {
            return Ok(out);
        }
        it = page.next_shard_iterator().map(String::from);
    }
    Ok(out)
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
