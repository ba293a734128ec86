//! The versioned binary model format.
//!
//! Format: `b"GNSM"` magic, `u16` little-endian format version, `u64` little-endian checksum of
//! the payload (CRC-32 from version 7, FNV-1a 64-bit before), then the payload. From version 9 the
//! payload has two sections: a `u64` length, the **front** (everything but the network weights,
//! which the checksum covers), then the **network section** (the EMA weights as little-endian
//! `f32`, with its own CRC-32 stored in the front), so that a reader can load the front alone
//! (`Model::from_front`) and add the weights only when a row needs the network (ADR 015).
//! The front of version 9 is bincode of `PayloadV6<ModelPayloadV9, MapPayload>`: version 7's
//! table payload with an empty weight vector, and the network section's CRC (a map model's
//! network section is empty). Before version 9, the payload is bincode 1.x (fixed-width integers, little-endian) of
//! `PayloadV6<ModelPayload, MapPayload>` (version 7: the table payload gained the warm scores),
//! `PayloadV6` (version 6: a tag, then a table model's `ModelPayloadV6` or a map model's
//! `map::format::MapPayload`), `ModelPayloadV6` (version 5: the pairwise model, the `pairwise` and `scorer` options, the
//! calibrated evidence sum and the fast scorer; version 5 was never released without the last
//! two, so it carries them without a version of its own), `ModelPayloadV4` (version 4: numeric columns in the encoder),
//! `ModelPayloadV4<EncoderV3>` (version 3: the score blend), or `ModelPayloadOld` with the options of version 2 (feature-kind fields) or 1
//! (the paper's feature set). Readers for every released format version are kept; a new field
//! means a new version. Truncated, corrupted or foreign bytes give `Error::CorruptModel`, never a
//! panic.

use super::warm::WarmScores;
use super::{Blend, Evidence, Model};
use crate::fast::FastScorer;
use crate::encoding::{ColumnVocab, Encoder};
use crate::error::{Error, Result};
use crate::frequency::{IndepNll, PairwiseNll};
use crate::head::DensityHead;
use crate::net::tabular::{Gelu, NetConfig, Network};
use crate::relax::logit_scales;
use crate::score::FeatureMap;
use crate::train::{TrainConfig, TrainReport};
use crate::MODEL_FORMAT_VERSION;
use bincode::Options;
use serde::{Deserialize, Serialize};

/// First bytes of every model.
pub const MAGIC: &[u8; 4] = b"GNSM";
/// Header length: magic + version + checksum.
const HEADER: usize = 4 + 2 + 8;
/// The first format version whose payload is a front section and a network section.
const SECTIONED_SINCE: u16 = 9;
/// Bytes of the front section's length, after the header (format 9 on).
const FRONT_LENGTH: usize = 8;

/// What format version 9 stores in the front section behind its `Table` tag: version 7's payload
/// with an empty weight vector (the weights follow in the network section), and the network
/// section's checksum.
#[derive(Serialize, Deserialize)]
struct ModelPayloadV9<T = ModelPayload> {
    table: T,
    /// CRC-32 of the network section.
    network_crc: u32,
}

/// Where a format-9 model's network section lies in its bytes, and its checksum: what a reader of
/// the front section needs to fetch and check the weights later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkSection {
    pub offset: usize,
    pub len: usize,
    pub crc: u32,
}

/// A model read from the first bytes of its serialisation: complete, or (format 9) its front
/// section with the place of the network weights it still lacks.
#[derive(Debug)]
pub enum ModelRead {
    Complete(Model),
    Front(Model, NetworkSection),
}

/// What format version 7 stores behind its `Table` tag: version 6's payload and the warm scores.
#[derive(Serialize, Deserialize)]
struct ModelPayload {
    base: ModelPayloadV6,
    warm: WarmScores,
}

