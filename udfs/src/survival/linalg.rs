//! Small dense symmetric linear algebra for the survival kernels (p × p, row-major).

/// Cholesky factor L (row-major, lower) of a symmetric positive-definite matrix, or `None`
/// when a pivot is not clearly positive (singular or indefinite).
pub(crate) fn cholesky(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let s = a[i * p + j] - (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum::<f64>();
            if i == j {
                // Relative threshold: a pivot lost to rounding means a singular matrix.
                if s.is_nan() || s <= 1e-12 * a[i * p + i].abs().max(f64::MIN_POSITIVE) {
                    return None;
                }
                l[i * p + i] = s.sqrt();
            } else {
                l[i * p + j] = s / l[j * p + j];
            }
        }
    }
    Some(l)
}

/// Solves L Lᵀ x = b for x.
pub(crate) fn cholesky_solve(l: &[f64], b: &[f64]) -> Vec<f64> {
    let p = b.len();
    let mut y = b.to_vec();
    for i in 0..p {
        y[i] = (y[i] - (0..i).map(|k| l[i * p + k] * y[k]).sum::<f64>()) / l[i * p + i];
    }
    for i in (0..p).rev() {
        y[i] = (y[i] - (i + 1..p).map(|k| l[k * p + i] * y[k]).sum::<f64>()) / l[i * p + i];
    }
    y
}

/// (L Lᵀ)⁻¹ from the Cholesky factor, row-major.
pub(crate) fn cholesky_inverse(l: &[f64], p: usize) -> Vec<f64> {
    let mut inv = vec![0.0; p * p];
    for j in 0..p {
        let e: Vec<f64> = (0..p).map(|i| f64::from(u8::from(i == j))).collect();
        for (i, v) in cholesky_solve(l, &e).into_iter().enumerate() {
            inv[i * p + j] = v;
        }
    }
    inv
}

/// zᵀ V⁻ z for a symmetric positive semi-definite V with z in its column space.
///
/// LDLᵀ elimination that skips (numerically) zero pivots; for z in range(V) every generalized
/// inverse gives the same value, so this equals numpy's `z @ pinv(V) @ z`.
pub(crate) fn psd_quadratic_form(v: &[f64], z: &[f64]) -> f64 {
    let p = z.len();
    let (mut a, mut z) = (v.to_vec(), z.to_vec());
    let scale = (0..p).map(|i| a[i * p + i].abs()).fold(0.0, f64::max);
    let mut total = 0.0;
    for k in 0..p {
        let pivot = a[k * p + k];
        if pivot <= 1e-12 * scale {
            continue;
        }
        total += z[k] * z[k] / pivot;
        for i in k + 1..p {
            let f = a[i * p + k] / pivot;
            z[i] -= f * z[k];
            for j in k + 1..p {
                a[i * p + j] -= f * a[k * p + j];
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let l = cholesky(&a, 2).unwrap();
        let x = cholesky_solve(&l, &[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15);
        let inv = cholesky_inverse(&l, 2);
        assert!((inv[0] - 0.375).abs() < 1e-15 && (inv[1] + 0.25).abs() < 1e-15);
        assert!((psd_quadratic_form(&a, &[2.0, 1.0]) - 1.0).abs() < 1e-15);
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2).is_none());
    }

    #[test]
    fn quadratic_form_skips_null_space() {
        // V = diag(2, 0): the zero row is a group never at risk at an event time.
        assert_eq!(psd_quadratic_form(&[2.0, 0.0, 0.0, 0.0], &[2.0, 0.0]), 2.0);
    }
}
