//! The synthetic cohort: patients drawn with a real signal (EBV-DNA-positive tumours are
//! larger; larger tumours progress sooner; more heterogeneous tumours progress sooner), scanners
//! and series geometry, tumour shapes and their MR texture.

use std::f64::consts::PI;

use crate::dataset::Modality;

/// The stream a patient's tumour texture is drawn from, apart from everything else: changing the
/// texture never moves the masks, clinical.csv or the predictions.
const TEXTURE_STREAM: u64 = 0x7E57_0BE5_11A7_E0B5;

/// SplitMix64 (Steele et al., 2014). Hand-written so the sample stays byte-identical for a
/// seed whatever version of `rand` the tree would pull in.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one patient of one seed: independent of generation order.
    pub fn for_patient(seed: u64, patient: usize) -> Rng {
        Rng::for_stream(seed, patient, 0)
    }

    /// A generator for one stream (0: the patient's; [`TEXTURE_STREAM`]) of one patient.
    fn for_stream(seed: u64, patient: usize, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream ^ (patient as u64).wrapping_mul(0xA076_1D64_78BD_642F));
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.uniform().max(f64::MIN_POSITIVE);
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * self.uniform()).cos()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// An index drawn with the given weights.
    pub fn pick(&mut self, weights: &[f64]) -> usize {
        let mut x = self.uniform() * weights.iter().sum::<f64>();
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// The two scanners of the real dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scanner {
    GeDiscovery,
    PhilipsAchieva,
}

impl Scanner {
    pub fn manufacturer(self) -> &'static str {
        match self {
            Scanner::GeDiscovery => "GE MEDICAL SYSTEMS",
            Scanner::PhilipsAchieva => "Philips Medical Systems",
        }
    }

    pub fn model(self) -> &'static str {
        match self {
            Scanner::GeDiscovery => "Discovery MR750w",
            Scanner::PhilipsAchieva => "Achieva",
        }
    }

    pub fn field_strength_t(self) -> f64 {
        match self {
            Scanner::GeDiscovery => 3.0,
            Scanner::PhilipsAchieva => 1.5,
        }
    }
}

/// The grid and acquisition parameters of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesGeometry {
    pub columns: usize,
    pub rows: usize,
    pub slices: usize,
    /// In-plane pixel size (square pixels), mm.
    pub pixel_mm: f64,
    pub slice_thickness_mm: f64,
    pub slice_spacing_mm: f64,
    /// Patient z (mm) of the first slice centre.
    pub first_slice_z: f64,
    pub repetition_time_ms: f64,
    pub echo_time_ms: f64,
    pub flip_angle: f64,
}

impl SeriesGeometry {
    /// Patient (LPS) coordinates of the centre of voxel (column, row, slice); axial slices,
    /// field of view centred on the z axis.
    pub fn voxel_centre(&self, column: f64, row: f64, slice: f64) -> [f64; 3] {
        let origin = self.origin();
        [
            origin[0] + column * self.pixel_mm,
            origin[1] + row * self.pixel_mm,
            origin[2] + slice * self.slice_spacing_mm,
        ]
    }

    /// ImagePositionPatient of the first slice.
    pub fn origin(&self) -> [f64; 3] {
        let half_x = (self.columns as f64 - 1.0) * self.pixel_mm / 2.0;
        let half_y = (self.rows as f64 - 1.0) * self.pixel_mm / 2.0;
        [-half_x, -half_y, self.first_slice_z]
    }
}

/// One ellipsoid of a tumour: centre and semi-axes in patient mm.
#[derive(Debug, Clone, PartialEq)]
pub struct Lobe {
    pub centre: [f64; 3],
    pub semi_axes: [f64; 3],
}

/// An irregular tumour: a union of ellipsoids whose surface is roughened by smooth waves.
#[derive(Debug, Clone, PartialEq)]
pub struct TumourShape {
    pub lobes: Vec<Lobe>,
    /// (frequency vector in 1/mm, phase) of the roughness waves.
    pub waves: Vec<([f64; 3], f64)>,
    pub roughness: f64,
}

