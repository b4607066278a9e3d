//! Logging set-up: level and format come from Lambda's own settings
//! (`AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT=JSON` from the template's
//! `LoggingConfig`), `RUST_LOG` elsewhere. The runtime opens a span per
//! invocation carrying the request id, so every line has it.

pub fn init() {
    lambda_http::tracing::init_default_subscriber();
}
