//! Replays one input through the model_decode target's steps with progress output (debugging aid:
//! cargo run --release --example repro -- FILE). Inputs from fuzz runs skip the checksum there;
//! fix it up before replaying here.
use gnsm_core::model::Model;

fn main() {
    let path = std::env::args().nth(1).expect("file");
    let data = std::fs::read(path).unwrap();
    eprintln!("decoding {} bytes", data.len());
    match Model::from_bytes(&data) {
        Err(e) => eprintln!("error: {e}"),
        Ok(m) => {
            eprintln!("decoded: cols {} input_dim {} net {:?} features {}", m.features.encoder.n_cols(), m.features.encoder.input_dim(), m.features.network.config, m.features.n_features());
            gnsm_fuzz::exercise(&m, false);
            eprintln!("exercised");
            let again = Model::from_bytes(&m.to_bytes());
            eprintln!("re-decoded: {}", again.is_ok());
        }
    }
}
