//! Point-in-shape tests.

/// Even–odd rule: Dan Sunday's winding count, odd means inside. Points on an
/// edge follow his half-open conventions (upward edges include their start,
/// downward edges their end), so self-intersecting polygons work too.
#[inline]
pub fn in_polygon(x: f64, y: f64, vertices: &[[f64; 2]]) -> bool {
    let n = vertices.len();
    let mut wn = 0i64;
    for i in 0..n {
        let [x0, y0] = vertices[i];
        let [x1, y1] = vertices[(i + 1) % n];
        let is_left = (x1 - x0) * (y - y0) - (x - x0) * (y1 - y0);
        if y0 <= y {
            if y1 > y && is_left > 0.0 {
                wn += 1;
            }
        } else if y1 <= y && is_left < 0.0 {
            wn -= 1;
        }
    }
    wn % 2 != 0
}

/// `(v − mean)ᵀ inv_cov (v − mean)` where `v(i)` is coordinate i of the point.
#[inline]
pub fn ellipsoid_distance2(v: impl Fn(usize) -> f64, mean: &[f64], inv_cov: &[f64]) -> f64 {
    let n = mean.len();
    let mut total = 0.0;
    for i in 0..n {
        let di = v(i) - mean[i];
        let mut row = 0.0;
        for j in 0..n {
            row += inv_cov[i * n + j] * (v(j) - mean[j]);
        }
        total += di * row;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_and_bowtie() {
        let sq = [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]];
        assert!(in_polygon(1.0, 1.0, &sq));
        assert!(!in_polygon(3.0, 1.0, &sq));
        // A self-intersecting bow tie: both lobes inside, the crossing region's parity rules.
        let bow = [[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0]];
        assert!(in_polygon(0.2, 1.0, &bow));
        assert!(in_polygon(1.8, 1.0, &bow));
        assert!(!in_polygon(1.0, 0.2, &bow));
    }

    #[test]
    fn ellipse() {
        let cols = [[1.0, 3.0], [0.0, 0.0]];
        let inv = [1.0, 0.0, 0.0, 1.0];
        assert_eq!(ellipsoid_distance2(|i| cols[i][0], &[0.0, 0.0], &inv), 1.0);
        assert_eq!(ellipsoid_distance2(|i| cols[i][1], &[0.0, 0.0], &inv), 9.0);
    }
}
