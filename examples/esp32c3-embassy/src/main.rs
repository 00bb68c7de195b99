//! Bare-metal ESP32-C3 firmware: esp-hal, esp-radio Wi-Fi (station, DHCP), embassy-net, and
//! TLS 1.3 by embedded-tls with the server's chain verified up to a pinned CA; the device
//! job runs through `b2_core::driver_async` and `b2-transport-esp`'s `AsyncTransport`:
//! authorize with a bucket-restricted key, stream a generated NAS file as a large file from a
//! re-readable source, upload sensor readings as small objects.
//!
//! Settings are read at build time: `WIFI_SSID`, `WIFI_PASS`, `B2_KEY_ID`, `B2_KEY`,
//! `B2_REALM` (default "production"), `B2_NAS_SIZE` (bytes, default 16 MiB) and `B2_CA_DER`
//! (path of the DER root certificate that signs the B2 endpoints' chains; without it the
//! image builds but refuses every TLS connection).
#![no_std]
#![no_main]
// No alloc in the SDK: errors are returned inline.
#![allow(clippy::result_large_err)]

mod tls;

use core::cell::UnsafeCell;
use core::fmt::Write as _;

use b2_core::driver::RunStats;
use b2_core::driver_async::{run, AsyncClock};
use b2_core::op::{Authorize, FileParams, LargeUpload, Source, UploadFile, UploadUrl};
use b2_core::session::{Credentials, Session};
use b2_sensor_logic::{nas_byte, object_content, object_name, MAX_PARTS, OP_BUFFER};
use b2_transport_esp::asynch::AsyncTransport;
use embassy_executor::Spawner;
use embassy_net::{Runner, StackResources};
use embassy_time::{Duration, Instant, Timer};
use esp_alloc as _;
use esp_backtrace as _;
use esp_hal::clock::CpuClock;
use esp_hal::rng::Rng;
use esp_hal::timer::timg::TimerGroup;
use esp_println::println;
use esp_radio::wifi::sta::StationConfig;
use esp_radio::wifi::{
    AuthenticationMethodConfig, Config, ControllerConfig, Interface, WifiController,
};
use static_cell::StaticCell;

esp_bootloader_esp_idf::esp_app_desc!();

const SSID: &str = match option_env!("WIFI_SSID") {
    Some(s) => s,
    None => "",
};
const PASS: &str = match option_env!("WIFI_PASS") {
    Some(s) => s,
    None => "",
};
const KEY_ID: &str = match option_env!("B2_KEY_ID") {
    Some(s) => s,
    None => "",
};
const KEY: &str = match option_env!("B2_KEY") {
    Some(s) => s,
    None => "",
};
const REALM: &str = match option_env!("B2_REALM") {
    Some(s) => s,
    None => "production",
};
const NAS_SIZE: &str = match option_env!("B2_NAS_SIZE") {
    Some(s) => s,
    None => "16777216",
};
/// The pinned root (DER), from `B2_CA_DER` through build.rs (empty when not given).
static CA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ca.der"));

/// The transport's body buffer.
const BODY_BUFFER: usize = 1024;

static TLS_BUFFERS: StaticCell<UnsafeCell<tls::Buffers>> = StaticCell::new();
static CONNECTOR: StaticCell<tls::TlsConnector> = StaticCell::new();
static RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();

/// The generated NAS file, re-readable at any offset.
struct Nas(u64);

impl Source for Nas {
    fn read_at(&mut self, off: u64, buf: &mut [u8]) -> Result<usize, embedded_io::ErrorKind> {
        let n = self.0.saturating_sub(off).min(buf.len() as u64) as usize;
        for (i, b) in buf.iter_mut().take(n).enumerate() {
            *b = nas_byte(off + i as u64);
        }
        Ok(n)
    }
}

/// embassy-time as the core's async clock.
struct EmbassyClock;

impl AsyncClock for EmbassyClock {
    fn now_ms(&mut self) -> u64 {
        Instant::now().as_millis()
    }
    async fn sleep_until_ms(&mut self, until_ms: u64) {
        Timer::at(Instant::from_millis(until_ms)).await
    }
}

