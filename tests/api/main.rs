//! Tenancy at the boundary its users see: HTTP status, headers, bodies, and
//! what is in the table afterwards. One test binary; one DynamoDB Local.

mod helpers;

mod authorization;
mod capacity;
mod change_events;
mod cleanup;
mod concurrency;
mod create;
mod deployments;
mod docs;
mod events;
mod fault_injection;
mod faults;
mod feed;
mod fuzz;
mod hierarchy;
mod history;
mod idempotency;
mod identity_claims;
mod identity_providers;
mod lifecycle;
mod list;
mod members;
mod openapi;
mod problem_codes;
mod queries;
mod read;
mod requests;
mod security_access;
mod security_cursors;
mod security_limits;
mod security_roles;
mod statuses;
mod subtenants;
mod template;
mod update;
mod workspace;
