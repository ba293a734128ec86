//! Data shared by the integration tests that train small table models.

/// 300 rows over a few repeated patterns plus rows that occur once.
pub fn rows() -> Vec<Vec<Option<String>>> {
    (0..300)
        .map(|i| {
            let a = format!("a{}", i % 3);
            let b = format!("b{}", (i % 3 + i % 2) % 4);
            let c = if i % 50 == 0 { format!("c_once_{i}") } else { format!("c{}", i % 2) };
            vec![Some(a), Some(b), Some(c)]
        })
        .collect()
}
