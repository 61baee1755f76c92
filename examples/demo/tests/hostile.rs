//! The demo binary against clients that hold connections: a half-sent request and an idle
//! connection are dropped after the header timeout, a body trickled a byte a second after
//! the body timeout, 10 000 idle connections cost bounded memory and are dropped too, and a
//! full set of connections delays a newcomer only until they are dropped, instead of
//! shutting it out.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The demo with a 2 s header and request timeout and at most `connections` connections; its
/// address.
fn start(db: &Path, connections: u32) -> (Reaped, String) {
    let mut child = Reaped(
        Command::new(env!("CARGO_BIN_EXE_demo"))
            .env("GUARD_DB", db)
            .env("GUARD_ADDR", "127.0.0.1:0")
            .env("GUARD_ADMIN_SECRET", "a-hostile-test-secret-0123")
            .env("GUARD_HEADER_TIMEOUT_SECONDS", "2")
            .env("GUARD_REQUEST_TIMEOUT_SECONDS", "2")
            .env("GUARD_MAX_CONNECTIONS", connections.to_string())
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stderr = BufReader::new(child.0.stderr.take().unwrap());
    for line in stderr.lines() {
        let line = line.unwrap();
        if let Some((_, addr)) = line.split_once("listening on http://") {
            return (child, addr.trim().to_owned());
        }
    }
    panic!("the demo did not start");
}

/// Seconds until the server closes `stream` (reads until EOF or a reset).
fn seconds_until_closed(mut stream: TcpStream) -> f64 {
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buffer = [0u8; 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return started.elapsed().as_secs_f64(),
            Ok(_) => {}
        }
    }
}

fn get(addr: &str) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn half_sent_and_idle_connections_are_dropped_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, addr) = start(&dir.path().join("g.redb"), 8);
    assert_eq!(get(&addr), 200);

    // Half a request head, then nothing: dropped after the header timeout, not held.
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let held = seconds_until_closed(half);
    assert!((1.5..10.0).contains(&held), "half-sent request held {held:.1} s");

    // A connection that sends nothing at all: the same.
    let idle = TcpStream::connect(&addr).unwrap();
    let held = seconds_until_closed(idle);
    assert!((1.5..10.0).contains(&held), "idle connection held {held:.1} s");

    // Every connection taken by a client that sends nothing: a newcomer waits for them to be
    // dropped, and is then served.
    let hogs: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(get(&addr), 200);
    let waited = started.elapsed().as_secs_f64();
    assert!(waited < 10.0, "served after {waited:.1} s");
    drop(hogs);
}

/// Sends `request` on a fresh connection; the status the server answers, or 0 if it closed the
/// connection without one.
fn send(addr: &str, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The server may answer and close before it has read everything: that is its right.
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn huge_heads_and_bodies_are_refused_and_the_server_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, addr) = start(&dir.path().join("g.redb"), 64);

    // A 1 MB header, and 10 000 headers: refused (431), or the connection closed.
    let big = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(1 << 20));
    assert!([0, 431].contains(&send(&addr, big.as_bytes())), "a 1 MB header");
    let many: String = (0..10_000).map(|n| format!("X-{n}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    assert!([0, 431].contains(&send(&addr, many.as_bytes())), "10 000 headers");

    // A 10 MB body to the admin API: 413 before any of it is believed.
    let body = "x".repeat(10 << 20);
    let post = format!(
        "POST /auth/keys HTTP/1.1\r\nHost: x\r\nX-Admin-Secret: a-hostile-test-secret-0123\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    assert!([0, 413].contains(&send(&addr, post.as_bytes())), "a 10 MB body");

    // Non-UTF-8 in the path, a header and the key: a clear refusal, never a 5xx.
    let odd = b"GET /secure?api-key=\xff\xfe HTTP/1.1\r\nHost: x\r\nX-API-Key: \xff\xfe\r\nConnection: close\r\n\r\n";
    let status = send(&addr, odd);
    assert!((400..500).contains(&status) || status == 0, "non-UTF-8: {status}");

    // And the server still answers everyone else.
    assert_eq!(get(&addr), 200);
}

#[test]
fn a_body_trickled_a_byte_a_second_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, addr) = start(&dir.path().join("g.redb"), 64);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            b"POST /auth/keys HTTP/1.1\r\nHost: x\r\nX-Admin-Secret: a-hostile-test-secret-0123\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .unwrap();
    let started = Instant::now();
    let mut trickle = stream.try_clone().unwrap();
    let trickler = std::thread::spawn(move || {
        for _ in 0..20 {
            std::thread::sleep(Duration::from_secs(1));
            if trickle.write_all(b" ").is_err() {
                return;
            }
        }
    });
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let took = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((2.0..8.0).contains(&took), "cut off after {took:.1} s");
    assert!(status == 0 || status == 408, "{status}: {text}");
    drop(stream);
    let _ = trickler.join();
    // Nothing was created, and the server goes on.
    assert_eq!(get(&addr), 200);
}

/// The resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// How many files this process (and the demo it starts) may open: the soft limit, raised to
/// the hard one.
fn open_file_limit() -> u64 {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if let Some(hard) = limit.maximum {
        let raised = rustix::process::Rlimit { current: Some(hard), maximum: Some(hard) };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            return hard;
        }
    }
    limit.current.unwrap_or(1024)
}

#[test]
fn ten_thousand_idle_connections_cost_bounded_memory_and_are_dropped() {
    // Before the demo starts, which inherits the raised limit.
    let limit = open_file_limit();
    let dir = tempfile::tempdir().unwrap();
    let (demo, addr) = start(&dir.path().join("g.redb"), 12_000);
    // Each end is one process with this limit; leave room for the rest.
    let wanted = 10_000u64.min(limit.saturating_sub(500));
    assert!(wanted >= 900, "too few files may be opened here for this test");
    let before = rss(demo.0.id());
    let idle: Vec<TcpStream> = (0..wanted).map(|_| TcpStream::connect(&addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let held = rss(demo.0.id());
    // Served while they are held.
    assert_eq!(get(&addr), 200);
    let per_connection = held.saturating_sub(before) as f64 / wanted as f64;
    eprintln!(
        "{wanted} idle connections: {:.1} MiB before, {:.1} MiB held, {per_connection:.0} B each",
        before as f64 / 1048576.0,
        held as f64 / 1048576.0
    );
    assert!(per_connection < 16.0 * 1024.0, "{per_connection:.0} B per idle connection");
    // All dropped by the header timeout.
    let started = Instant::now();
    for mut stream in idle {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 1];
        let closed = match stream.read(&mut buf) {
            Ok(n) => n == 0,
            Err(e) => {
                !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
            }
        };
        assert!(closed, "an idle connection is still open");
    }
    assert!(started.elapsed() < Duration::from_secs(8), "dropped in {:?}", started.elapsed());
    assert_eq!(get(&addr), 200);
}