impl TumourShape {
    /// Draws a tumour of roughly `volume_cm3` centred at `centre`.
    pub fn draw(rng: &mut Rng, volume_cm3: f64, centre: [f64; 3]) -> TumourShape {
        let extra_lobes = 1 + rng.pick(&[0.4, 0.4, 0.2]);
        // The lobes mostly overlap the main ellipsoid: the union comes out close to its volume.
        let main_volume = volume_cm3 * 1000.0;
        let (r1, r2) = (rng.range(0.8, 1.25), rng.range(0.75, 1.2));
        let a = (3.0 * main_volume / (4.0 * PI * r1 * r2)).cbrt();
        let main = Lobe {
            centre,
            semi_axes: [a, a * r1, a * r2],
        };
        let mut lobes = vec![main.clone()];
        for _ in 0..extra_lobes {
            let direction = unit([rng.normal(), rng.normal(), rng.normal() * 0.6]);
            let scale = rng.range(0.35, 0.55);
            let offset = 0.75;
            lobes.push(Lobe {
                centre: [0, 1, 2].map(|i| centre[i] + direction[i] * main.semi_axes[i] * offset),
                semi_axes: [0, 1, 2].map(|i| main.semi_axes[i] * scale * rng.range(0.8, 1.2)),
            });
        }
        let waves = (0..4)
            .map(|_| {
                (
                    unit([rng.normal(), rng.normal(), rng.normal()]).map(|d| d * rng.range(0.15, 0.35)),
                    rng.range(0.0, 2.0 * PI),
                )
            })
            .collect();
        TumourShape {
            lobes,
            waves,
            roughness: rng.range(0.06, 0.14),
        }
    }

    /// Whether the point (patient mm) is inside the tumour.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        let rough: f64 = self
            .waves
            .iter()
            .map(|(k, phase)| (k[0] * p[0] + k[1] * p[1] + k[2] * p[2] + phase).sin())
            .sum::<f64>()
            / self.waves.len() as f64;
        let threshold = 1.0 + self.roughness * rough;
        self.lobes.iter().any(|lobe| {
            let r2: f64 = (0..3)
                .map(|i| ((p[i] - lobe.centre[i]) / lobe.semi_axes[i]).powi(2))
                .sum();
            r2 < threshold * threshold
        })
    }

    /// An axis-aligned box (patient mm) that holds the whole tumour.
    pub fn bounds(&self) -> ([f64; 3], [f64; 3]) {
        let margin = 1.0 + self.roughness;
        let mut low = [f64::INFINITY; 3];
        let mut high = [f64::NEG_INFINITY; 3];
        for lobe in &self.lobes {
            for i in 0..3 {
                low[i] = low[i].min(lobe.centre[i] - lobe.semi_axes[i] * margin);
                high[i] = high[i].max(lobe.centre[i] + lobe.semi_axes[i] * margin);
            }
        }
        (low, high)
    }
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    v.map(|x| x / n)
}

/// How strongly heterogeneity is tied to progression: the correlation ρ of h with the
/// standardised progression draw. Chosen so the Cox hazard ratio of progression per SD of h is
/// about 2 (2.14 expected, simulating 20 000 patients of this model): on `npcql sample
/// --full-size` (277 patients, seed 2025, 126 progressions) it is 2.04 (95% CI 1.65–2.52,
/// p = 4e-11), by `cox_ph` and by lifelines 0.30 alike (tests/it/sample.rs checks it).
pub const HETEROGENEITY_LINK: f64 = 0.6;

/// A tumour's MR texture: one smooth random field in scanner coordinates (the same tissue in
/// every sequence), scaled per sequence, plus voxel noise; some tumours have a necrotic core.
///
/// The link to outcome: the heterogeneity score is h = ρ·z + √(1−ρ²)·ε, with ρ =
/// [`HETEROGENEITY_LINK`], ε standard normal from the texture stream and z = −(ln E + γ)·√6/π
/// the standardised log (mean 0, SD 1) of the patient's Exp(1) progression draw E (progression
/// at E/hazard months), so an early progression (small E) makes h large. The amplitude of the
/// texture of T2 and CE-T1 is exp(0.35·h) times a base: monotone in h, so the variance of T2
/// intensity inside the mask tracks h.
#[derive(Debug, Clone, PartialEq)]
pub struct TumourTexture {
    /// The heterogeneity score h, mean 0 and SD 1.
    pub heterogeneity: f64,
    /// Mean tumour intensity on T1, T2, CE-T1 (before quantisation).
    means: [f64; 3],
    /// (wave vector in radians/mm, phase) of the field's sinusoids.
    waves: Vec<([f64; 3], f64)>,
    /// A hypo-enhancing necrotic core (about 30% of tumours): centre (patient mm), radius mm.
    necrosis: Option<([f64; 3], f64)>,
    /// Seeds the voxel noise, a hash of this key and the point.
    noise_key: u64,
}