/// What format version 5 stores, and version 6 behind its `Table` tag.
#[derive(Serialize, Deserialize)]
struct ModelPayloadV6 {
    encoder: Encoder,
    net_config: NetConfig,
    fourier: Vec<f32>,
    ema_params: Vec<f32>,
    head: DensityHead,
    frequency: Option<IndepNll>,
    pairwise: Option<PairwiseNll>,
    config: TrainConfig,
    report: TrainReport,
    score_quantiles: Vec<f64>,
    blend: Option<Blend>,
    evidence: Option<Evidence>,
    fast: Option<FastScorer>,
}

/// What format versions 6 and 7 store: a table model or a map model. Version 6 added the map
/// family (a table model's payload is version 5's behind the tag); version 7 added the warm
/// scores to the table model's payload.
#[derive(Serialize, Deserialize)]
pub(crate) enum PayloadV6<T, M> {
    Table(T),
    Map(M),
}

/// What format versions 3 and 4 store: version 4 (`E = Encoder`) added numeric columns to the
/// encoder, version 3 has a categorical-only one (`E = EncoderV3`). bincode writes the fields in
/// order, so only the encoder's layout differs.
#[derive(Deserialize)]
struct ModelPayloadV4<E = Encoder> {
    encoder: E,
    net_config: NetConfig,
    fourier: Vec<f32>,
    ema_params: Vec<f32>,
    head: DensityHead,
    frequency: Option<IndepNll>,
    config: TrainConfigV4,
    report: TrainReport,
    score_quantiles: Vec<f64>,
    blend: Option<Blend>,
}

impl ModelPayloadV4 {
    /// Today's payload: the same model with no pairwise model, scored as before (`blend`).
    fn upgrade(self) -> ModelPayloadV6 {
        ModelPayloadV6 {
            encoder: self.encoder,
            net_config: self.net_config,
            fourier: self.fourier,
            ema_params: self.ema_params,
            head: self.head,
            frequency: self.frequency,
            pairwise: None,
            config: self.config.upgrade(),
            report: self.report,
            score_quantiles: self.score_quantiles,
            blend: self.blend,
            evidence: None,
            fast: None,
        }
    }
}

/// The encoder of format versions 1-3: categorical columns only.
#[derive(Deserialize)]
struct EncoderV3 {
    columns: Vec<ColumnVocab>,
}

impl ModelPayloadV4<EncoderV3> {
    /// Format 4's payload: the same model with no numeric columns.
    fn upgrade(self) -> ModelPayloadV4 {
        ModelPayloadV4 {
            encoder: Encoder { columns: self.encoder.columns, numeric: Vec::new() },
            net_config: self.net_config,
            fourier: self.fourier,
            ema_params: self.ema_params,
            head: self.head,
            frequency: self.frequency,
            config: self.config,
            report: self.report,
            score_quantiles: self.score_quantiles,
            blend: self.blend,
        }
    }
}

/// What format versions 1 and 2 store: as version 3 without the frequency blend, with the
/// training options of their release (`C`).
#[derive(Deserialize)]
struct ModelPayloadOld<C> {
    encoder: EncoderV3,
    net_config: NetConfig,
    fourier: Vec<f32>,
    ema_params: Vec<f32>,
    head: DensityHead,
    frequency: Option<IndepNll>,
    config: C,
    report: TrainReport,
    score_quantiles: Vec<f64>,
}

impl<C> ModelPayloadOld<C> {
    /// Format 3's payload: options upgraded by `upgrade`, no blend (the GMM alone scores).
    fn upgrade(self, upgrade: impl FnOnce(C) -> TrainConfigV4) -> ModelPayloadV4<EncoderV3> {
        ModelPayloadV4 {
            encoder: self.encoder,
            net_config: self.net_config,
            fourier: self.fourier,
            ema_params: self.ema_params,
            head: self.head,
            frequency: self.frequency,
            config: upgrade(self.config),
            report: self.report,
            score_quantiles: self.score_quantiles,
            blend: None,
        }
    }
}

