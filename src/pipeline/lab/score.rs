//! Lighthouse's performance scoring: each metric's log-normal curve and the
//! weighted category score. Pure arithmetic, no I/O.
//!
//! Constants are Lighthouse 12.8.2's (the last 12.x release): the mobile
//! control points in `core/audits/metrics/*.js` (`defaultOptions.mobile`),
//! the weights in `core/config/default-config.js`, the curve in
//! `shared/statistics.js`, the 90+ boost and two-decimal rounding in
//! `shared/util.js` (`computeLogNormalScore`), `core/audits/audit.js` and
//! `core/scoring.js` (`arithmeticMean`). Re-implemented here from the
//! published description of those formulas.

use serde::{Deserialize, Serialize};

/// Which Lighthouse these curves and weights come from; shown next to the score.
pub const LIGHTHOUSE_VERSION: &str = "12.8.2";

/// A metric's two control points: the value that scores 0.9 and the one that scores 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ControlPoints {
    pub p10: f64,
    pub median: f64,
}

/// The five weighted metrics of Lighthouse 12's performance category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricId {
    Fcp,
    Si,
    Lcp,
    Tbt,
    Cls,
}

impl MetricId {
    pub const ALL: [MetricId; 5] = [Self::Fcp, Self::Si, Self::Lcp, Self::Tbt, Self::Cls];

    /// Mobile control points (milliseconds, CLS unitless).
    pub fn mobile_control_points(self) -> ControlPoints {
        let (p10, median) = match self {
            Self::Fcp => (1800.0, 3000.0),
            Self::Si => (3387.0, 5800.0),
            Self::Lcp => (2500.0, 4000.0),
            Self::Tbt => (200.0, 600.0),
            Self::Cls => (0.1, 0.25),
        };
        ControlPoints { p10, median }
    }

    /// Weight in the performance category (they sum to 100).
    pub fn weight(self) -> f64 {
        match self {
            Self::Fcp | Self::Si => 10.0,
            Self::Lcp | Self::Cls => 25.0,
            Self::Tbt => 30.0,
        }
    }
}

/// Abramowitz and Stegun 7.1.26, the approximation Lighthouse uses; its
/// error (about 1.5e-7) is far below the two-decimal rounding of scores.
fn erf(x: f64) -> f64 {
    let sign = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

/// The share of a log-normal distribution above `value`: 1 at 0, 0.9 at the
/// p10 point, 0.5 at the median. Clamped into the band the value falls in so
/// the control points map exactly (floating error must not turn a pass into
/// an average). Control points must satisfy `0 < p10 < median`.
pub fn log_normal_score(cp: ControlPoints, value: f64) -> f64 {
    if value <= 0.0 {
        return 1.0;
    }
    // The closest double to erfc⁻¹(1/5).
    const INVERSE_ERFC_ONE_FIFTH: f64 = 0.906_193_802_436_823_2;
    let x_log_ratio = (value / cp.median).max(f64::MIN_POSITIVE).ln();
    let p10_log_ratio = -(cp.p10 / cp.median).max(f64::MIN_POSITIVE).ln();
    let standardized = x_log_ratio * INVERSE_ERFC_ONE_FIFTH / p10_log_ratio;
    let complementary = (1.0 - erf(standardized)) / 2.0;
    // The largest doubles below 0.9 and 0.5.
    let below_09 = f64::from_bits(0.9f64.to_bits() - 1);
    let below_05 = f64::from_bits(0.5f64.to_bits() - 1);
    if value <= cp.p10 {
        complementary.clamp(0.9, 1.0)
    } else if value <= cp.median {
        complementary.clamp(0.5, below_09)
    } else {
        complementary.clamp(0.0, below_05)
    }
}

/// A metric's audit score as Lighthouse reports it: the curve, a boost that
/// stretches (0.9, 1] to (0.9, 1.005] so a perfect 1 is reachable, floored to
/// two decimals, then rounded to two decimals.
pub fn metric_score(cp: ControlPoints, value: f64) -> f64 {
    let mut p = log_normal_score(cp, value);
    if p > 0.9 {
        p += 0.05 * (p - 0.9);
    }
    round2((p * 100.0).floor() / 100.0)
}

fn round2(v: f64) -> f64 {
    // JavaScript's Math.round rounds halves up; scores are never negative.
    (v * 100.0 + 0.5).floor() / 100.0
}

/// Each metric's audit score, 0..=1 in steps of 0.01.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricScores {
    pub fcp: f64,
    pub si: f64,
    pub lcp: f64,
    pub tbt: f64,
    pub cls: f64,
}

impl MetricScores {
    /// Scores mobile metric values (ms, CLS unitless).
    pub fn mobile(fcp: f64, si: f64, lcp: f64, tbt: f64, cls: f64) -> Self {
        let s = |id: MetricId, v| metric_score(id.mobile_control_points(), v);
        Self {
            fcp: s(MetricId::Fcp, fcp),
            si: s(MetricId::Si, si),
            lcp: s(MetricId::Lcp, lcp),
            tbt: s(MetricId::Tbt, tbt),
            cls: s(MetricId::Cls, cls),
        }
    }