#[esp_rtos::main]
async fn main(spawner: Spawner) -> ! {
    esp_println::logger::init_logger_from_env();
    let p = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::max()));
    // esp-radio's Wi-Fi driver allocates; the SDK itself does not.
    esp_alloc::heap_allocator!(size: 72 * 1024);
    let timg0 = TimerGroup::new(p.TIMG0);
    esp_rtos::start(timg0.timer0, p.FROM_CPU_INTR0);

    let Ok(ssid) = SSID.try_into() else {
        halt("WIFI_SSID is too long").await
    };
    let Ok(pass) = PASS.try_into() else {
        halt("WIFI_PASS is too long").await
    };
    let station = Config::Station(
        StationConfig::default()
            .with_ssid(ssid)
            .with_authentication(AuthenticationMethodConfig::Wpa2Personal(pass)),
    );
    let wifi = Interface::station();
    let controller = match WifiController::new(
        p.WIFI,
        ControllerConfig::default().with_initial_config(station),
    ) {
        Ok(c) => c,
        Err(_) => halt("Wi-Fi did not start").await,
    };
    let rng = Rng::new();
    let seed = (u64::from(rng.random()) << 32) | u64::from(rng.random());
    let (stack, runner) = embassy_net::new(
        wifi,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        seed,
    );
    match (connection(controller), net_task(runner)) {
        (Ok(wifi_task), Ok(net)) => {
            spawner.spawn(wifi_task);
            spawner.spawn(net);
        }
        _ => halt("cannot start the network tasks").await,
    }
    stack.wait_config_up().await;
    if let Some(c) = stack.config_v4() {
        println!("b2: got {}", c.address);
    }

    let connector = CONNECTOR.init(tls::TlsConnector::new(
        stack,
        CA,
        TLS_BUFFERS.init(UnsafeCell::new(tls::Buffers::new())),
    ));
    let mut body = [0u8; BODY_BUFFER];
    let mut transport = AsyncTransport::new(&*connector, &*connector, &mut body).tls_by_connector();
    match job(&mut transport).await {
        Ok(st) => println!(
            "b2: done: {} exchanges, {} transport errors, {} waits",
            st.exchanges, st.transport_errors, st.waits
        ),
        Err(e) => println!("b2: failed: {e}"),
    }
    loop {
        Timer::after(Duration::from_secs(60)).await;
    }
}

/// The device job (the same steps as `b2_sensor_logic::run_device`, on the async driver).
async fn job(
    t: &mut AsyncTransport<'_, '_, tls::TlsConnector, &tls::TlsConnector>,
) -> Result<RunStats, b2_core::Error> {
    let mut stats = RunStats::default();
    let mut clock = EmbassyClock;
    let mut op_buf = [0u8; OP_BUFFER];
    let mut digests = [[0u8; 20]; MAX_PARTS];
    let nas_size: u64 = NAS_SIZE.parse().unwrap_or(16 << 20);
    let mut session = Session::new(Credentials::new(KEY_ID, KEY, REALM)?);
    stats.add(
        &run(
            &mut Authorize::new(&mut session, &mut op_buf),
            t,
            &mut clock,
        )
        .await?,
    );
    let bucket = session
        .allowed
        .bucket_id
        .clone()
        .ok_or(b2_core::Error::Misuse(
            "the key must be restricted to one bucket",
        ))?;
    let params = FileParams::new(&bucket, "nas/volume1/backup.img", nas_size);
    let mut up = LargeUpload::new(
        &mut session,
        &mut op_buf,
        params,
        5_000_000,
        Nas(nas_size),
        &mut digests,
    )?;
    stats.add(&run(&mut up, t, &mut clock).await?);
    drop(up);
    println!("b2: NAS file {} bytes uploaded", nas_size);

    let mut url: Option<UploadUrl> = None;
    let mut content = heapless::String::<2048>::new();
    for n in 0..20 {
        object_content(n, 40, &mut content);
        let name = object_name(n);
        let mut params = FileParams::new(&bucket, &name, content.len() as u64);
        params.content_type = "text/csv";
        let mut op = UploadFile::new(
            &mut session,
            &mut op_buf,
            params,
            content.as_bytes(),
            url.take(),
        )?;
        stats.add(&run(&mut op, t, &mut clock).await?);
        url = op.take_upload_url();
    }
    let mut line = heapless::String::<64>::new();
    let _ = write!(line, "{} sensor objects uploaded", 20);
    println!("b2: {}", line.as_str());
    Ok(stats)
}

async fn halt(why: &str) -> ! {
    println!("b2: {why}");
    loop {
        Timer::after(Duration::from_secs(60)).await;
    }
}

#[embassy_executor::task]
async fn connection(mut controller: WifiController<'static>) {
    loop {
        match controller.connect_async().await {
            Ok(_) => {
                let _ = controller.wait_for_disconnect_async().await;
            }
            Err(e) => println!("b2: Wi-Fi: {e:?}"),
        }
        Timer::after(Duration::from_secs(5)).await;
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: Runner<'static, Interface>) {
    runner.run().await
}