impl TumourTexture {
    /// Draws a tumour's texture from its own stream; `progression_draw` is the patient's Exp(1)
    /// draw E, which sets part of the heterogeneity.
    pub fn draw(rng: &mut Rng, progression_draw: f64, tumour: &TumourShape) -> TumourTexture {
        const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;
        let z = -(progression_draw.max(1e-300).ln() + EULER_GAMMA) * 6f64.sqrt() / PI;
        let rho = HETEROGENEITY_LINK;
        let heterogeneity = rho * z + (1.0 - rho * rho).sqrt() * rng.normal();
        let means = [
            rng.range(385.0, 425.0),
            rng.range(780.0, 950.0),
            rng.range(950.0, 1150.0),
        ];
        // Wavelengths of 8–24 mm, flatter along z where the slices are 5–6 mm apart.
        let waves = (0..5)
            .map(|_| {
                let direction = unit([rng.normal(), rng.normal(), 0.5 * rng.normal()]);
                let wavenumber = 2.0 * PI / rng.range(8.0, 24.0);
                (direction.map(|d| d * wavenumber), rng.range(0.0, 2.0 * PI))
            })
            .collect();
        let main = &tumour.lobes[0];
        let necrosis = rng.chance(0.3).then(|| {
            let smallest = main.semi_axes.iter().copied().fold(f64::INFINITY, f64::min);
            (main.centre, smallest * rng.range(0.35, 0.55))
        });
        TumourTexture {
            heterogeneity,
            means,
            waves,
            necrosis,
            noise_key: rng.next_u64(),
        }
    }

    /// The tumour's intensity on `modality` at the scanner point `p` (patient mm), before
    /// quantisation:
    /// - T1: iso to slightly hypointense to tissue, mild texture (amplitude 20) and noise (SD 12);
    /// - T2: hyperintense, texture of amplitude 90·exp(0.35·h), noise SD 25; brighter necrosis;
    /// - CE-T1: enhancing, texture of amplitude 100·exp(0.35·h), noise SD 25; a necrotic core
    ///   does not enhance (about 500, tissue level).
    ///
    /// The field is a sum of five sinusoids scaled to unit variance; the noise a deterministic
    /// hash of the point, so every grid samples the same tumour.
    pub fn intensity(&self, modality: Modality, p: [f64; 3]) -> f64 {
        let field = self
            .waves
            .iter()
            .map(|(k, phase)| (k[0] * p[0] + k[1] * p[1] + k[2] * p[2] + phase).sin())
            .sum::<f64>()
            / (self.waves.len() as f64 / 2.0).sqrt();
        // Necrotic weight: 1 in the core, 0 outside, a soft rim; the field roughens its edge.
        let necrotic = self.necrosis.map_or(0.0, |(centre, radius)| {
            let r = (0..3).map(|i| (p[i] - centre[i]).powi(2)).sum::<f64>().sqrt();
            ((1.0 - r / (radius * (1.0 + 0.15 * field))) / 0.3).clamp(0.0, 1.0)
        });
        let amplitude = (0.35 * self.heterogeneity).exp();
        let value = match modality {
            Modality::T1 => self.means[0] + 20.0 * field + 12.0 * self.noise(p, 1) - 40.0 * necrotic,
            Modality::T2 => self.means[1] + 90.0 * amplitude * field + 25.0 * self.noise(p, 2) + 150.0 * necrotic,
            Modality::CeT1 => {
                (1.0 - necrotic) * (self.means[2] + 100.0 * amplitude * field)
                    + necrotic * 500.0
                    + 25.0 * self.noise(p, 3)
            }
        };
        value.clamp(0.0, 4095.0)
    }