/// `TrainConfig` as format versions 3 and 4 wrote it: today's fields but `pairwise`.
#[derive(Deserialize)]
struct TrainConfigV4 {
    width: usize,
    depth: usize,
    steps: usize,
    max_seconds: f64,
    batch_size: usize,
    lr: f32,
    lr_min: f32,
    weight_decay: f32,
    ema_decay: f32,
    grad_clip: f32,
    seed: u64,
    threads: usize,
    val_fraction: f64,
    max_val_rows: usize,
    evals: usize,
    denoise: bool,
    frequency_feature: bool,
    gmm_components: Vec<usize>,
    max_head_rows: usize,
    signal_min: f32,
    signal_max: f32,
    norm_features: bool,
    dsm_draws: usize,
    frequency_blend: bool,
}

impl TrainConfigV4 {
    /// The same options in today's struct; these models have no pairwise model.
    fn upgrade(self) -> TrainConfig {
        TrainConfig {
            width: self.width,
            depth: self.depth,
            steps: self.steps,
            max_seconds: self.max_seconds,
            batch_size: self.batch_size,
            lr: self.lr,
            lr_min: self.lr_min,
            weight_decay: self.weight_decay,
            ema_decay: self.ema_decay,
            grad_clip: self.grad_clip,
            seed: self.seed,
            threads: self.threads,
            val_fraction: self.val_fraction,
            max_val_rows: self.max_val_rows,
            evals: self.evals,
            denoise: self.denoise,
            frequency_feature: self.frequency_feature,
            gmm_components: self.gmm_components,
            max_head_rows: self.max_head_rows,
            signal_min: self.signal_min,
            signal_max: self.signal_max,
            norm_features: self.norm_features,
            dsm_draws: self.dsm_draws,
            frequency_blend: self.frequency_blend,
            pairwise: false,
            fast_scorer: false,
            auto_scorer: false,
        }
    }
}

/// `TrainConfig` as format version 2 wrote it: version 1's fields, then four more. bincode writes
/// a nested struct's fields in sequence, so this reads the flat layout of version 2.
#[derive(Deserialize)]
struct TrainConfigV2 {
    base: TrainConfigV1,
    signal_min: f32,
    signal_max: f32,
    norm_features: bool,
    dsm_draws: usize,
}

impl TrainConfigV2 {
    /// The same options in format 4's struct; version 2 models scored with the GMM alone.
    fn upgrade(self) -> TrainConfigV4 {
        TrainConfigV4 {
            signal_min: self.signal_min,
            signal_max: self.signal_max,
            norm_features: self.norm_features,
            dsm_draws: self.dsm_draws,
            ..self.base.upgrade()
        }
    }
}

/// `TrainConfig` as format version 1 wrote it (field order matters to bincode).
#[derive(Deserialize)]
struct TrainConfigV1 {
    width: usize,
    depth: usize,
    steps: usize,
    max_seconds: f64,
    batch_size: usize,
    lr: f32,
    lr_min: f32,
    weight_decay: f32,
    ema_decay: f32,
    grad_clip: f32,
    seed: u64,
    threads: usize,
    val_fraction: f64,
    max_val_rows: usize,
    evals: usize,
    denoise: bool,
    frequency_feature: bool,
    gmm_components: Vec<usize>,
    max_head_rows: usize,
}

impl TrainConfigV1 {
    /// The same options in format 4's struct; version 1 models used the paper's feature set.
    fn upgrade(self) -> TrainConfigV4 {
        TrainConfigV4 {
            width: self.width,
            depth: self.depth,
            steps: self.steps,
            max_seconds: self.max_seconds,
            batch_size: self.batch_size,
            lr: self.lr,
            lr_min: self.lr_min,
            weight_decay: self.weight_decay,
            ema_decay: self.ema_decay,
            grad_clip: self.grad_clip,
            seed: self.seed,
            threads: self.threads,
            val_fraction: self.val_fraction,
            max_val_rows: self.max_val_rows,
            evals: self.evals,
            denoise: self.denoise,
            frequency_feature: self.frequency_feature,
            gmm_components: self.gmm_components,
            max_head_rows: self.max_head_rows,
            signal_min: 1.0,
            signal_max: 1.0,
            norm_features: true,
            dsm_draws: 0,
            frequency_blend: false,
        }
    }
}

