//! ESP32-C3 firmware: joins Wi-Fi, then runs the same device job as the host example
//! `sensor_stream` (`b2-sensor-logic`) over `b2-transport-esp` and ESP-IDF's HTTPS client
//! (`EspHttpConnection` with the certificate bundle): a 64 MiB "NAS file" streamed as a
//! large file and sensor readings (simulated, no hardware needed) as small objects.
//!
//! Build-time configuration (environment variables when running `cargo build`):
//! `WIFI_SSID`, `WIFI_PASS`, `B2_KEY_ID`, `B2_KEY` (a key restricted to one bucket with
//! `writeFiles`), optional `B2_REALM` (default `production`) and `B2_NAS_SIZE` (bytes).

use std::time::{Duration, Instant};

use b2_core::driver::Clock;
use b2_sensor_logic::{run_device, Buffers, Config, BODY_BUFFER};
use b2_transport_esp::EspTransport;
use esp_idf_svc::eventloop::EspSystemEventLoop;
use esp_idf_svc::hal::peripherals::Peripherals;
use esp_idf_svc::http::client::{Configuration as HttpConfiguration, EspHttpConnection};
use esp_idf_svc::nvs::EspDefaultNvsPartition;
use esp_idf_svc::wifi::{AuthMethod, BlockingWifi, ClientConfiguration, Configuration, EspWifi};

const WIFI_SSID: &str = env!("WIFI_SSID");
const WIFI_PASS: &str = env!("WIFI_PASS");
const B2_KEY_ID: &str = env!("B2_KEY_ID");
const B2_KEY: &str = env!("B2_KEY");
const B2_REALM: Option<&str> = option_env!("B2_REALM");
const B2_NAS_SIZE: Option<&str> = option_env!("B2_NAS_SIZE");

/// Monotonic milliseconds and real sleeps (FreeRTOS delays under `std::thread::sleep`).
struct DeviceClock(Instant);

impl Clock for DeviceClock {
    fn now_ms(&mut self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    fn sleep_until_ms(&mut self, until_ms: u64) {
        let now = self.now_ms();
        if until_ms > now {
            std::thread::sleep(Duration::from_millis(until_ms - now));
        }
    }
}

fn connect_wifi(wifi: &mut BlockingWifi<EspWifi<'static>>) -> anyhow::Result<()> {
    wifi.set_configuration(&Configuration::Client(ClientConfiguration {
        ssid: WIFI_SSID.try_into().map_err(|_| anyhow::anyhow!("SSID too long"))?,
        password: WIFI_PASS.try_into().map_err(|_| anyhow::anyhow!("password too long"))?,
        auth_method: AuthMethod::WPA2Personal,
        ..Default::default()
    }))?;
    wifi.start()?;
    wifi.connect()?;
    wifi.wait_netif_up()?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    esp_idf_svc::sys::link_patches();
    esp_idf_svc::log::EspLogger::initialize_default();

    let peripherals = Peripherals::take()?;
    let sys_loop = EspSystemEventLoop::take()?;
    let nvs = EspDefaultNvsPartition::take()?;
    let mut wifi = BlockingWifi::wrap(
        EspWifi::new(peripherals.modem, sys_loop.clone(), Some(nvs))?,
        sys_loop,
    )?;
    connect_wifi(&mut wifi)?;
    log::info!("Wi-Fi up: {:?}", wifi.wifi().sta_netif().get_ip_info()?);

    let http = HttpConfiguration {
        crt_bundle_attach: Some(esp_idf_svc::sys::esp_crt_bundle_attach),
        buffer_size: Some(2048),
        buffer_size_tx: Some(1024),
        timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    };
    let cfg = Config {
        key_id: B2_KEY_ID,
        key: B2_KEY,
        realm: B2_REALM.unwrap_or("production"),
        nas_file_size: B2_NAS_SIZE.and_then(|s| s.parse().ok()).unwrap_or(64 << 20),
        nas_file_name: "nas/volume1/backup.img",
        part_size: 5_000_000,
        objects: 20,
        readings_per_object: 40,
    };
    let mut body = [0u8; BODY_BUFFER];
    // A fresh connection for the first exchange and after every failed one (an
    // EspHttpConnection left in its request phase by a failed write must not be reused).
    let mut transport = EspTransport::new(|| EspHttpConnection::new(&http), &mut body);
    // The buffers live in a static-sized box: 2 KiB for the operations, 640 B of digests.
    let mut bufs = Box::new(Buffers::new());
    let started = Instant::now();
    match run_device(&cfg, &mut transport, BODY_BUFFER + 16, &mut DeviceClock(Instant::now()), &mut bufs) {
        Ok(r) => log::info!(
            "done in {:?}: NAS file {} bytes in {} parts, {} sensor objects; {} exchanges, {} transport errors; SDK RAM {} bytes",
            started.elapsed(),
            r.nas_bytes,
            r.nas_parts,
            r.objects,
            r.stats.exchanges,
            r.stats.transport_errors,
            r.ram.large_stream_total()
        ),
        Err(e) => log::error!("B2 job failed: {e}"),
    }
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}
