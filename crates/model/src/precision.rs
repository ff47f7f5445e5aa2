//! Floating-point precision of a run.

use burn::tensor::DType;

crate::named_enum! {
    /// The float type every tensor of a run is created with.
    ///
    /// f32 is the default (what GPUs and the lessons' tooling use); f64 exists for gradient
    /// checks and for reproducing the lesson's numbers to many digits on CPU backends.
    #[derive(Default)]
    pub enum Precision as "dtype" {
        /// 32-bit floats. The default.
        #[default]
        F32 = "f32",
        /// 64-bit floats.
        F64 = "f64",
    }
}

impl Precision {
    /// The Burn data type that tensors of this precision are created with.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::F64 => DType::F64,
        }
    }

    /// Rounds a value to this precision (and back to f64), so host-side copies of parameters
    /// hold exactly what the device holds.
    pub fn round(self, x: f64) -> f64 {
        match self {
            Precision::F32 => x as f32 as f64,
            Precision::F64 => x,
        }
    }
}
