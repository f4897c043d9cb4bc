//! A TCP proxy between a client and a server (an SDK and a test server, or a test server and its
//! database), to cut connections, refuse new ones and send the client to another server (a restarted
//! one) without touching the servers themselves.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Forwards connections to a target address while up.
pub(crate) struct Proxy {
    /// `http://127.0.0.1:<port>` of the proxy.
    pub(crate) address: String,
    state: Arc<State>,
    task: JoinHandle<()>,
}

struct State {
    target: Mutex<String>,
    up: AtomicBool,
    /// Every open connection ends when this changes.
    cut: watch::Sender<u64>,
}

impl Proxy {
    /// Starts forwarding to `target` (`http://127.0.0.1:<port>` or `127.0.0.1:<port>`).
    pub(crate) async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            target: Mutex::new(host_port(target)),
            up: AtomicBool::new(true),
            cut: watch::Sender::new(0),
        });
        let task = tokio::spawn(accept(listener, state.clone()));
        Proxy {
            address,
            state,
            task,
        }
    }

    /// The port the proxy listens on.
    pub(crate) fn port(&self) -> u16 {
        self.address
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the proxy's address ends with its port")
    }

    /// Ends every open connection and closes new ones at once, as a server that went away.
    pub(crate) fn down(&self) {
        self.state.up.store(false, Ordering::SeqCst);
        self.cut();
    }

    /// Forwards again.
    pub(crate) fn up(&self) {
        self.state.up.store(true, Ordering::SeqCst);
    }

    /// Ends every open connection (new ones are forwarded).
    pub(crate) fn cut(&self) {
        self.state.cut.send_modify(|generation| *generation += 1);
    }

    /// Forwards new connections to `target` from now on.
    pub(crate) fn retarget(&self, target: &str) {
        *self.state.target.lock().unwrap() = host_port(target);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

async fn accept(listener: TcpListener, state: Arc<State>) {
    while let Ok((inbound, _)) = listener.accept().await {
        if !state.up.load(Ordering::SeqCst) {
            drop(inbound);
            continue;
        }
        let target = state.target.lock().unwrap().clone();
        let cut = state.cut.subscribe();
        tokio::spawn(forward(inbound, target, cut));
    }
}

async fn forward(mut inbound: TcpStream, target: String, mut cut: watch::Receiver<u64>) {
    let Ok(mut outbound) = TcpStream::connect(&target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = cut.changed() => {}
    }
}
