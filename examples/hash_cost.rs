//! What one password check costs: the median time of an Argon2id check at
//! OWASP's parameters (m=19456 KiB, t=2, p=1, what `hash-password` makes),
//! and of a bcrypt check at cost 10 and 12, on this thread, with Argon2's
//! memory kept from one check to the next as the hashing pool does. `make
//! bench` prints it beside the logins per second the server reached.
//!
//!     cargo run --release --example hash_cost

use std::time::Instant;

use token_server::passwords::Hash;

fn main() {
    let argon2id = Hash::new_argon2id(b"correct horse").unwrap_or(Hash::Argon2id(String::new()));
    // htpasswd -nbBC 10 bob a:b and htpasswd -nbBC 12 cy 'pass word'.
    let bcrypt_10 =
        Hash::Bcrypt("$2y$10$yIwccOJQPMKuTTci/.RYr.3ZSMAX4978DUDCJ6YTeEZ9.KOcn3Zg2".into());
    let bcrypt_12 =
        Hash::Bcrypt("$2y$12$AQtOVrTh..M2GaLI0zjwI.9rohDP4CWJqvfa8WkqXG1Mb8BN6aX66".into());
    let argon2id_ms = median_ms(&argon2id, b"correct horse", 21);
    let bcrypt_10_ms = median_ms(&bcrypt_10, b"a:b", 11);
    let bcrypt_12_ms = median_ms(&bcrypt_12, b"pass word", 5);
    println!("one password check, median, on one core:");
    println!("  Argon2id m=19456 t=2 p=1   {argon2id_ms:7.2} ms");
    println!("  bcrypt cost 10             {bcrypt_10_ms:7.2} ms");
    println!("  bcrypt cost 12             {bcrypt_12_ms:7.2} ms");
    println!(
        "RESULT argon2id_ms={argon2id_ms:.2} bcrypt10_ms={bcrypt_10_ms:.2} bcrypt12_ms={bcrypt_12_ms:.2}"
    );
}

fn median_ms(hash: &Hash, password: &[u8], times: usize) -> f64 {
    let mut memory = Vec::new();
    let mut took: Vec<f64> = (0..times)
        .map(|_| {
            let started = Instant::now();
            assert!(hash.verify_in(password, &mut memory));
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    took.sort_by(f64::total_cmp);
    took[took.len() / 2]
}