/// The payload checksum of format `version`: CRC-32 (SIMD, from the `crc32fast` crate) from
/// format 7, FNV-1a 64-bit before. Either detects corrupted payloads that would otherwise
/// deserialize into garbage; CRC-32 reads a 3.4 MB model in 0.2 ms where FNV-1a took 4 ms, which
/// every new backend (every Citus shard task) pays when it loads a model.
fn checksum(version: u16, body: &[u8]) -> u64 {
    if version >= 7 {
        u64::from(crc32fast::hash(body))
    } else {
        fnv1a(body)
    }
}

/// FNV-1a 64-bit, the checksum of formats 1-6.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Bincode options of format 1; the size limit stops a corrupted length prefix from allocating.
pub(crate) fn bincode_options(limit: usize) -> impl Options {
    bincode::DefaultOptions::new().with_fixint_encoding().with_little_endian().with_limit(limit as u64)
}

/// The header and checksum around a serialised payload, in the current format version.
pub(crate) fn write_model<P: Serialize>(payload: &P) -> Vec<u8> {
    write_model_as(payload, MODEL_FORMAT_VERSION)
}

/// The header and checksum around a serialised payload, labelled with `version` (from format 9: as
/// the front section, with an empty network section).
fn write_model_as<P: Serialize>(payload: &P, version: u16) -> Vec<u8> {
    write_sections(payload, &[], version)
}

/// The header, the checksummed front (the payload; from format 9 after its length) and, from
/// format 9, the network section after it.
fn write_sections<P: Serialize>(payload: &P, network: &[u8], version: u16) -> Vec<u8> {
    let body = bincode_options(usize::MAX).serialize(payload).expect("in-memory serialisation cannot fail");
    let mut checked = Vec::with_capacity(FRONT_LENGTH + body.len());
    if version >= SECTIONED_SINCE {
        checked.extend_from_slice(&(body.len() as u64).to_le_bytes());
    } else {
        debug_assert!(network.is_empty(), "formats before 9 have no network section");
    }
    checked.extend_from_slice(&body);
    let mut out = Vec::with_capacity(HEADER + checked.len() + network.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&checksum(version, &checked).to_le_bytes());
    out.extend_from_slice(&checked);
    out.extend_from_slice(network);
    out
}

/// Bytes a reader needs to decode the front of a model whose first bytes are `head` (at least 22
/// of them): Some(end of the front section) for format 9 on, None for earlier formats (which are
/// read whole) or bytes that are not a model.
pub fn front_length(head: &[u8]) -> Option<usize> {
    if head.len() < HEADER + FRONT_LENGTH || &head[..4] != MAGIC || u16::from_le_bytes([head[4], head[5]]) < SECTIONED_SINCE {
        return None;
    }
    let len = u64::from_le_bytes(head[HEADER..HEADER + FRONT_LENGTH].try_into().expect("8 bytes"));
    usize::try_from(len).ok()?.checked_add(HEADER + FRONT_LENGTH)
}

/// The table payload behind a format-6-or-later family tag; a map model's payload is an error.
fn table_payload<T: serde::de::DeserializeOwned>(version: u16, body: &[u8]) -> Result<T> {
    match bincode_options(body.len()).deserialize::<PayloadV6<T, ()>>(body) {
        Ok(PayloadV6::Table(p)) => Ok(p),
        Ok(PayloadV6::Map(_)) => Err(Error::CorruptModel { reason: "this is a map model, not a table model".into() }),
        Err(e) => Err(Error::CorruptModel { reason: format!("format {version} payload: {e}") }),
    }
}

/// The first format version whose networks compute GELU with the f32 erf (ADR 014); earlier
/// ones use the f64 erf, and a model whose network does is written as the version before it.
const F32_GELU_SINCE: u16 = 8;

/// bincode's variant index of `PayloadV6::Map`.
pub(crate) const MAP_TAG: u32 = 1;

/// The variant index at the start of a format-6 payload (which family the model is).
pub(crate) fn payload_tag(body: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(body.get(..4)?.try_into().ok()?))
}

