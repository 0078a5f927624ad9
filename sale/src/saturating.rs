//! Counts, instants and amounts as the signed 64-bit integers that SQL columns and Prometheus
//! gauges hold. A value past `i64::MAX` (no real count, millisecond instant or price reaches it)
//! is stored as `i64::MAX` rather than wrapping into a negative number or failing the write.

/// `value` as an `i64`, saturating at `i64::MAX`.
pub fn to_i64(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::to_i64;

    #[test]
    fn values_in_range_are_kept_and_larger_ones_saturate() {
        assert_eq!(to_i64(42_u64), 42);
        assert_eq!(to_i64(usize::MAX), i64::MAX);
        assert_eq!(to_i64(u64::MAX), i64::MAX);
        assert_eq!(to_i64(u128::from(u64::MAX) + 1), i64::MAX);
    }
}
