//! The network: smoltcp over the LAN9118, one TCP socket, exposed to `b2-transport-esp` as
//! a blocking [`Connector`] (an `embedded-io` byte stream with timeouts).
//!
//! QEMU's user-mode network is restricted (`restrict=on`): the only peer is the `guestfwd`
//! address [`GATEWAY_FWD`], which QEMU connects to b2-sim on the host's loopback. Every
//! connection goes there, whatever host the URL names; the request's `Host` header still
//! says what the URL says.

use b2_core::http::TransportError;
use b2_transport_esp::Connector;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet, SocketStorage};
use smoltcp::socket::tcp;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr, Ipv4Address};

use crate::clock;
use crate::lan9118::Lan9118;

/// The board's address on QEMU's user network.
pub const OWN_IP: Ipv4Address = Ipv4Address::new(10, 0, 2, 15);
/// QEMU's user-network gateway.
pub const GATEWAY: Ipv4Address = Ipv4Address::new(10, 0, 2, 2);
/// The `guestfwd` address QEMU forwards to b2-sim (port 80).
pub const GATEWAY_FWD: Ipv4Address = Ipv4Address::new(10, 0, 2, 100);

/// TCP receive buffer: the window stays within the LAN9118's RX FIFO (about 10 KiB).
pub const TCP_RX: usize = 4096;
/// TCP send buffer: bytes in flight while a part streams.
pub const TCP_TX: usize = 16384;

/// Inactivity limit of a read, a write or a connect.
const IO_TIMEOUT_MS: u64 = 30_000;

/// The socket set's storage (not all zero, so it lives in `.data`).
pub struct NetStorage {
    /// Socket slots.
    pub sockets: [SocketStorage<'static>; 1],
}

impl NetStorage {
    /// Empty storage (for a `static`).
    pub const fn new() -> Self {
        NetStorage {
            sockets: [SocketStorage::EMPTY],
        }
    }
}

/// The TCP socket's buffers (zeroed: `.bss`).
pub struct TcpBuffers {
    /// Receive buffer.
    pub rx: [u8; TCP_RX],
    /// Send buffer.
    pub tx: [u8; TCP_TX],
}

impl TcpBuffers {
    /// Zeroed buffers (for a `static`).
    pub const fn new() -> Self {
        TcpBuffers {
            rx: [0; TCP_RX],
            tx: [0; TCP_TX],
        }
    }
}

/// A stream error for `embedded-io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetError(pub embedded_io::ErrorKind);

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl core::error::Error for NetError {}

impl embedded_io::Error for NetError {
    fn kind(&self) -> embedded_io::ErrorKind {
        self.0
    }
}

/// The interface, the device, the socket set and the one TCP socket.
pub struct Net {
    /// The Ethernet controller.
    pub dev: Lan9118,
    iface: Interface,
    sockets: SocketSet<'static>,
    tcp: SocketHandle,
    next_port: u16,
    /// Connections opened.
    pub connects: u32,
}

fn now() -> Instant {
    Instant::from_millis(clock::now_ms() as i64)
}

impl Net {
    /// Brings the interface up with a static address on QEMU's user network.
    pub fn new(
        mut dev: Lan9118,
        storage: &'static mut NetStorage,
        bufs: &'static mut TcpBuffers,
    ) -> Self {
        let mac = EthernetAddress(dev.mac());
        let mut cfg = Config::new(HardwareAddress::Ethernet(mac));
        cfg.random_seed = u64::from(clock::now_ms() as u32) ^ 0x5eed_b2b2;
        let mut iface = Interface::new(cfg, &mut dev, now());
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(OWN_IP), 24));
        });
        let _ = iface.routes_mut().add_default_ipv4_route(GATEWAY);
        let TcpBuffers { rx, tx } = bufs;
        let mut set = SocketSet::new(&mut storage.sockets[..]);
        let mut sock = tcp::Socket::new(
            tcp::SocketBuffer::new(&mut rx[..]),
            tcp::SocketBuffer::new(&mut tx[..]),
        );
        sock.set_nagle_enabled(false);
        sock.set_timeout(Some(Duration::from_secs(60)));
        let tcp = set.add(sock);
        Net {
            dev,
            iface,
            sockets: set,
            tcp,
            next_port: 49152 + (clock::now_ms() % 1000) as u16,
            connects: 0,
        }
    }

    /// Lets smoltcp move frames; returns whether anything happened.
    fn poll(&mut self) -> bool {
        let r = self.iface.poll(now(), &mut self.dev, &mut self.sockets);
        r == smoltcp::iface::PollResult::SocketStateChanged
    }

    fn sock(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.tcp)
    }

    /// Waits a little when nothing happened (the SysTick wakes the core every ms).
    fn idle(&mut self, busy: bool) {
        if !busy {
            cortex_m::asm::wfi();
        }
    }
}

