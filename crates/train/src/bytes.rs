//! Sizes and counts in messages: a data set, a network or a run that needs more memory or
//! disk than there is is refused with how much it needs, in a unit that shows the number;
//! counts of rows are grouped in thousands.

/// A count grouped in thousands: `10,000,000`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thousands(pub u64);

impl std::fmt::Display for Thousands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.0.to_string();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A size in bytes, displayed as `12.3 GB`, `450 MB`, `3.1 kB` or `5.2e11 GB`: never
/// `0.0 GB` for a few megabytes, nor a 20-digit figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bytes(pub f64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes = self.0;
        if bytes >= 1e15 {
            write!(f, "{:.1e} GB", bytes / 1e9)
        } else if bytes >= 1e9 {
            write!(f, "{:.1} GB", bytes / 1e9)
        } else if bytes >= 1e6 {
            write!(f, "{:.0} MB", bytes / 1e6)
        } else if bytes >= 1e3 {
            write!(f, "{:.1} kB", bytes / 1e3)
        } else {
            write!(f, "{bytes:.0} bytes")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_in_thousands() {
        let shown: Vec<String> = [0, 7, 999, 1000, 65536, 10_000_000, u64::MAX]
            .iter()
            .map(|&n| Thousands(n).to_string())
            .collect();
        assert_eq!(
            shown,
            [
                "0",
                "7",
                "999",
                "1,000",
                "65,536",
                "10,000,000",
                "18,446,744,073,709,551,615"
            ]
        );
    }

    #[test]
    fn sizes_are_read_in_a_unit_that_shows_them() {
        let shown = |b: f64| Bytes(b).to_string();
        assert_eq!(shown(0.0), "0 bytes");
        assert_eq!(shown(3_100.0), "3.1 kB");
        assert_eq!(shown(450e6), "450 MB");
        assert_eq!(shown(12.34e9), "12.3 GB");
        assert_eq!(shown(5.2e20), "5.2e11 GB");
    }
}
