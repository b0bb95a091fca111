//! Reaping the app's orphans when bindery is process 1 of its PID namespace,
//! as a container image's entrypoint is.
//!
//! A process whose parent exits is handed to process 1: a worker the app's
//! server left behind, the grandchild of a double fork, what a `sh -c` line
//! started in the background. When it exits, it stays a zombie,
//! holding its pid, until its parent collects its exit status; an init
//! system does that for every process, and in a container image bindery is
//! that init. Without a PID namespace of its own, bindery is not process 1
//! and the orphans go to the real init, which reaps them: nothing runs then.
//!
//! The app is a child of bindery too, and its exit status is for its own
//! watcher (the [`tokio::process::Child`] in [`AppProcess`](super::AppProcess)),
//! which observes the app's exit through it. So each exited child is looked
//! at first without being collected (`waitid` with `WNOWAIT`), and collected
//! only if it is not the app. That look shows one exited child at a time,
//! and the app, once exited, would hide the orphans behind it: the reaper
//! then waits until the app's watcher has collected it, and goes on.

use nix::errno::Errno;
use nix::sys::wait::{Id, WaitPidFlag, waitid, waitpid};
use nix::unistd::{Pid, getpid};
use tokio::signal::unix::{SignalKind, signal};
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use super::AppExit;

/// Collects the exit of every child but the app, while it is held.
#[derive(Debug)]
pub(super) struct OrphanReaper(JoinHandle<()>);

impl OrphanReaper {
    /// Starts reaping if this process is process 1, `None` otherwise. `app`
    /// is the one child whose exit is left to `app_exit`'s watcher; no other
    /// child of this process may be waited for by anyone else. Must be called
    /// within a Tokio runtime.
    pub(super) fn start_if_init(app: Pid, mut app_exit: AppExit) -> Option<Self> {
        if getpid() != Pid::from_raw(1) {
            return None;
        }
        let mut exits = match signal(SignalKind::child()) {
            Ok(exits) => exits,
            Err(e) => {
                warn!(error = %e, "bindery is process 1 but cannot watch for exited children; orphans stay zombies");
                return None;
            }
        };
        debug!("bindery is process 1: it reaps the app's orphans");
        Some(Self(tokio::spawn(async move {
            loop {
                if reap_all_but(app) == Reaped::UpToApp {
                    // The app has exited; its watcher collects it at once.
                    app_exit.wait().await;
                    continue;
                }
                // One SIGCHLD may stand for several exits: each wake-up reaps all.
                if exits.recv().await.is_none() {
                    return;
                }
            }
        })))
    }
}

impl Drop for OrphanReaper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Reaped {
    /// No exited child is left but, perhaps, the app.
    All,
    /// The app has exited and is not collected yet; children listed after
    /// it cannot be seen until it is.
    UpToApp,
}

/// Collects every exited child, up to the app.
fn reap_all_but(app: Pid) -> Reaped {
    let peek = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    loop {
        let child = match waitid(Id::All, peek) {
            Ok(status) => status.pid(),
            Err(Errno::EINTR) => continue,
            // ECHILD: no children at all.
            Err(_) => None,
        };
        match child {
            None => return Reaped::All,
            Some(pid) if pid == app => return Reaped::UpToApp,
            Some(pid) => match waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(status) => debug!(pid = pid.as_raw(), ?status, "reaped an orphan"),
                Err(Errno::EINTR) => {}
                Err(e) => {
                    warn!(pid = pid.as_raw(), error = %e, "cannot reap an orphan");
                    return Reaped::All;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::process::{Child, Command};
    use std::time::{Duration, Instant};

    use super::*;

    /// `reap_all_but` collects any exited child of this process: run among
    /// the other tests, it would take theirs. So the test runs it in a test
    /// process of its own, which has no child but the two it starts.
    #[test]
    fn collects_every_exited_child_but_the_app() {
        let name = format!("{}::in_a_process_of_its_own", module_path!().split_once("::").unwrap().1);
        let run = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &name, "--ignored", "--test-threads=1"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(run.status.success(), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
        assert!(stdout.contains("test result: ok. 1 passed"), "{stdout}");
    }

    fn is_zombie(child: &Child) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap_or_default();
        stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z'))
    }

    fn exited(command: &str) -> Child {
        let child = Command::new("sh").args(["-c", command]).spawn().unwrap();
        let give_up = Instant::now() + Duration::from_secs(10);
        while !is_zombie(&child) {
            assert!(Instant::now() < give_up, "`sh -c {command:?}` did not exit");
            std::thread::sleep(Duration::from_millis(5));
        }
        child
    }

    #[test]
    #[ignore = "run by collects_every_exited_child_but_the_app, in a process of its own"]
    fn in_a_process_of_its_own() {
        let mut app = exited("exit 3");
        let mut orphan = exited("exit 0");
        let app_pid = Pid::from_raw(i32::try_from(app.id()).unwrap());

        // Whichever is seen first, the app stays: it hides the other until collected.
        assert_eq!(reap_all_but(app_pid), Reaped::UpToApp);
        assert_eq!(app.wait().unwrap().code(), Some(3), "the app's exit is still its watcher's");

        assert_eq!(reap_all_but(app_pid), Reaped::All);
        let taken = orphan.try_wait().expect_err("the other child was not reaped");
        assert_eq!(taken.raw_os_error(), Some(Errno::ECHILD as i32), "{taken}");
        assert_eq!(reap_all_but(app_pid), Reaped::All, "no children left");
    }
}