impl embedded_io::ErrorType for Net {
    type Error = NetError;
}

impl embedded_io::Read for Net {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, NetError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = clock::now_ms() + IO_TIMEOUT_MS;
        loop {
            let busy = self.poll();
            let s = self.sock();
            if s.can_recv() {
                return s
                    .recv_slice(buf)
                    .map_err(|_| NetError(embedded_io::ErrorKind::ConnectionReset));
            }
            if !s.may_recv() {
                // The peer closed (FIN) or reset the connection: end of stream.
                return Ok(0);
            }
            if clock::now_ms() > deadline {
                return Err(NetError(embedded_io::ErrorKind::TimedOut));
            }
            self.idle(busy);
        }
    }
}

impl embedded_io::Write for Net {
    fn write(&mut self, buf: &[u8]) -> Result<usize, NetError> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = clock::now_ms() + IO_TIMEOUT_MS;
        loop {
            let s = self.sock();
            if s.can_send() {
                let n = s
                    .send_slice(buf)
                    .map_err(|_| NetError(embedded_io::ErrorKind::BrokenPipe))?;
                if n > 0 {
                    self.poll();
                    return Ok(n);
                }
            }
            if !s.may_send() {
                return Err(NetError(embedded_io::ErrorKind::BrokenPipe));
            }
            let busy = self.poll();
            if clock::now_ms() > deadline {
                return Err(NetError(embedded_io::ErrorKind::TimedOut));
            }
            self.idle(busy);
        }
    }

    fn flush(&mut self) -> Result<(), NetError> {
        self.poll();
        Ok(())
    }
}

impl Connector for Net {
    fn connect(&mut self, _host: &str, _port: u16, tls: bool) -> Result<(), TransportError> {
        if tls {
            // No TLS on the emulated board: b2-sim speaks plain HTTP.
            return Err(TransportError::Unsupported);
        }
        self.close();
        self.next_port = if self.next_port >= 65000 {
            49152
        } else {
            self.next_port + 1
        };
        let port = self.next_port;
        let cx = self.iface.context();
        let s = self.sockets.get_mut::<tcp::Socket>(self.tcp);
        s.connect(cx, (IpAddress::Ipv4(GATEWAY_FWD), 80), port)
            .map_err(|_| TransportError::Connect)?;
        self.connects += 1;
        let deadline = clock::now_ms() + IO_TIMEOUT_MS;
        loop {
            let busy = self.poll();
            match self.sock().state() {
                tcp::State::Established => return Ok(()),
                tcp::State::Closed | tcp::State::TimeWait => return Err(TransportError::Connect),
                _ => {}
            }
            if clock::now_ms() > deadline {
                self.sock().abort();
                self.poll();
                return Err(TransportError::Connect);
            }
            self.idle(busy);
        }
    }

    fn close(&mut self) {
        let s = self.sock();
        if s.is_open() {
            s.abort();
            self.poll();
        }
    }
}
