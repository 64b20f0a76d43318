//! Capacity units: DynamoDB provisions whole units, so every "how many units does this rate
//! need" goes through the one ceiling here, which ignores float noise (84 / 0.7 is 120, not 121).

/// Float noise below this is ignored when rounding a rate up to whole units.
pub const UNIT_EPSILON: f64 = 1e-9;

/// Smallest whole number of units >= `x`, ignoring float noise; 0 for anything not a positive
/// finite number.
pub fn ceil_units(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        (x - UNIT_EPSILON).ceil().max(0.0) as u64
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_up_but_not_float_noise() {
        assert_eq!(ceil_units(84.0 / 0.7), 120);
        assert_eq!(ceil_units(120.000_001), 121);
        assert_eq!(ceil_units(0.2), 1);
        assert_eq!(ceil_units(0.0), 0);
        assert_eq!(ceil_units(-3.0), 0);
        assert_eq!(ceil_units(f64::NAN), 0);
        assert_eq!(ceil_units(f64::INFINITY), 0);
    }
}
