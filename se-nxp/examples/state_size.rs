//! Prints the memory one simulated device costs besides its keys: the simulator's state and
//! the driver over it, after a realistic mix of operations.
//!
//! `cargo run -p se-nxp --example state_size`

use std::mem::size_of;

use se_nxp::ObjectId;
use se_nxp::sim::{SimSe05x, SimulatedSe, simulated_se05x};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut se = simulated_se05x(SimulatedSe::new())?;
    let key = ObjectId(0x7000_0001);
    se.generate_p256(key)?;
    se.read_public_key(key)?;
    se.random(2000)?;
    se.sign_sha256_digest(key, &[7; 32])?;
    let simulator = se.link_mut().i2c_mut().state_bytes();
    let driver = size_of::<SimSe05x>() - size_of::<SimulatedSe>() + se.buffer_bytes();
    println!(
        "size_of::<SimulatedSe>()          {} bytes",
        size_of::<SimulatedSe>()
    );
    println!("simulator state incl. buffers     {simulator} bytes");
    println!("driver (Se05x, T=1) incl. buffers {driver} bytes");
    println!(
        "total per device besides keys     {} bytes",
        simulator + driver
    );
    Ok(())
}
