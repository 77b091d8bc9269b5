//! Clients for a local DynamoDB-compatible endpoint (moto's server, started by `make test`
//! on a loopback port): fixed region and dummy credentials, so no AWS account is involved.

use dynamo_shadow_store::{sdk_config, DynamoSdk, Timeouts};

/// The endpoint `make test` started, if any (`DYNAMO_SHADOW_TEST_ENDPOINT`). Panics when
/// `DYNAMO_SHADOW_REQUIRE_ENDPOINT` is set but the endpoint is not, so `make test` can never
/// pass by skipping the tests against the real endpoint.
pub fn test_endpoint() -> Option<String> {
    match std::env::var("DYNAMO_SHADOW_TEST_ENDPOINT") {
        Ok(e) => Some(e),
        Err(_) => {
            if std::env::var_os("DYNAMO_SHADOW_REQUIRE_ENDPOINT").is_some() {
                panic!("DYNAMO_SHADOW_TEST_ENDPOINT is not set but DYNAMO_SHADOW_REQUIRE_ENDPOINT is");
            }
            eprintln!("skipped: DYNAMO_SHADOW_TEST_ENDPOINT not set (run `make test`)");
            None
        }
    }
}

/// The SDK configuration for a local endpoint.
pub async fn local_config(endpoint: &str) -> aws_config::SdkConfig {
    let base = sdk_config(3, Timeouts::CLI).await;
    base.into_builder()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "local"),
        ))
        .build()
}

/// A DynamoDB client for a local endpoint.
pub async fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&local_config(endpoint).await)
}

/// The store over a local endpoint (DynamoDB and Streams).
pub async fn local_store(endpoint: &str) -> DynamoSdk {
    let conf = local_config(endpoint).await;
    DynamoSdk::from_conf(&conf)
}
