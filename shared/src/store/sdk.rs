//! SDK errors in domain terms, and transactions with their cancellation
//! reasons (which item's condition failed, or whether another transaction
//! got in the way). Also the SDK's HTTPS client.

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_dynamodb::Client;

use crate::error::Error;

/// The HTTPS client every SDK client uses (each init builds one): hyper and
/// rustls over ring.
/// Not the SDK's default (rustls over aws-lc): aws-lc-sys's C build was the
/// longest step of a fresh build (about 100 s of a 2-core machine's first
/// `make dev`), and ring serves TLS to AWS endpoints as well.
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
];
const UNAVAILABLE: &[&str] = &["InternalServerError", "ServiceUnavailable", "InternalFailure"];

/// Classifies an SDK error that no condition explains: throttling → 429,
/// timeouts and outages → 503, anything else → 500 (logged, not shown).
pub fn classify<E, R>(err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Error::Unavailable(Box::new(err))
        }
        SdkError::ServiceError(_) if code.as_deref().is_some_and(|c| THROTTLING.contains(&c)) => Error::Throttled,
        SdkError::ServiceError(_) if code.as_deref().is_some_and(|c| UNAVAILABLE.contains(&c)) => {
            Error::Unavailable(Box::new(err))
        }
        _ => Error::Internal(Box::new(err)),
    }
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TransactError {
    /// A condition failed: the index of each failing item in the request.
    ConditionFailed(Vec<usize>),
    /// Every attempt collided with another transaction on the same items.
    Contended,
    Other(Error),
}

impl From<TransactError> for Error {
    /// The generic meaning, for callers with nothing more specific to say.
    fn from(err: TransactError) -> Self {
        match err {
            TransactError::ConditionFailed(_) | TransactError::Contended => {
                Error::Contended("the resource was changed by other requests throughout the server's retries".into())
            }
            TransactError::Other(e) => e,
        }
    }
}

const TRANSACT_ATTEMPTS: u32 = 5;

/// Runs `TransactWriteItems`; retries (with jittered back-off) only when it
/// was cancelled by a conflicting transaction and no condition failed.
pub async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Result<(), TransactError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        match transaction_outcome(result) {
            Err(TransactError::Contended) if attempt < TRANSACT_ATTEMPTS => tokio::time::sleep(backoff(attempt)).await,
            outcome => return outcome,
        }
    }
}

/// One `TransactWriteItems` the client gives up on, however the SDK
/// retries it, `within` of sending it (connect 1 s, each attempt at most
/// 2 s): for a write whose items carry the moment they land (the feed's
/// events). A conflict is [`TransactError::Contended`], not retried here:
/// a retry must read the moment again.
pub async fn transact_within(
    client: &Client,
    items: Vec<TransactWriteItem>,
    within: Duration,
) -> Result<(), TransactError> {
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(within.min(Duration::from_secs(2)))
        .operation_timeout(within)
        .build();
    let result = client
        .transact_write_items()
        .set_transact_items(Some(items))
        .customize()
        .config_override(aws_sdk_dynamodb::config::Builder::new().timeout_config(timeouts))
        .send()
        .await;
    transaction_outcome(result)
}

/// What one `TransactWriteItems` came to: done, a condition failed, a
/// conflict with another transaction (`Contended`), or another error.
fn transaction_outcome<R>(
    result: Result<R, SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>>,
) -> Result<(), TransactError> {
    let err = match result {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    let reasons: Vec<Option<String>> = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().map(str::to_owned))
            .collect(),
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => {
            vec![Some("TransactionConflict".into())]
        }
        _ => return Err(TransactError::Other(classify(err))),
    };
    let failed: Vec<usize> = reasons
        .iter()
        .enumerate()
        .filter(|(_, code)| code.as_deref() == Some("ConditionalCheckFailed"))
        .map(|(i, _)| i)
        .collect();
    if !failed.is_empty() {
        return Err(TransactError::ConditionFailed(failed));
    }
    if reasons
        .iter()
        .flatten()
        .any(|c| c == "ThrottlingError" || c == "ProvisionedThroughputExceeded")
    {
        return Err(TransactError::Other(Error::Throttled));
    }
    let conflicted = reasons.iter().flatten().any(|c| c == "TransactionConflict");
    if !conflicted {
        return Err(TransactError::Other(classify(err)));
    }
    Err(TransactError::Contended)
}

/// 10, 20, 40, 80 ms, each with up to 100% jitter.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = 10u64 << (attempt - 1).min(4);
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos(),
    ) % base.max(1);
    Duration::from_millis(base + jitter)
}

/// Whether a conditional single-item write happened (`false`: its condition
/// failed); any other failure is classified.
pub fn applied<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, Error>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if is_condition_failed(&e) => Ok(false),
        Err(e) => Err(classify(e)),
    }
}

/// Whether a single-item write failed its condition.
pub fn is_condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

/// Settles a write whose answer never came (a timeout, a broken
/// connection): it may have committed all the same. `landed` reads back
/// what the write makes and tells whether the table shows it; if it does,
/// the caller hears of the change it made rather than a 503 that invites a
/// retry of it (a retried create would make a second one). Anything else,
/// a failed read included, keeps `error`. Only for [`Error::Unavailable`]:
/// every other failure is an answer.
pub async fn settle(
    error: Error,
    what: &str,
    landed: impl std::future::Future<Output = Result<bool, Error>>,
) -> Result<(), Error> {
    if !matches!(error, Error::Unavailable(_)) {
        return Err(error);
    }
    match landed.await {
        Ok(true) => {
            tracing::warn!(
                write = what,
                "the answer to a write was lost; the table shows it committed"
            );
            Ok(())
        }
        Ok(false) | Err(_) => Err(error),
    }
}
