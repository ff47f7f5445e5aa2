//! The lessons' numbers: the three data points and the fitted networks, in one place.
//!
//! Parameter vectors are in flat order (see [`Architecture::tensors`]), which for the lesson's
//! `1-[2]-1` network is w1, w2, b1, b2, w3, w4, b3. Source: StatQuest's "Neural Networks"
//! videos, recomputed in double precision (the team's `statquest.md`).
//!
//! [`Architecture::tensors`]: crate::Architecture::tensors

/// Dosage 0, 0.5, 1 → efficacy 0, 1, 0: low and high doses do not work, the middle one does.
/// Each row is the input, then the output.
pub const POINTS: [[f64; 2]; 3] = [[0.0, 0.0], [0.5, 1.0], [1.0, 0.0]];

/// "Neural Networks Pt. 1: Inside the Black Box": the video's own fitted network, which
/// predicts -0.0110, 1.0348 and 0.0046 at the three dosages (SSR 0.00136).
pub const PT1: [f64; 7] = [-34.4, -2.52, 2.14, 1.29, -1.30, 2.28, -0.58];

/// "Neural Networks Pt. 2: Backpropagation Main Ideas": every parameter fitted except the
/// final bias b3, which starts at 0.
pub const PT2: [f64; 7] = [3.34, -3.53, -1.43, 0.57, -1.22, -2.30, 0.0];

/// "Backpropagation Details Pt. 2": the starting values from which all seven parameters are
/// trained (w1 2.74, w2 −1.13, w3 0.36, w4 0.63, biases 0).
pub const DETAILS_PT2_START: [f64; 7] = [2.74, -1.13, 0.0, 0.0, 0.36, 0.63, 0.0];

/// The b3 that gradient descent finds for [`PT2`], to the video's two decimals.
pub const PT2_FITTED_B3: f64 = 2.61;

/// [`PT2`] with b3 at [`PT2_FITTED_B3`]: about 0 at dosage 0 and 1, about 1 at dosage 0.5.
pub fn pt2_fitted() -> [f64; 7] {
    let mut values = PT2;
    values[6] = PT2_FITTED_B3;
    values
}

/// "Gradient Descent, Step-by-Step": three people's weight and height, through which the
/// lesson fits a straight line (intercept 0.9487 and slope 0.6410 by least squares).
pub const GRADIENT_DESCENT_POINTS: [[f64; 2]; 3] = [[0.5, 1.4], [2.3, 1.9], [2.9, 3.2]];

/// [`POINTS`] as rows, the form data sets are built from.
pub fn points() -> Vec<Vec<f64>> {
    POINTS.iter().map(|row| row.to_vec()).collect()
}
