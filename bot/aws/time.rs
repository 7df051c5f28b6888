//! The one time conversion every gateway shares: an SDK timestamp to our
//! [`Time`] (UTC). A leaf: the gateways import it, it imports none of them.

use opsbot_commands::ports::Time;

/// An SDK timestamp in UTC; `None` stays `None` (never "now").
pub(crate) fn utc(time: Option<&aws_smithy_types::DateTime>) -> Option<Time> {
    let time = time?;
    chrono::DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_times_become_utc_with_their_fraction() {
        let at = aws_smithy_types::DateTime::from_fractional_secs(1_763_812_800, 0.25);
        let utc = utc(Some(&at)).unwrap();
        assert_eq!(utc.to_rfc3339(), "2025-11-22T12:00:00.250+00:00");
        assert_eq!(super::utc(None), None);
    }
}
