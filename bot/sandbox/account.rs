//! Which simulated account the sandbox is: its id and region, shown in the
//! ARNs and console links it makes up.

/// The demo's AWS account id.
pub const ACCOUNT_ID: &str = "123456789012";
/// The demo's region.
pub const REGION: &str = "eu-west-1";
