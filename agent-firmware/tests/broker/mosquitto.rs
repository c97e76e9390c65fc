//! A mosquitto process of its own for each test: mTLS on a free loopback port, config and
//! certificates in a temp dir, killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub struct Mosquitto {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
    config: PathBuf,
}

/// The mosquitto binary: `FLEETID_MOSQUITTO` (set by scripts/test), else the Debian path.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("FLEETID_MOSQUITTO") {
        return PathBuf::from(path);
    }
    let debian = PathBuf::from("/usr/sbin/mosquitto");
    assert!(
        debian.exists(),
        "mosquitto not found: run the tests through scripts/test, which installs mosquitto and \
         sets FLEETID_MOSQUITTO, or set FLEETID_MOSQUITTO to a mosquitto binary"
    );
    debian
}

fn spawn(config: &std::path::Path, dir: &std::path::Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("mosquitto.log"))
        .expect("log");
    Command::new(binary())
        .arg("-c")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting mosquitto")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

impl Mosquitto {
    /// Starts mosquitto requiring client certificates signed by `ca_pem` and not revoked by
    /// `crl_pem`.
    pub fn start(ca_pem: &str, server_cert_pem: &str, server_key_pem: &str, crl_pem: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path
        };
        let ca = write("ca.pem", ca_pem);
        let cert = write("server.pem", server_cert_pem);
        let key = write("server.key", server_key_pem);
        let crl = write("crl.pem", crl_pem);
        let port = free_port();
        let config = write(
            "mosquitto.conf",
            &format!(
                "persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\n\
                 listener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
                 crlfile {}\nrequire_certificate true\nuse_identity_as_username true\n",
                ca.display(),
                cert.display(),
                key.display(),
                crl.display()
            ),
        );
        let child = spawn(&config, dir.path());
        let broker = Self {
            child,
            port,
            dir,
            config,
        };
        broker.wait_ready();
        broker
    }

    /// Replaces one of the broker's files (`crl.pem`, `server.pem`, `server.key`, `ca.pem`).
    pub fn replace_file(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("write broker file");
    }

    /// Restarts the broker on the same port with its current files: every client is
    /// disconnected and reconnects through the new CRL and server certificate.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(&self.config, self.dir.path());
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {} within 30 s: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
