//! Helpers of `iam_policies.rs`: the SDK's operations and the scan of fleetid's sources.

pub mod scan;
pub mod sdk;