    /// Noise of mean 0 and SD 1 at a point: a sum of three uniforms from a hash of the point.
    fn noise(&self, p: [f64; 3], sequence: u64) -> f64 {
        let bits = p[0].to_bits() ^ p[1].to_bits().rotate_left(21) ^ p[2].to_bits().rotate_left(42);
        let mut rng = Rng(self.noise_key ^ sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ bits);
        rng.next_u64();
        (rng.uniform() + rng.uniform() + rng.uniform() - 1.5) * 2.0
    }
}

/// Everything generated for one patient.
#[derive(Debug, Clone)]
pub struct SyntheticPatient {
    pub patient_id: String,
    pub scanner: Scanner,
    pub clinical: Clinical,
    pub tumour: TumourShape,
    pub texture: TumourTexture,
    /// T1, T2, CE-T1 geometry.
    pub series: [SeriesGeometry; 3],
}

/// The clinical row of a patient; `None` is a missing value in the csv.
#[derive(Debug, Clone)]
pub struct Clinical {
    pub sex: &'static str,
    pub age: Option<u32>,
    pub ebv_dna: Option<f64>,
    pub ebv_positive: bool,
    pub who_type: Option<&'static str>,
    pub t_stage: &'static str,
    pub n_stage: &'static str,
    pub m_stage: &'static str,
    pub clinical_stage: &'static str,
    pub pfs_months: f64,
    pub pfs_event: bool,
}

/// Draws patient `index` (0-based) of a cohort.
pub fn draw_patient(seed: u64, index: usize, full_size: bool) -> SyntheticPatient {
    let mut rng = Rng::for_patient(seed, index);
    let scanner = if rng.chance(0.6) {
        Scanner::GeDiscovery
    } else {
        Scanner::PhilipsAchieva
    };
    let ebv_positive = rng.chance(0.7);
    // EBV-DNA-positive tumours are larger (the signal the saved analyses look for).
    let log_median = if ebv_positive { 28f64.ln() } else { 12f64.ln() };
    let volume_cm3 = (log_median + 0.55 * rng.normal()).exp().clamp(5.0, 80.0);
    let centre = [rng.range(-8.0, 8.0), rng.range(5.0, 25.0), rng.range(-6.0, 6.0)];
    let tumour = TumourShape::draw(&mut rng, volume_cm3, centre);

    let t_stage = match volume_cm3 {
        v if v < 10.0 => ["T1", "T2"][rng.pick(&[0.6, 0.4])],
        v if v < 25.0 => ["T2", "T3"][rng.pick(&[0.5, 0.5])],
        _ => ["T3", "T4"][rng.pick(&[0.45, 0.55])],
    };
    let n_stage = ["N0", "N1", "N2", "N3"][rng.pick(&[0.15, 0.35, 0.35, 0.15])];
    let m_stage = if rng.chance(0.05) { "M1" } else { "M0" };
    let clinical_stage = ajcc_stage(t_stage, n_stage, m_stage);

    // Exponential progression hazard rising with volume and EBV DNA; ~30% progress by 60 months.
    let hazard = 0.0052
        * (0.045 * (volume_cm3 - 20.0)).exp()
        * if ebv_positive { 1.3 } else { 1.0 }
        * if m_stage == "M1" { 3.0 } else { 1.0 };
    // An Exp(1) draw: the time to progression in units of 1/hazard.
    let progression_draw = -rng.uniform().max(1e-12).ln();
    let event_time = progression_draw / hazard;
    let censor_time = if rng.chance(0.12) {
        rng.range(6.0, 60.0)
    } else {
        rng.range(40.0, 96.0)
    };
    let pfs_event = event_time <= censor_time;
    // Progression shows at the first follow-up scan at the earliest, about 3 months on.
    let pfs_months = (event_time.min(censor_time) * 10.0).round().max(30.0) / 10.0;

    let ebv_dna = if ebv_positive {
        (10f64.powf(rng.range(2.3, 5.5))).round()
    } else {
        0.0
    };
    let clinical = Clinical {
        sex: if rng.chance(0.72) { "M" } else { "F" },
        age: Some((48.0 + 11.0 * rng.normal()).clamp(18.0, 80.0).round() as u32).filter(|_| !rng.chance(0.03)),
        ebv_dna: Some(ebv_dna).filter(|_| !rng.chance(0.05)),
        ebv_positive,
        who_type: Some(["I", "II", "III"][rng.pick(&[0.04, 0.11, 0.85])]).filter(|_| !rng.chance(0.04)),
        t_stage,
        n_stage,
        m_stage,
        clinical_stage,
        pfs_months,
        pfs_event,
    };
    let series = series_geometry(&mut rng, scanner, full_size);
    let texture = TumourTexture::draw(
        &mut Rng::for_stream(seed, index, TEXTURE_STREAM),
        progression_draw,
        &tumour,
    );
    SyntheticPatient {
        patient_id: format!("{:03}", index + 1),
        scanner,
        clinical,
        tumour,
        texture,
        series,
    }
}

