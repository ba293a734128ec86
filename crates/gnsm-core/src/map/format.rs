//! The map model's part of the versioned model format (format 6, `model::format`): the payload
//! behind the `Map` tag, and the checks that turn damaged or inconsistent bytes into
//! `Error::CorruptModel` instead of a panic at scoring time.

use super::config::MapConfig;
use super::input::ClassSet;
use super::model::MapModel;
use super::norm_scale::NormScale;
use super::prior::PixelPrior;
use super::topology::PieceCounts;
use crate::error::{Error, Result};
use crate::model::format::{bincode_options, front_length, payload_tag, read_header, write_model, PayloadV6, MAP_TAG};
use crate::model::Evidence;
use crate::net::conv::{ConvConfig, ConvNet};
use crate::train::TrainReport;
use bincode::Options;
use serde::{Deserialize, Serialize};

/// What a map model stores (format 6).
#[derive(Serialize, Deserialize)]
pub(crate) struct MapPayload {
    config: MapConfig,
    classes: ClassSet,
    net_config: ConvConfig,
    fourier: Vec<f32>,
    ema_params: Vec<f32>,
    prior: PixelPrior,
    topology: PieceCounts,
    norms: NormScale,
    evidence: Evidence,
    report: TrainReport,
    score_quantiles: Vec<f64>,
    columns: Vec<String>,
}

impl MapModel {
    /// Serialises the map model in the current format version.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = MapPayload {
            config: self.config.clone(),
            classes: self.classes,
            net_config: self.net.config.clone(),
            fourier: self.net.fourier.clone(),
            ema_params: self.net.params.clone(),
            prior: self.prior.clone(),
            topology: self.topology.clone(),
            norms: self.norms.clone(),
            evidence: self.evidence.clone(),
            report: self.report.clone(),
            score_quantiles: self.score_quantiles.clone(),
            columns: self.columns.clone(),
        };
        write_model(&PayloadV6::<(), &MapPayload>::Map(&payload))
    }

    /// Reads a map model (format 6 or later); table models and damaged bytes are errors.
    pub fn from_bytes(bytes: &[u8]) -> Result<MapModel> {
        let corrupt = |reason: &str| Error::CorruptModel { reason: reason.to_string() };
        let (version, body) = read_header(bytes)?;
        if version < 6 {
            return Err(corrupt("this is a table model, not a map model"));
        }
        if version > crate::MODEL_FORMAT_VERSION {
            return Err(Error::CorruptModel {
                reason: format!("model format version {version} is newer than this build reads (up to {}); upgrade the gnsm extension", crate::MODEL_FORMAT_VERSION),
            });
        }
        if payload_tag(body) != Some(MAP_TAG) {
            return Err(corrupt("this is a table model, not a map model"));
        }
        // a map model's network is in its front section (format 9 on): nothing may follow it
        if front_length(bytes).is_some_and(|end| end != bytes.len()) {
            return Err(corrupt("bytes after a map model's front section"));
        }
        let p = match bincode_options(body.len()).deserialize::<PayloadV6<(), MapPayload>>(body) {
            Ok(PayloadV6::Map(p)) => p,
            Ok(PayloadV6::Table(())) => return Err(corrupt("this is a table model, not a map model")),
            Err(e) => return Err(Error::CorruptModel { reason: format!("format 6 map payload: {e}") }),
        };
        if p.config.validate().is_err() || p.net_config.validate().is_err() {
            return Err(corrupt("stored map options are out of range"));
        }
        let (c, n) = (&p.net_config, &p.config);
        if c.classes != p.classes.classes || c.height != n.height || c.width != n.width || !(c.cond_channels == 0 || c.cond_channels == super::model::RGB_CHANNELS) {
            return Err(corrupt("map network and options disagree on classes or size"));
        }
        if !p.prior.is_valid(n.height * n.width) || p.prior.classes != c.classes {
            return Err(corrupt("map prior does not fit the model's size"));
        }
        if !p.topology.is_valid(c.classes) || !p.norms.is_valid() || !p.evidence.is_valid(super::features::N_MAP_FEATURES) || p.evidence.terms.len() != 3 {
            return Err(corrupt("map evidence terms are invalid"));
        }
        if p.columns.len() > 2 || p.columns.iter().any(|c| c.is_empty()) {
            return Err(corrupt("map model column names are invalid"));
        }
        let net = ConvNet::from_parts(p.net_config, p.fourier, p.ema_params).ok_or_else(|| corrupt("map network weights do not match its shape"))?;
        Ok(MapModel {
            config: p.config,
            classes: p.classes,
            net,
            prior: p.prior,
            topology: p.topology,
            norms: p.norms,
            evidence: p.evidence,
            report: p.report,
            score_quantiles: p.score_quantiles,
            columns: p.columns,
        })
    }
}