    pub fn get(&self, id: MetricId) -> f64 {
        match id {
            MetricId::Fcp => self.fcp,
            MetricId::Si => self.si,
            MetricId::Lcp => self.lcp,
            MetricId::Tbt => self.tbt,
            MetricId::Cls => self.cls,
        }
    }

    /// The performance category as the report shows it, 0..=100: the
    /// weighted mean rounded to two decimals, then times 100 and rounded.
    pub fn performance(&self) -> u8 {
        let (sum, weight) = MetricId::ALL.iter().fold((0.0, 0.0), |(s, w), id| {
            (s + self.get(*id) * id.weight(), w + id.weight())
        });
        let category = round2(sum / weight);
        // In 0..=100 by construction; the cast saturates anyway.
        (category * 100.0).round() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(a: f64, b: f64) -> bool {
        // Jest's toBeCloseTo default: |a - b| < 0.005.
        (a - b).abs() < 0.005
    }

    #[test]
    fn curve_matches_lighthouse_statistics_examples() {
        // Lighthouse's own statistics test: median 7300, p10 3785.
        let cp = ControlPoints {
            p10: 3785.0,
            median: 7300.0,
        };
        assert_eq!(log_normal_score(cp, 7300.0), 0.5);
        assert_eq!(log_normal_score(cp, 3785.0), 0.9);
        assert_eq!(log_normal_score(cp, 0.0), 1.0);
        assert_eq!(log_normal_score(cp, -1.0), 1.0);
        for (value, expected) in [
            (1000.0, 1.00),
            (2500.0, 0.98),
            (5000.0, 0.77),
            (7500.0, 0.48),
            (10000.0, 0.27),
            (30000.0, 0.00),
        ] {
            let got = log_normal_score(cp, value);
            assert!(near(got, expected), "{value}: {got} vs {expected}");
        }
        assert_eq!(log_normal_score(cp, 1_000_000.0), 0.0);
    }

    #[test]
    fn mobile_control_points_map_to_09_and_05_and_sides_hold() {
        for id in MetricId::ALL {
            let cp = id.mobile_control_points();
            assert_eq!(log_normal_score(cp, cp.p10), 0.9, "{id:?} p10");
            assert_eq!(log_normal_score(cp, cp.median), 0.5, "{id:?} median");
            let up = |v: f64| f64::from_bits(v.to_bits() + 1);
            let down = |v: f64| f64::from_bits(v.to_bits() - 1);
            assert!(log_normal_score(cp, down(cp.p10)) >= 0.9);
            assert!(log_normal_score(cp, up(cp.p10)) < 0.9);
            assert!(log_normal_score(cp, down(cp.median)) >= 0.5);
            assert!(log_normal_score(cp, up(cp.median)) < 0.5);
            assert!(log_normal_score(cp, f64::MAX) >= 0.0);
            assert_eq!(metric_score(cp, cp.p10), 0.9);
            assert_eq!(metric_score(cp, cp.median), 0.5);
        }
    }

    #[test]
    fn audit_scores_boost_and_round_like_lighthouse() {
        let lcp = MetricId::Lcp.mobile_control_points();
        // Tiny values reach a perfect 1 thanks to the boost.
        assert_eq!(metric_score(lcp, 800.0), 1.0);
        let raw = log_normal_score(lcp, 3000.0);
        assert!(raw > 0.5 && raw < 0.9);
        assert_eq!(metric_score(lcp, 3000.0), (raw * 100.0).floor() / 100.0);
        let tbt = MetricId::Tbt.mobile_control_points();
        assert_eq!(metric_score(tbt, 0.0), 1.0);
        assert!(metric_score(tbt, 5000.0) < 0.01);
    }

    #[test]
    fn weights_sum_to_100_and_category_is_weighted_mean() {
        let total: f64 = MetricId::ALL.iter().map(|m| m.weight()).sum();
        assert_eq!(total, 100.0);
        let perfect = MetricScores::mobile(0.0, 0.0, 0.0, 0.0, 0.0);
        assert_eq!(perfect.performance(), 100);
        // Every metric at its median: each scores 0.5, so the category is 50.
        let p = |m: MetricId| m.mobile_control_points().median;
        let at_median = MetricScores::mobile(
            p(MetricId::Fcp),
            p(MetricId::Si),
            p(MetricId::Lcp),
            p(MetricId::Tbt),
            p(MetricId::Cls),
        );
        assert_eq!(at_median.performance(), 50);
        // Only TBT failing completely costs its 30 points.
        let tbt_zero = MetricScores {
            tbt: 0.0,
            ..perfect
        };
        assert_eq!(tbt_zero.performance(), 70);
        let mixed = MetricScores {
            fcp: 0.91,
            si: 0.62,
            lcp: 0.33,
            tbt: 0.75,
            cls: 1.0,
        };
        // (9.1 + 6.2 + 8.25 + 22.5 + 25) / 100 = 0.7105 → 0.71 → 71.
        assert_eq!(mixed.performance(), 71);
    }
}