/// AJCC 8th edition stage grouping for nasopharyngeal carcinoma.
fn ajcc_stage(t: &str, n: &str, m: &str) -> &'static str {
    if m == "M1" {
        "IVB"
    } else if t == "T4" || n == "N3" {
        "IVA"
    } else if t == "T3" || n == "N2" {
        "III"
    } else if t == "T2" || n == "N1" {
        "II"
    } else {
        "I"
    }
}

/// T1, T2 and CE-T1 grids as the two scanners acquire them: T2 finer in-plane with more
/// slices. The sample is downsampled so it fits in git; `full_size` is the real resolution.
fn series_geometry(rng: &mut Rng, scanner: Scanner, full_size: bool) -> [SeriesGeometry; 3] {
    let fov = if scanner == Scanner::GeDiscovery {
        230.0
    } else {
        rng.range(220.0, 240.0).round()
    };
    let (t1_matrix, t2_matrix) = match (scanner, full_size) {
        (Scanner::GeDiscovery, true) => (384, 512),
        (Scanner::PhilipsAchieva, true) => (352, 480),
        (Scanner::GeDiscovery, false) => (96, 128),
        (Scanner::PhilipsAchieva, false) => (88, 120),
    };
    let (t1_slices, t2_slices) = if full_size { (22, 28) } else { (16, 20) };
    let (t1_thickness, t2_thickness) = if scanner == Scanner::GeDiscovery {
        (5.0, 4.0)
    } else {
        (5.0, 4.5)
    };
    let (t1_gap, t2_gap) = (1.0, 0.5);
    let ge = scanner == Scanner::GeDiscovery;
    // T1 and CE-T1 are spin-echo T1 (short TR/TE); T2 is fast spin echo (long TR/TE).
    let make = |rng: &mut Rng, t2: bool| {
        let (matrix, slices, thickness, gap) = if t2 {
            (t2_matrix, t2_slices, t2_thickness, t2_gap)
        } else {
            (t1_matrix, t1_slices, t1_thickness, t1_gap)
        };
        let spacing: f64 = thickness + gap;
        let (repetition_time_ms, echo_time_ms, flip_angle) = if t2 {
            (
                rng.range(3000.0, 5000.0).round(),
                rng.range(80.0, 110.0).round(),
                if ge { 111.0 } else { 90.0 },
            )
        } else {
            let te = if ge {
                rng.range(8.0, 12.0)
            } else {
                rng.range(10.0, 15.0)
            };
            (rng.range(450.0, 700.0).round(), te.round(), 90.0)
        };
        SeriesGeometry {
            columns: matrix,
            rows: matrix,
            slices,
            pixel_mm: round_to(fov / matrix as f64, 1e-4),
            slice_thickness_mm: thickness,
            slice_spacing_mm: spacing,
            first_slice_z: round_to(
                -(slices as f64 - 1.0) * spacing / 2.0 + rng.range(-0.5, 0.5) * spacing,
                1e-2,
            ),
            repetition_time_ms,
            echo_time_ms,
            flip_angle,
        }
    };
    let t1 = make(rng, false);
    let t2 = make(rng, true);
    let ce = make(rng, false);
    [t1, t2, ce]
}

fn round_to(v: f64, step: f64) -> f64 {
    (v / step).round() * step
}