/// Checks the magic and checksum; returns the format version and the payload bytes.
pub(crate) fn read_header(bytes: &[u8]) -> Result<(u16, &[u8])> {
    let corrupt = |reason: String| Error::CorruptModel { reason };
    if bytes.len() < HEADER || &bytes[..4] != MAGIC {
        return Err(corrupt("not a gnsm model (bad magic bytes)".into()));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    let checksum = u64::from_le_bytes(bytes[6..14].try_into().expect("8 bytes"));
    // format 9 on: the checksum covers the front section and its length, which may be all a
    // reader fetched; before: the whole payload
    let (checked, body) = if version >= SECTIONED_SINCE {
        let end = front_length(bytes)
            .ok_or_else(|| corrupt(format!("the model bytes are truncated or damaged ({} bytes, before the front section's length)", bytes.len())))?;
        let checked = bytes.get(HEADER..end).ok_or_else(|| {
            corrupt(format!("the model bytes are truncated or damaged (the front section ends at byte {end}, {} bytes given)", bytes.len()))
        })?;
        (checked, &checked[FRONT_LENGTH..])
    } else {
        (&bytes[HEADER..], &bytes[HEADER..])
    };
    // fuzz builds skip the checksum so that mutated payloads reach the decoder behind it
    if !cfg!(fuzzing) && self::checksum(version, checked) != checksum {
        return Err(corrupt(format!("checksum mismatch ({} payload bytes): the model bytes are truncated or damaged", body.len())));
    }
    Ok((version, body))
}

impl Model {
    /// Serialises the model in the current format version (9: a front section, then the network
    /// weights), or in format 7 when its network computes GELU with the f64 erf (a model read
    /// from formats 1-7): the version is what tells a reader which GELU scores the model as it
    /// was trained.
    pub fn to_bytes(&self) -> Vec<u8> {
        let net = &self.features.network;
        if net.gelu == Gelu::ErfF64 {
            let payload = ModelPayload { base: self.payload_v6(net.params.clone()), warm: self.warm.clone() };
            return write_model_as(&PayloadV6::<&ModelPayload, ()>::Table(&payload), F32_GELU_SINCE - 1);
        }
        assert!(net.is_loaded(), "a model read from its front section is written only after with_network");
        let network: Vec<u8> = net.params.iter().flat_map(|x| x.to_le_bytes()).collect();
        let table = ModelPayload { base: self.payload_v6(Vec::new()), warm: self.warm.clone() };
        let front = ModelPayloadV9 { table: &table, network_crc: crc32fast::hash(&network) };
        write_sections(&PayloadV6::<&ModelPayloadV9<&ModelPayload>, ()>::Table(&front), &network, MODEL_FORMAT_VERSION)
    }

    /// Version 6's payload of this model with these weights (none in format 9's front section).
    fn payload_v6(&self, ema_params: Vec<f32>) -> ModelPayloadV6 {
        ModelPayloadV6 {
            encoder: self.features.encoder.clone(),
            net_config: self.features.network.config,
            fourier: self.features.network.fourier.clone(),
            ema_params,
            head: self.head.clone(),
            frequency: self.features.frequency.clone(),
            pairwise: self.features.pairwise.clone(),
            config: self.config.clone(),
            report: self.report.clone(),
            score_quantiles: self.score_quantiles.clone(),
            blend: self.blend,
            evidence: self.evidence.clone(),
            fast: self.fast.clone(),
        }
    }

    /// Reads a model written by any released format version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        match Model::from_front(bytes)? {
            ModelRead::Complete(m) => Ok(m),
            ModelRead::Front(_, at) => Err(Error::CorruptModel {
                reason: format!(
                    "the model bytes are truncated or damaged (the network section needs bytes {} to {}, {} given)",
                    at.offset,
                    at.offset + at.len,
                    bytes.len()
                ),
            }),
        }
    }

    /// Reads a model from its first bytes: from format 9, the front section (`front_length` bytes)
    /// is enough for a model that scores without its network (stored warm scores, the fast
    /// scorer, percentiles, thresholds); the network section is then added by `with_network`.
    /// Earlier formats must be given whole and come back complete.
    pub fn from_front(bytes: &[u8]) -> Result<ModelRead> {
        let corrupt = |reason: String| Error::CorruptModel { reason };
        let (version, body) = read_header(bytes)?;
        if version > MODEL_FORMAT_VERSION {
            return Err(corrupt(format!(
                "model format version {version} is newer than this build reads (up to {MODEL_FORMAT_VERSION}); upgrade the gnsm extension"
            )));
        }
        if version >= 6 && payload_tag(body) == Some(MAP_TAG) {
            return Err(corrupt("this is a map model, not a table model".into()));
        }
        if version < SECTIONED_SINCE {
            let (mut p, warm): (ModelPayloadV6, WarmScores) = match version {
                // format 8 = format 7's payload; the version says the network's GELU is the f32 one
                7 | 8 => table_payload::<ModelPayload>(version, body).map(|p| (p.base, p.warm))?,
                6 => (table_payload::<ModelPayloadV6>(6, body)?, WarmScores::default()),
                v => (Self::payload_before_6(v, body)?, WarmScores::default()),
            };
            let network = Network::from_parts(p.net_config, p.fourier.clone(), std::mem::take(&mut p.ema_params))
                .ok_or_else(|| corrupt("network weights do not match its shape".into()))?;
            return Model::assemble(version, p, warm, network).map(ModelRead::Complete);
        }
        let ModelPayloadV9 { table: ModelPayload { base: p, warm }, network_crc: crc } = table_payload::<ModelPayloadV9>(version, body)?;
        if !p.ema_params.is_empty() {
            return Err(corrupt("weights in the front section, where format 9 keeps none".into()));
        }
        let network = Network::unloaded(p.net_config, p.fourier.clone()).ok_or_else(|| corrupt("network shape is invalid".into()))?;
        let at = NetworkSection {
            offset: front_length(bytes).expect("read_header checked the front section"),
            len: network.n_params() * 4,
            crc,
        };
        let front = Model::assemble(version, p, warm, network)?;
        match bytes.len().cmp(&(at.offset + at.len)) {
            std::cmp::Ordering::Less => Ok(ModelRead::Front(front, at)),
            std::cmp::Ordering::Equal => front.with_network(&at, &bytes[at.offset..]).map(ModelRead::Complete),
            std::cmp::Ordering::Greater => Err(corrupt(format!("{} bytes after the network section", bytes.len() - at.offset - at.len))),
        }
    }

    /// This front-section model completed with its network section's bytes (checked against the
    /// length and checksum the front recorded).
    pub fn with_network(&self, at: &NetworkSection, section: &[u8]) -> Result<Model> {
        let corrupt = |reason: String| Error::CorruptModel { reason };
        if section.len() != at.len {
            return Err(corrupt(format!("the network section has {} bytes, the front section says {}", section.len(), at.len)));
        }
        if !cfg!(fuzzing) && crc32fast::hash(section) != at.crc {
            return Err(corrupt("network section checksum mismatch: the model bytes are damaged".into()));
        }
        let params: Vec<f32> = section.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))).collect();
        let network = self.features.network.with_params(params).ok_or_else(|| corrupt("network weights do not match its shape".into()))?;
        let mut model = self.clone();
        model.features = model.features.with_network(network);
        Ok(model)
    }

    /// A model from a decoded table payload (any version) and its network, after checking that
    /// the parts agree (the bytes are untrusted).
    fn assemble(version: u16, p: ModelPayloadV6, warm: WarmScores, mut network: Network) -> Result<Model> {
        let corrupt = |reason: String| Error::CorruptModel { reason };
        let mut encoder = p.encoder;
        encoder.rebuild_indexes();
        if encoder.input_dim() != p.net_config.input_dim {
            return Err(corrupt("vocabulary and network disagree on the input width".into()));
        }
        if p.config.validate().is_err() {
            return Err(corrupt("stored training options are out of range".into()));
        }
        if version < F32_GELU_SINCE {
            // trained with the f64 erf: scoring with it keeps its scores bit for bit
            network.gelu = Gelu::ErfF64;
        }
        if encoder.numeric.iter().any(|c| {
            !(c.mean.is_finite() && c.std.is_finite() && c.std > 0.0 && c.quantiles.iter().all(|q| q.is_finite()))
        }) {
            return Err(corrupt("a numeric column's statistics are not finite".into()));
        }
        let encoder_cols = encoder.columns.len();
        if p.frequency.as_ref().is_some_and(|f| f.n_cols() != encoder_cols) {
            return Err(corrupt("frequency model and vocabulary disagree on the column count".into()));
        }
        let features = FeatureMap::new(encoder, network, p.frequency, p.config.denoise).with_kinds(
            p.config.norm_features,
            p.config.dsm_draws,
            logit_scales(p.config.signal_min, p.config.signal_max),
        );
        if p.pairwise.as_ref().is_some_and(|f| f.n_cols() != encoder_cols || !f.is_valid(&features.block_sizes().to_vec())) {
            return Err(corrupt("pairwise model and vocabulary disagree on the column count".into()));
        }
        let features = features.with_pairwise(p.pairwise);
        if p.head.dim() != features.n_head_features() {
            return Err(corrupt("density head and feature map disagree on the feature count".into()));
        }
        if p.blend.is_some_and(|b| {
            features.frequency.is_none() || ![b.gmm_mean, b.gmm_std, b.indep_mean, b.indep_std].iter().all(|x| x.is_finite())
                || b.gmm_std <= 0.0 || b.indep_std <= 0.0
        }) {
            return Err(corrupt("score blend is invalid or has no frequency model".into()));
        }
        if p.evidence.as_ref().is_some_and(|e| p.blend.is_some() || !e.is_valid(features.n_features())) {
            return Err(corrupt("calibrated evidence terms are invalid".into()));
        }
        if p.fast.as_ref().is_some_and(|f| p.evidence.is_none() || !f.is_valid(&features)) {
            return Err(corrupt("the fast scorer does not fit the model's columns".into()));
        }
        if !warm.is_valid(features.encoder.n_cols(), |r| features.check_codes(r).is_ok()) || warm.scores.iter().any(|s| s.is_nan()) {
            return Err(corrupt("the stored warm scores do not fit the model's columns".into()));
        }
        Ok(Model {
            features,
            head: p.head,
            config: p.config,
            report: p.report,
            score_quantiles: p.score_quantiles,
            blend: p.blend,
            evidence: p.evidence,
            fast: p.fast,
            warm,
        })
    }

    /// The payload of a format version before 6 (no family tag), upgraded to version 6's.
    fn payload_before_6(version: u16, body: &[u8]) -> Result<ModelPayloadV6> {
        let corrupt = |reason: String| Error::CorruptModel { reason };
        Ok(match version {
            5 => bincode_options(body.len()).deserialize(body).map_err(|e| corrupt(format!("format 5 payload: {e}")))?,
            4 => bincode_options(body.len())
                .deserialize::<ModelPayloadV4>(body)
                .map_err(|e| corrupt(format!("format 4 payload: {e}")))?
                .upgrade(),
            3 => bincode_options(body.len())
                .deserialize::<ModelPayloadV4<EncoderV3>>(body)
                .map_err(|e| corrupt(format!("format 3 payload: {e}")))?
                .upgrade()
                .upgrade(),
            2 => bincode_options(body.len())
                .deserialize::<ModelPayloadOld<TrainConfigV2>>(body)
                .map_err(|e| corrupt(format!("format 2 payload: {e}")))?
                .upgrade(TrainConfigV2::upgrade)
                .upgrade()
                .upgrade(),
            1 => bincode_options(body.len())
                .deserialize::<ModelPayloadOld<TrainConfigV1>>(body)
                .map_err(|e| corrupt(format!("format 1 payload: {e}")))?
                .upgrade(TrainConfigV1::upgrade)
                .upgrade()
                .upgrade(),
            v => {
                return Err(corrupt(format!(
                    "model format version {v} is newer than this build reads (up to {MODEL_FORMAT_VERSION}); upgrade the gnsm extension"
                )))
            }
        })
    }
}
