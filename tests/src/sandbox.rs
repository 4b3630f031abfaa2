//! The built-in SCIM target (`provisio-sandbox`) served on 127.0.0.1 by the
//! test process itself, with a bearer token, stopped when dropped. Tests
//! read what it holds from its snapshot and count the requests it received.

/// A running in-process sandbox.
pub struct InProcessSandbox {
    runtime: tokio::runtime::Runtime,
    sandbox: Option<provisio_sandbox::Sandbox>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl InProcessSandbox {
    /// Serve on a free port, requiring `token`.
    pub fn start(token: &str) -> InProcessSandbox {
        Self::start_with(token, provisio_sandbox::Modes::default())
    }

    /// Serve a forgiving target: a second user with a taken userName is
    /// created, not refused (`Modes::accept_duplicate_user_names`).
    pub fn start_forgiving(token: &str) -> InProcessSandbox {
        Self::start_with(token, provisio_sandbox::Modes { accept_duplicate_user_names: true })
    }

    /// Serve on a free port, requiring `token`, in `modes`.
    pub fn start_with(token: &str, modes: provisio_sandbox::Modes) -> InProcessSandbox {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = provisio_sandbox::SandboxConfig { bearer_token: Some(token.into()), modes, ..Default::default() };
        let sandbox = runtime
            .block_on(provisio_sandbox::serve(config, async {
                let _ = stopped.await;
            }))
            .expect("start the sandbox");
        InProcessSandbox { runtime, sandbox: Some(sandbox), stop: Some(stop) }
    }

    fn sandbox(&self) -> &provisio_sandbox::Sandbox {
        self.sandbox.as_ref().expect("running until dropped")
    }

    /// The SCIM base URL (`http://127.0.0.1:PORT/scim/v2`).
    pub fn base_url(&self) -> String {
        self.sandbox().base_url().to_owned()
    }

    /// The users it holds, as SCIM resources.
    pub fn users(&self) -> Vec<serde_json::Value> {
        self.sandbox().snapshot()["Users"].as_array().cloned().unwrap_or_default()
    }

    /// The userNames it holds, sorted.
    pub fn user_names(&self) -> Vec<String> {
        let mut names: Vec<String> =
            self.users().iter().filter_map(|u| u["userName"].as_str().map(str::to_owned)).collect();
        names.sort();
        names
    }

    /// POST, PUT, PATCH and DELETE requests received so far.
    pub fn writes(&self) -> u64 {
        let c = self.sandbox().request_count();
        c.post + c.put + c.patch + c.delete
    }
}

impl Drop for InProcessSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(sandbox) = self.sandbox.take() {
            let _ = self.runtime.block_on(sandbox.wait());
        }
    }
}
