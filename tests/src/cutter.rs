//! A TCP proxy between an instance and PostgreSQL that cuts the connection at the Nth
//! statement the instance sends (a simple query or an `Execute`, counted over every connection
//! through it), before the server sees it or just after: a network failure, a failover, an
//! operator's `pg_terminate_backend`, at the worst moment. The connections it serves speak
//! PostgreSQL's protocol in the clear (it answers `N` to a request for TLS, as a server
//! without TLS does), so that it can count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Where the cut falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The statement never reaches the server.
    Before,
    /// The server receives (and runs) it; its answer never reaches the instance.
    After,
}

/// When to cut: counts every statement, and cuts at the one armed for.
#[derive(Debug, Default)]
pub struct CutPlan {
    statements: AtomicU64,
    commits: AtomicU64,
    cut_at: AtomicU64,
    /// Count only `COMMIT`s towards `cut_at`.
    commit_only: AtomicBool,
    after: AtomicBool,
    fired: AtomicBool,
}

impl CutPlan {
    /// From now on, cuts the connection at the `nth` statement (1 for the next; 0 for none),
    /// as `cut` says. Counting starts again.
    pub fn arm(&self, nth: u64, cut: Cut) {
        self.arm_counting(nth, cut, false);
    }

    /// From now on, cuts the connection at the `nth` `COMMIT` (its answer lost, with
    /// [`Cut::After`]: the server commits, the instance never hears so).
    pub fn arm_commit(&self, nth: u64, cut: Cut) {
        self.arm_counting(nth, cut, true);
    }

    fn arm_counting(&self, nth: u64, cut: Cut, commit_only: bool) {
        self.fired.store(false, Ordering::SeqCst);
        self.statements.store(0, Ordering::SeqCst);
        self.commits.store(0, Ordering::SeqCst);
        self.after.store(cut == Cut::After, Ordering::SeqCst);
        self.commit_only.store(commit_only, Ordering::SeqCst);
        self.cut_at.store(nth, Ordering::SeqCst);
    }

    /// `COMMIT`s since the plan was last armed.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::SeqCst)
    }

    /// Statements since the plan was last armed.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }

    /// Whether the armed cut happened.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }
}

/// The proxy; stops when dropped.
pub struct Cutter {
    addr: SocketAddr,
    plan: Arc<CutPlan>,
    task: JoinHandle<()>,
}

impl Drop for Cutter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Cutter {
    /// A proxy on a free port of 127.0.0.1 to the server at `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let plan = Arc::new(CutPlan::default());
        let shared = Arc::clone(&plan);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(relay(client, upstream, Arc::clone(&shared)));
            }
        });
        Ok(Cutter { addr, plan, task })
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its plan.
    pub fn plan(&self) -> &Arc<CutPlan> {
        &self.plan
    }
}

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;

/// One connection: the startup in the clear, then message by message towards the server,
/// and bytes as they come towards the client.
async fn relay(mut client: TcpStream, upstream: SocketAddr, plan: Arc<CutPlan>) {
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    // Messages go one by one: without this, each would wait for the last one's ACK.
    let _ = server.set_nodelay(true);
    let _ = client.set_nodelay(true);
    // The startup packet, after declining TLS and GSS encryption.
    let startup = loop {
        let mut head = [0u8; 8];
        if client.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        if len == 8 && (code == SSL_REQUEST || code == GSSENC_REQUEST) {
            if client.write_all(b"N").await.is_err() {
                return;
            }
            continue;
        }
        let mut rest = vec![0u8; len.saturating_sub(8)];
        if client.read_exact(&mut rest).await.is_err() {
            return;
        }
        break [head.to_vec(), rest].concat();
    };
    if server.write_all(&startup).await.is_err() {
        return;
    }
    let (mut server_read, mut server_write) = server.into_split();
    let (mut client_read, mut client_write) = client.into_split();
    let answers = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    loop {
        let mut head = [0u8; 5];
        if client_read.read_exact(&mut head).await.is_err() {
            break;
        }
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut message = head.to_vec();
        message.resize(1 + len.max(4), 0);
        if client_read.read_exact(&mut message[5..]).await.is_err() {
            break;
        }
        let statement = matches!(head[0], b'Q' | b'E');
        let commit = head[0] == b'Q' && message[5..].to_ascii_uppercase().starts_with(b"COMMIT");
        let cut = statement && {
            let n = plan.statements.fetch_add(1, Ordering::SeqCst) + 1;
            let c = plan.commits.fetch_add(u64::from(commit), Ordering::SeqCst) + 1;
            if plan.commit_only.load(Ordering::SeqCst) {
                commit && c == plan.cut_at.load(Ordering::SeqCst)
            } else {
                n == plan.cut_at.load(Ordering::SeqCst)
            }
        };
        if cut {
            plan.fired.store(true, Ordering::SeqCst);
            // Nothing more reaches the instance.
            answers.abort();
            if plan.after.load(Ordering::SeqCst) {
                // The server takes the statement in (and runs it) before the line goes dark.
                let _ = server_write.write_all(&message).await;
                let _ = server_write.flush().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            break;
        }
        if server_write.write_all(&message).await.is_err() {
            break;
        }
    }
    answers.abort();
}
